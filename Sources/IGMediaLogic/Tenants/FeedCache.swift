/// A very short-lived in-process cache of ready-to-send feed bodies, per tenant.
///
/// Bounds (documented in the README): a feed written by a sync is served at most `ttl` late, and
/// a deleted tenant keeps answering for at most `ttl`. Memory is bounded by `maxBytes`, counting
/// both bodies of an entry. Only successful reads are cached; a tenant that does not exist is
/// never cached.
///
/// The gzip body is compressed here, when an entry is stored, outside the lock: the read path
/// only looks up a ready value. A feed stored again unchanged (its entry expired, the store still
/// holds the same version) keeps the gzip body it had, so compression runs once per feed version.
public final class FeedCache: Sendable {
    private struct Entry {
        let feed: ReadyFeed
        let expires: UInt64
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var bytes = 0
    }

    private let state = ReadWriteLocked(State())
    private let ttlNanoseconds: UInt64
    private let maxBytes: Int
    private let clock: any Clock

    public init(ttlMilliseconds: Int, maxBytes: Int = 64 << 20, clock: any Clock = SystemClock()) {
        self.ttlNanoseconds = UInt64(max(0, ttlMilliseconds)) * 1_000_000
        self.maxBytes = maxBytes
        self.clock = clock
    }

    public var isEnabled: Bool { ttlNanoseconds > 0 }

    public func feed(for tenantID: String) -> ReadyFeed? {
        guard isEnabled else { return nil }
        let now = clock.monotonicNanoseconds()
        // Read-only: an expired entry is replaced by the next `store` or dropped when over budget.
        return state.read { state in
            guard let entry = state.entries[tenantID], entry.expires > now else { return nil }
            return entry.feed
        }
    }

    /// Caches the envelope and its gzip body; returns what to send now. Disabled, or for an
    /// entry over a quarter of the budget, nothing is cached and the answer is identity only.
    @discardableResult
    public func store(tenantID: String, body: [UInt8], etag: String?) -> ReadyFeed {
        guard isEnabled, body.count <= maxBytes / 4 else { return ReadyFeed(body: body, etag: etag) }
        let previous = state.read { $0.entries[tenantID]?.feed }
        var feed: ReadyFeed
        if let previous, previous.identity.etag == etag, previous.identity.body == body {
            feed = previous
        } else {
            feed = .compressing(body: body, etag: etag)
        }
        if feed.byteCount > maxBytes / 4 { feed = ReadyFeed(body: body, etag: etag) }
        let now = clock.monotonicNanoseconds()
        let entry = Entry(feed: feed, expires: now + ttlNanoseconds)
        state.write { state in
            if let old = state.entries.updateValue(entry, forKey: tenantID) { state.bytes -= old.feed.byteCount }
            state.bytes += feed.byteCount
            if state.bytes > maxBytes {
                // Over budget: drop what expired, then everything else but this entry.
                state.entries = state.entries.filter { $0.value.expires > now }
                if state.entries.values.reduce(0, { $0 + $1.feed.byteCount }) > maxBytes {
                    state.entries = [tenantID: entry]
                }
                state.bytes = state.entries.values.reduce(0) { $0 + $1.feed.byteCount }
            }
        }
        return feed
    }

    /// Bytes held by every entry, both bodies counted.
    var storedBytes: Int { state.read { $0.bytes } }

    /// Forgets a tenant's entry (this process just wrote a new feed for it).
    public func remove(_ tenantID: String) {
        state.write { state in
            if let old = state.entries.removeValue(forKey: tenantID) { state.bytes -= old.feed.byteCount }
        }
    }
}
