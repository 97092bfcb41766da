/// A short-lived in-process cache of auth token → tenant id, so a steady stream of GET /photos
/// costs one store round trip instead of two.
///
/// Invalidation: entries expire after `ttlSeconds`. Tenant existence is still checked on every
/// request (in the same round trip as the feed), so a deleted tenant answers 404 at once; only a
/// removed or re-pointed `auth_token:` key keeps resolving for at most `ttlSeconds`. Unknown
/// tokens are never cached.
public final class AuthTokenCache: Sendable {
    private struct Entry {
        let tenantID: String
        let expires: UInt64
    }

    private let entries = ReadWriteLocked<[String: Entry]>([:])
    private let ttlNanoseconds: UInt64
    private let capacity: Int
    private let clock: any Clock

    public init(ttlSeconds: Int, capacity: Int = 50_000, clock: any Clock = SystemClock()) {
        self.ttlNanoseconds = UInt64(max(0, ttlSeconds)) * 1_000_000_000
        self.capacity = capacity
        self.clock = clock
    }

    public var isEnabled: Bool { ttlNanoseconds > 0 }

    public func tenantID(for token: String) -> String? {
        guard isEnabled else { return nil }
        let now = clock.monotonicNanoseconds()
        // Read-only: an expired entry is replaced by the next `store` or dropped when full.
        return entries.read { map in
            guard let entry = map[token], entry.expires > now else { return nil }
            return entry.tenantID
        }
    }

    /// Caches for the TTL, or for `remainingMilliseconds` when that is shorter: a rotated-away
    /// token in its grace period is never accepted past the grace, not even from the cache.
    public func store(_ tenantID: String, for token: String, remainingMilliseconds: Int? = nil) {
        guard isEnabled else { return }
        var ttl = ttlNanoseconds
        if let remaining = remainingMilliseconds { ttl = min(ttl, UInt64(max(0, remaining)) * 1_000_000) }
        guard ttl > 0 else { return }
        let expires = clock.monotonicNanoseconds() + ttl
        entries.write { map in
            if map.count >= capacity {
                // Full: drop expired entries, and everything if that is not enough (bounded memory).
                let now = clock.monotonicNanoseconds()
                map = map.filter { $0.value.expires > now }
                if map.count >= capacity { map.removeAll(keepingCapacity: true) }
            }
            map[token] = Entry(tenantID: tenantID, expires: expires)
        }
    }

    public func remove(_ token: String) {
        entries.write { $0[token] = nil }
    }
}
