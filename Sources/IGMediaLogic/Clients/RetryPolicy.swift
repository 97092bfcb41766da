/// How often and how long to retry an upstream call: exponential backoff with jitter, up to a cap,
/// honouring a vendor's `Retry-After`. Every client retries through one of these.
public struct RetryPolicy: Sendable {
    /// Tries in all, the first included; 1 never retries.
    public var attempts: Int
    public var baseDelayMilliseconds: Int
    public var maxDelayMilliseconds: Int
    /// Whether a rate limit is retried at all. A `Retry-After` longer than `maxDelayMilliseconds`
    /// is never waited for: the caller gets the rate-limit error at once.
    public var retriesRateLimits: Bool
    /// A uniform random integer in the range (injected so tests see fixed delays).
    var random: @Sendable (ClosedRange<Int>) -> Int
    var sleep: @Sendable (Int) -> Void

    public init(
        attempts: Int, baseDelayMilliseconds: Int, maxDelayMilliseconds: Int = 5000, retriesRateLimits: Bool,
        random: @escaping @Sendable (ClosedRange<Int>) -> Int = { Int.random(in: $0) },
        sleep: @escaping @Sendable (Int) -> Void = { Sleep.milliseconds($0) }
    ) {
        self.attempts = max(1, attempts)
        self.baseDelayMilliseconds = max(0, baseDelayMilliseconds)
        self.maxDelayMilliseconds = max(0, maxDelayMilliseconds)
        self.retriesRateLimits = retriesRateLimits
        self.random = random
        self.sleep = sleep
    }

    /// Never retries.
    public static let once = RetryPolicy(attempts: 1, baseDelayMilliseconds: 0, retriesRateLimits: false)

    /// How long to wait before try `attempt + 1` after `error` ended try `attempt`; nil to stop.
    ///
    /// Backoff is `base × 2^(attempt-1)`, capped, half of it fixed and half random ("equal
    /// jitter"), so retries of many callers spread out but never come at once.
    public func delay(after error: UpstreamError, attempt: Int) -> Int? {
        guard attempt < attempts else { return nil }
        switch error.failure {
        case .credentialsInvalid, .giveUp:
            return nil
        case .rateLimited(let seconds):
            guard retriesRateLimits else { return nil }
            if let seconds {
                let milliseconds = seconds.multipliedReportingOverflow(by: 1000)
                guard !milliseconds.overflow, milliseconds.partialValue <= maxDelayMilliseconds else { return nil }
                return max(0, milliseconds.partialValue)
            }
            return backoff(attempt)
        case .retry:
            return backoff(attempt)
        }
    }

    func backoff(_ attempt: Int) -> Int {
        let shift = min(max(attempt - 1, 0), 20)
        let exponential = min(maxDelayMilliseconds, baseDelayMilliseconds << shift)
        return exponential / 2 + random(0...max(0, exponential - exponential / 2))
    }

    /// Runs `body` until it succeeds or `delay(after:attempt:)` says stop; throws the last error.
    public func run<T>(_ body: () throws(UpstreamError) -> T) throws(UpstreamError) -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try body()
            } catch {
                guard let wait = delay(after: error, attempt: attempt) else { throw error }
                sleep(wait)
            }
        }
    }
}
