/// A very short-lived in-process cache of ready-to-send feed bodies, per tenant.
///
/// Bounds (documented in the README): a feed written by a sync is served at most `ttl` late, and
/// a deleted tenant keeps answering for at most `ttl`. Memory is bounded by `maxBytes`. Only
/// successful reads are cached; a tenant that does not exist is never cached.
public final class FeedCache: Sendable {
    public struct Entry: Sendable {
        /// The whole envelope, `{"success":true,"data":{"photos":[…]}}`.
        public let body: [UInt8]
        public let etag: String?
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

    public func entry(for tenantID: String) -> Entry? {
        guard isEnabled else { return nil }
        let now = clock.monotonicNanoseconds()
        // Read-only: an expired entry is replaced by the next `store` or dropped when over budget.
        return state.read { state in
            guard let entry = state.entries[tenantID], entry.expires > now else { return nil }
            return entry
        }
    }

    public func store(tenantID: String, body: [UInt8], etag: String?) {
        guard isEnabled, body.count <= maxBytes / 4 else { return }
        let now = clock.monotonicNanoseconds()
        let entry = Entry(body: body, etag: etag, expires: now + ttlNanoseconds)
        state.write { state in
            if let old = state.entries.updateValue(entry, forKey: tenantID) { state.bytes -= old.body.count }
            state.bytes += body.count
            if state.bytes > maxBytes {
                // Over budget: drop what expired, then everything else but this entry.
                state.entries = state.entries.filter { $0.value.expires > now }
                if state.entries.values.reduce(0, { $0 + $1.body.count }) > maxBytes {
                    state.entries = [tenantID: entry]
                }
                state.bytes = state.entries.values.reduce(0) { $0 + $1.body.count }
            }
        }
    }

    /// Forgets a tenant's entry (this process just wrote a new feed for it).
    public func remove(_ tenantID: String) {
        state.write { state in
            if let old = state.entries.removeValue(forKey: tenantID) { state.bytes -= old.body.count }
        }
    }
}
