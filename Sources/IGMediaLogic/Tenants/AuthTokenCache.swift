import Synchronization

/// An in-process cache of auth token → tenant id, so a steady stream of GET /photos costs one
/// store round trip instead of two (none with the feed cache).
///
/// Invalidation: entries live `ttlSeconds`, or longer while a `ChangeFollower` runs
/// (`CacheFreshness`): a rotation or a deletion appends the replaced tokens to the change stream
/// and every responder forgets them within one poll. Tenant existence is still checked with the
/// feed, so a deleted tenant answers 404 as soon as its feed entry goes. Unknown tokens are never
/// cached. Memory: at most `capacity` entries of about 250 bytes; past it the least recently
/// used go first.
public final class AuthTokenCache: Sendable {
    private let entries: ClockCache<String>
    private let clock: any Clock
    public let freshness: CacheFreshness
    private let hits = Atomic<Int>(0)
    private let misses = Atomic<Int>(0)

    public init(ttlSeconds: Int, capacity: Int = 200_000, clock: any Clock = SystemClock(), freshness: CacheFreshness? = nil) {
        // Cost per entry: both strings and the fixed overhead; 96 bytes covers a UUID token and id.
        entries = ClockCache(maxBytes: capacity * (ClockCache<String>.entryOverheadBytes + 96))
        self.clock = clock
        self.freshness = freshness ?? CacheFreshness(ttlMilliseconds: max(0, ttlSeconds) * 1000)
    }

    public var isEnabled: Bool { freshness.isEnabled }

    public func tenantID(for token: String) -> String? {
        guard isEnabled else { return nil }
        let now = clock.monotonicNanoseconds()
        guard let stored = entries.get(token, now: now), freshness.isFresh(storedAt: stored.storedAt, now: now) else {
            misses.add(1, ordering: .relaxed)
            return nil
        }
        hits.add(1, ordering: .relaxed)
        return stored.value
    }

    /// Lookups and size, for the metrics (monotonic counts since start).
    public var stats: (hits: Int, misses: Int, entries: Int) {
        (hits.load(ordering: .relaxed), misses.load(ordering: .relaxed), entries.count)
    }

    /// Caches for the cache's lifetime, or for `remainingMilliseconds` when that is shorter: a
    /// rotated-away token in its grace period is never accepted past the grace, not even from the cache.
    public func store(_ tenantID: String, for token: String, remainingMilliseconds: Int? = nil) {
        guard isEnabled else { return }
        let now = clock.monotonicNanoseconds()
        var lifetime = freshness.maxLifetime(now: now)
        if let remaining = remainingMilliseconds { lifetime = min(lifetime, UInt64(max(0, remaining)) * 1_000_000) }
        guard lifetime > 0 else { return }
        entries.set(token, tenantID, cost: max(96, token.utf8.count + tenantID.utf8.count), now: now, expires: now &+ lifetime)
    }

    public func remove(_ token: String) {
        entries.remove(token)
    }

    public func removeAll() {
        entries.removeAll()
    }

    public var count: Int { entries.count }
}
