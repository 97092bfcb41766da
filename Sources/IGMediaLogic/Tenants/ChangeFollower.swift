import Logging
import Synchronization

/// Follows the store's change stream (`KeySpace.changes`) and removes what changed from this
/// process's caches, so they can keep entries for `CACHE_MAX_AGE_SECONDS` instead of a second:
/// a feed written by any process (the timer, another host's responder) is served at most one
/// poll interval (plus a store round trip) late.
///
/// Every successful poll renews the caches' lease (`CacheFreshness`) for three intervals. When
/// polls fail, the lease runs out and the caches fall back to their short TTL; the first poll
/// that succeeds after a lapse clears both caches, because the changes missed meanwhile may have
/// been trimmed from the stream.
public final class ChangeFollower: Sendable {
    /// Entries the stream keeps (approximate trim): at 150 syncs a second, about 11 minutes.
    public static let streamLength = 100_000
    static let batch = 1000

    let store: any RedisStore
    let keys: KeySpace
    let feedCache: FeedCache?
    let authCache: AuthTokenCache?
    let intervalNanoseconds: UInt64
    let clock: any Clock
    let logger: Logger
    private let position = Mutex<String?>(nil)
    private let stopping = Atomic<Bool>(false)

    public init(
        store: any RedisStore, keys: KeySpace, feedCache: FeedCache?, authCache: AuthTokenCache?, intervalMilliseconds: Int,
        clock: any Clock, logger: Logger
    ) {
        self.store = store
        self.keys = keys
        self.feedCache = feedCache
        self.authCache = authCache
        self.intervalNanoseconds = UInt64(max(1, intervalMilliseconds)) * 1_000_000
        self.clock = clock
        self.logger = logger
    }

    /// How long a successful poll vouches for the caches.
    var leaseNanoseconds: UInt64 { max(3 * intervalNanoseconds, 1_000_000_000) }

    /// Reads everything appended since the last poll and applies it. Returns the number of
    /// changes applied; throws when the store did not answer (the lease is then left to run out).
    @discardableResult
    public func poll() throws(StoreError) -> Int {
        var applied = 0
        var from = position.withLock { $0 }
        if from == nil {
            // First poll: start after the newest entry; nothing cached before now is trusted.
            let newest = try store.run(RedisCommand("XREVRANGE", RedisArgument(keys.changes), "+", "-", "COUNT", 1))
            from = newest.arrayValue?.first?.arrayValue?.first?.stringValue ?? "0-0"
        }
        guard var cursor = from else { return 0 }
        while true {
            let reply = try store.run(RedisCommand(
                "XREAD", "COUNT", RedisArgument(Self.batch), "STREAMS", RedisArgument(keys.changes), RedisArgument(cursor)))
            let entries = reply.arrayValue?.first?.arrayValue?.dropFirst().first?.arrayValue ?? []
            for entry in entries {
                guard let parts = entry.arrayValue, parts.count == 2, let id = parts[0].stringValue else { continue }
                cursor = id
                let fields = parts[1].arrayValue ?? []
                var index = 0
                while index + 1 < fields.count {
                    if let name = fields[index].stringValue, let value = fields[index + 1].stringValue {
                        switch name {
                        case "feed": feedCache?.remove(value)
                        case "token": authCache?.remove(value)
                        default: break
                        }
                        applied += 1
                    }
                    index += 2
                }
            }
            if entries.count < Self.batch { break }
        }
        let resumed = position.withLock { previous in
            defer { previous = cursor }
            return previous != nil
        }
        let now = clock.monotonicNanoseconds()
        let freshness = feedCache?.freshness ?? authCache?.freshness
        if resumed, let freshness, !freshness.isFollowed(now: now) {
            // The lease ran out: changes may have been missed (or trimmed) meanwhile.
            feedCache?.removeAll()
            authCache?.removeAll()
        }
        for freshness in [feedCache?.freshness, authCache?.freshness].compactMap({ $0 }) {
            freshness.renewFollowing(until: now + leaseNanoseconds)
        }
        return applied
    }

    /// Polls every interval until `stop()`. A failing poll is logged once per outage.
    public func run() {
        var failing = false
        while !stopping.load(ordering: .relaxed) {
            let started = clock.monotonicNanoseconds()
            do {
                try poll()
                if failing { logger.info("change stream followed again") }
                failing = false
            } catch {
                if !failing { logger.warning("change stream poll failed; caches fall back to their TTL", metadata: ["error": "\(error)"]) }
                failing = true
            }
            let elapsed = clock.monotonicNanoseconds() &- started
            if elapsed < intervalNanoseconds { Sleep.milliseconds(Int((intervalNanoseconds - elapsed) / 1_000_000)) }
        }
    }

    public func stop() { stopping.store(true, ordering: .relaxed) }
}
