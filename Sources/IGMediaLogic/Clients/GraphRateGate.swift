import Synchronization

/// Meta's rate limits, as seen on every Graph answer (reference §3): `X-App-Usage` for the
/// app, `X-Business-Use-Case-Usage` for the account a call was for.
///
/// - Usage at or over `thresholdPercent`, a wait Meta states (`estimated_time_to_regain_access`),
///   or a throttle error (codes 4, 17, 32, 341, 613, 80000–80014, HTTP 429) pauses the bucket:
///   the whole app, or one account. The pause lasts what Meta said, else an exponential bound
///   (5 minutes doubling per strike, at most an hour), plus up to 10 % jitter.
/// - An app pause is also written to the store (`ratelimit:graph:app`, expiring with it), so every
///   process on every host holds off; each process re-reads it at most once a second.
/// - Paused tenants are deferred (`SyncError.rateLimited`), never marked invalid.
public final class GraphRateGate: Sendable {
    public struct Usage: Sendable, Equatable {
        /// The highest percentage any header or entry gave; nil without headers.
        public var percent: Int?
        /// Meta's stated wait in seconds, when it gave one.
        public var regainSeconds: Int?
    }

    struct State {
        var appBlockedUntil: Double = 0
        var appStrikes = 0
        var accounts: [String: Double] = [:]
        var storeCheckedAt: Double = -1
        var lastAppPercent: Int?
    }

    public let thresholdPercent: Int
    let store: (any RedisStore)?
    let keys: KeySpace?
    let random: @Sendable () -> Double
    private let state = Mutex(State())

    public static let baseBackoffSeconds = 300.0
    public static let maxBackoffSeconds = 3600.0

    public init(
        thresholdPercent: Int = 90, store: (any RedisStore)? = nil, keys: KeySpace? = nil,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.thresholdPercent = thresholdPercent
        self.store = store
        self.keys = keys
        self.random = random
    }

    // MARK: - Reading the headers

    /// `{"call_count":28,"total_cputime":25,"total_time":25}`: the highest of the three.
    static func appUsage(_ headers: HTTPHeaders) -> Int? {
        guard let object = parse(headers["X-App-Usage"]) else { return nil }
        return ["call_count", "total_cputime", "total_time"].compactMap { object[$0]?.intValue }.max()
    }

    /// `{"<id>":[{"type":…,"call_count":…,"total_cputime":…,"total_time":…,"estimated_time_to_regain_access":min}]}`.
    static func accountUsage(_ headers: HTTPHeaders) -> Usage {
        guard let object = parse(headers["X-Business-Use-Case-Usage"]), case .object(let members) = object else { return Usage() }
        var usage = Usage()
        for (_, entries) in members {
            for entry in entries.arrayValue ?? [] {
                for field in ["call_count", "total_cputime", "total_time"] {
                    if let value = entry[field]?.intValue { usage.percent = max(usage.percent ?? 0, value) }
                }
                if let minutes = entry["estimated_time_to_regain_access"]?.intValue, minutes > 0, minutes <= 1440 {
                    usage.regainSeconds = max(usage.regainSeconds ?? 0, minutes * 60)
                }
            }
        }
        return usage
    }

    private static func parse(_ text: String?) -> JSONValue? {
        guard let text, text.utf8.count <= 8192 else { return nil }
        return try? JSONParser.parse(Array(text.utf8), maxDepth: 8)
    }

    // MARK: - Observing answers

    /// Every Graph answer for `account` (the tenant's Instagram account id) passes here.
    public func observe(_ headers: HTTPHeaders, account: String?, now: Double) {
        if let percent = Self.appUsage(headers) {
            state.withLock { $0.lastAppPercent = percent }
            if percent >= thresholdPercent { blockApp(regainSeconds: nil, now: now) }
        }
        let usage = Self.accountUsage(headers)
        if let account, usage.regainSeconds != nil || (usage.percent ?? 0) >= thresholdPercent {
            blockAccount(account, seconds: usage.regainSeconds ?? Self.baseBackoffSeconds.rounded().toInt, now: now)
        }
    }

    /// A throttle error: app-wide for codes 4 and 341 (and a 429 without a code), else the account.
    /// Returns when the bucket opens again.
    @discardableResult
    public func throttled(_ error: UpstreamError, account: String?, strikes: Int, now: Double) -> Double {
        let appWide = error.code == 4 || error.code == 341 || (error.code == nil && account == nil)
        if appWide { return blockApp(regainSeconds: error.retryAfterSeconds, now: now) }
        let seconds = error.retryAfterSeconds ?? Int(backoff(strikes: strikes))
        return blockAccount(account ?? "", seconds: seconds, now: now)
    }

    func backoff(strikes: Int) -> Double {
        let exponent = Double(max(0, min(strikes, 10)))
        let bound = min(Self.maxBackoffSeconds, Self.baseBackoffSeconds * pow2(exponent))
        return bound * (1 + 0.1 * random())
    }

    @discardableResult
    func blockApp(regainSeconds: Int?, now: Double) -> Double {
        let until: Double = state.withLock { state in
            let seconds = regainSeconds.map { max(Double($0), Self.baseBackoffSeconds) } ?? backoff(strikes: state.appStrikes)
            state.appStrikes += 1
            state.appBlockedUntil = max(state.appBlockedUntil, now + seconds)
            return state.appBlockedUntil
        }
        if let store, let keys {
            let milliseconds = Int((until - now) * 1000)
            _ = try? store.run(RedisCommand(
                "SET", RedisArgument(keys.graphAppBlocked), RedisArgument(String(Int(until))), "PX", RedisArgument(max(1, milliseconds))))
        }
        return until
    }

    @discardableResult
    func blockAccount(_ account: String, seconds: Int, now: Double) -> Double {
        state.withLock { state in
            let until = max(state.accounts[account] ?? 0, now + max(Double(seconds), 60))
            state.accounts[account] = until
            if state.accounts.count > 100_000 { state.accounts = state.accounts.filter { $0.value > now } }
            return until
        }
    }

    // MARK: - Asking

    /// When the whole app may call Graph again; nil when it may now.
    public func appBlockedUntil(now: Double) -> Double? {
        let (until, check) = state.withLock { state -> (Double, Bool) in
            let check = store != nil && now - state.storeCheckedAt >= 1
            if check { state.storeCheckedAt = now }
            return (state.appBlockedUntil, check)
        }
        var blocked = until
        if check, let store, let keys, let text = try? store.run(RedisCommand("GET", RedisArgument(keys.graphAppBlocked))).stringValue,
            let shared = Double(text)
        {
            blocked = state.withLock { state in
                state.appBlockedUntil = max(state.appBlockedUntil, shared)
                return state.appBlockedUntil
            }
        }
        return blocked > now ? blocked : nil
    }

    /// When this account may be called again; nil when it may now.
    public func accountBlockedUntil(_ account: String, now: Double) -> Double? {
        state.withLock { state in
            guard let until = state.accounts[account], until > now else { return nil }
            return until
        }
    }

    /// A success: the app's strikes start over.
    public func succeeded() {
        state.withLock { if $0.appStrikes > 0 && $0.appBlockedUntil == 0 { $0.appStrikes = 0 } }
    }

    public var lastAppUsagePercent: Int? { state.withLock { $0.lastAppPercent } }
}

private func pow2(_ exponent: Double) -> Double {
    var value = 1.0
    var remaining = Int(exponent)
    while remaining > 0 {
        value *= 2
        remaining -= 1
    }
    return value
}

extension Double {
    fileprivate var toInt: Int { Int(self) }
}
