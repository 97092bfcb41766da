import Synchronization

/// An in-process cache of ready-to-send feed bodies, per tenant.
///
/// Bounds (documented in the README): a feed written by a sync is served at most `ttl` late, or
/// one change-poll interval late while a `ChangeFollower` runs (`CacheFreshness`); a deleted
/// tenant keeps answering for as long. Memory is bounded by `maxBytes`, counting both bodies
/// of an entry and a fixed overhead; past it, the least recently read entries are evicted one by
/// one (`ClockCache`), never all at once and never with an error. Only successful reads are
/// cached; a tenant that does not exist is never cached.
///
/// The gzip body is made the first time a client that accepts gzip reads the entry (or when a
/// gzip request fills it), outside the lock; identity-only clients never pay for it, neither in
/// CPU nor in memory. A feed stored again unchanged keeps the gzip body it had, so compression
/// runs once per feed version.
public final class FeedCache: Sendable {
    private let entries: ClockCache<ReadyFeed>
    private let clock: any Clock
    public let freshness: CacheFreshness
    private let hits = Atomic<Int>(0)
    private let misses = Atomic<Int>(0)
    private let budget: Int

    public init(
        ttlMilliseconds: Int, maxBytes: Int = FeedCache.defaultMaxBytes, clock: any Clock = SystemClock(),
        freshness: CacheFreshness? = nil
    ) {
        self.entries = ClockCache(maxBytes: maxBytes)
        self.budget = maxBytes
        self.clock = clock
        self.freshness = freshness ?? CacheFreshness(ttlMilliseconds: ttlMilliseconds)
    }

    public static let defaultMaxBytes = 256 << 20

    public var isEnabled: Bool { freshness.isEnabled }

    public func feed(for tenantID: String) -> ReadyFeed? {
        guard isEnabled else { return nil }
        let now = clock.monotonicNanoseconds()
        guard let stored = entries.get(tenantID, now: now), freshness.isFresh(storedAt: stored.storedAt, now: now) else {
            misses.add(1, ordering: .relaxed)
            return nil
        }
        hits.add(1, ordering: .relaxed)
        return stored.value
    }

    /// Lookups, evictions and size, for the metrics (monotonic counts since start).
    public struct Stats: Sendable {
        public var hits: Int
        public var misses: Int
        public var evictions: Int
        public var bytes: Int
        public var entries: Int
        public var budget: Int
    }

    public var stats: Stats {
        Stats(
            hits: hits.load(ordering: .relaxed), misses: misses.load(ordering: .relaxed), evictions: entries.evictions,
            bytes: entries.storedBytes, entries: entries.count, budget: isEnabled ? budget : 0)
    }

    /// Caches the envelope (and its gzip body when `gzip` is true); returns what to send now.
    /// Disabled, or for an entry over the cache's per-entry limit, nothing is cached and the
    /// answer is identity only.
    @discardableResult
    public func store(tenantID: String, body: [UInt8], etag: String?, gzip: Bool = true) -> ReadyFeed {
        guard isEnabled, body.count + ClockCache<ReadyFeed>.entryOverheadBytes <= entries.maxEntryCost else {
            return ReadyFeed(body: body, etag: etag)
        }
        let now = clock.monotonicNanoseconds()
        var feed: ReadyFeed
        if let previous = entries.peek(tenantID),
            previous.identity.etag == etag, previous.identity.body == body, previous.hasGzipDecision || !gzip
        {
            feed = previous
        } else {
            feed = gzip ? .compressing(body: body, etag: etag) : .pendingGzip(body: body, etag: etag)
        }
        if feed.byteCount + ClockCache<ReadyFeed>.entryOverheadBytes > entries.maxEntryCost {
            feed = ReadyFeed(body: body, etag: etag)
        }
        entries.set(tenantID, feed, cost: feed.byteCount, now: now, expires: now &+ freshness.maxLifetime(now: now))
        return feed
    }

    /// The entry with its gzip body made now (a gzip client read an identity-only entry).
    public func withGzip(tenantID: String, _ feed: ReadyFeed) -> ReadyFeed {
        store(tenantID: tenantID, body: feed.identity.body, etag: feed.identity.etag, gzip: true)
    }

    /// Bytes held by every entry, both bodies and the per-entry overhead counted.
    var storedBytes: Int { entries.storedBytes }
    public var count: Int { entries.count }
    public var evictions: Int { entries.evictions }

    /// Forgets a tenant's entry (its feed changed, or it was deleted).
    public func remove(_ tenantID: String) {
        entries.remove(tenantID)
    }

    public func removeAll() {
        entries.removeAll()
    }
}
