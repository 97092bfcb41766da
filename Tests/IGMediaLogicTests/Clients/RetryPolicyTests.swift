import Synchronization
import Testing

@testable import IGMediaLogic

@Suite("RetryPolicy")
struct RetryPolicyTests {
    /// Sleeps recorded, never slept; the random source answers the top of its range.
    final class Recorder: Sendable {
        let sleeps = Mutex<[Int]>([])
        func policy(attempts: Int, base: Int = 100, max: Int = 5000, rateLimits: Bool = false, random: Int? = nil) -> RetryPolicy {
            RetryPolicy(
                attempts: attempts, baseDelayMilliseconds: base, maxDelayMilliseconds: max, retriesRateLimits: rateLimits,
                random: { range in random.map { Swift.min(Swift.max($0, range.lowerBound), range.upperBound) } ?? range.upperBound },
                sleep: { milliseconds in self.sleeps.withLock { $0.append(milliseconds) } })
        }
        var recorded: [Int] { sleeps.withLock { $0 } }
    }

    static func error(_ kind: UpstreamError.Kind, retryAfter: Int? = nil) -> UpstreamError {
        UpstreamError(service: "test", kind: kind, message: "x", retryAfterSeconds: retryAfter)
    }

    @Test("transient failures are retried with exponential backoff, half fixed and half jitter, up to the cap")
    func backoff() throws {
        let recorder = Recorder()
        var calls = 0
        #expect(throws: Self.error(.server)) {
            try recorder.policy(attempts: 5, base: 100, max: 500).run { () throws(UpstreamError) -> Int in
                calls += 1
                throw Self.error(.server)
            }
        }
        #expect(calls == 5)
        #expect(recorder.recorded == [100, 200, 400, 500], "top of each jitter range: base×2^n, capped at 500")
        let low = Recorder()
        let policy = low.policy(attempts: 4, base: 100, random: 0)
        #expect((1...3).map { policy.backoff($0) } == [50, 100, 200], "bottom of the range: half the backoff")
    }

    @Test("success stops at once; permanent and credential failures are never retried", arguments: [
        UpstreamError.Kind.rejected, .notFound, .malformed, .auth,
    ])
    func permanent(kind: UpstreamError.Kind) {
        let recorder = Recorder()
        var calls = 0
        #expect(throws: Self.error(kind)) {
            try recorder.policy(attempts: 3).run { () throws(UpstreamError) -> Int in
                calls += 1
                throw Self.error(kind)
            }
        }
        #expect(calls == 1 && recorder.recorded.isEmpty)
        var tries = 0
        let value = try? recorder.policy(attempts: 3).run { () throws(UpstreamError) -> Int in
            tries += 1
            if tries < 2 { throw Self.error(.timeout) }
            return 7
        }
        #expect(value == 7 && tries == 2)
    }

    @Test("rate limits: not retried unless the policy says so, then Retry-After is honoured up to the cap")
    func rateLimits() {
        let recorder = Recorder()
        #expect(recorder.policy(attempts: 3).delay(after: Self.error(.rateLimited), attempt: 1) == nil)
        let retrying = recorder.policy(attempts: 3, max: 5000, rateLimits: true)
        #expect(retrying.delay(after: Self.error(.rateLimited, retryAfter: 2), attempt: 1) == 2000)
        #expect(retrying.delay(after: Self.error(.rateLimited, retryAfter: 6), attempt: 1) == nil, "longer than the cap: give up now")
        #expect(retrying.delay(after: Self.error(.rateLimited, retryAfter: Int.max), attempt: 1) == nil)
        #expect(retrying.delay(after: Self.error(.rateLimited), attempt: 1) == 100, "no Retry-After: backoff")
        #expect(retrying.delay(after: Self.error(.rateLimited, retryAfter: 1), attempt: 3) == nil, "attempts spent")
    }

    @Test("one attempt never retries")
    func once() {
        #expect(RetryPolicy.once.delay(after: Self.error(.server), attempt: 1) == nil)
    }

    @Test("every kind maps to one decision")
    func failures() {
        #expect(Self.error(.transport).failure == .retry)
        #expect(Self.error(.timeout).failure == .retry)
        #expect(Self.error(.server).failure == .retry)
        #expect(Self.error(.rateLimited, retryAfter: 9).failure == .rateLimited(afterSeconds: 9))
        #expect(Self.error(.auth).failure == .credentialsInvalid)
        for kind in [UpstreamError.Kind.rejected, .notFound, .malformed] { #expect(Self.error(kind).failure == .giveUp) }
        #expect([UpstreamError.Kind.transport, .timeout, .server, .rateLimited].allSatisfy { Self.error($0).isTransient })
    }
}
