/// How often and how long to retry an upstream call: exponential backoff with full jitter, up to a
/// cap, honouring a vendor's `Retry-After`, never waiting past a deadline. Every client retries
/// through one of these (`run` for one call, `runRounds` for a batch sent in parallel).
public struct RetryPolicy: Sendable {
    /// Tries in all, the first included; 1 never retries.
    public var attempts: Int
    public var baseDelayMilliseconds: Int
    public var maxDelayMilliseconds: Int
    /// Whether a rate limit is retried at all. A `Retry-After` longer than `maxDelayMilliseconds`
    /// is never waited for: the caller gets the rate-limit error at once.
    public var retriesRateLimits: Bool
    /// No wait may reach it: a try that starts with no time left could only fail again.
    var deadline: Deadline?
    /// A uniform random integer in the range (injected so tests see fixed or seeded delays).
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

    /// The same policy, stopping rather than waiting up to or past `deadline`.
    func until(_ deadline: Deadline) -> RetryPolicy {
        var bounded = self
        bounded.deadline = deadline
        return bounded
    }

    /// How long to wait before try `attempt + 1` after `error` ended try `attempt`; nil to stop.
    public func delay(after error: UpstreamError, attempt: Int) -> Int? {
        guard attempt < attempts, let wait = wait(for: error.failure, attempt: attempt) else { return nil }
        if let deadline, wait >= deadline.remainingMilliseconds() { return nil }
        return wait
    }

    private func wait(for failure: UpstreamFailure, attempt: Int) -> Int? {
        switch failure {
        case .credentialsInvalid, .giveUp:
            return nil
        case .rateLimited(let seconds):
            guard retriesRateLimits else { return nil }
            guard let seconds else { return backoff(attempt) }
            let milliseconds = seconds.multipliedReportingOverflow(by: 1000)
            guard !milliseconds.overflow, milliseconds.partialValue <= maxDelayMilliseconds else { return nil }
            return max(0, milliseconds.partialValue)
        case .retry:
            return backoff(attempt)
        }
    }

    /// Anywhere from 0 to `base × 2^(attempt-1)`, capped ("full jitter"): callers that failed
    /// together spread their retries over the whole window instead of arriving together again.
    func backoff(_ attempt: Int) -> Int {
        let shift = min(max(attempt - 1, 0), 20)
        let exponential = min(maxDelayMilliseconds, baseDelayMilliseconds << shift)
        return random(0...exponential)
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
