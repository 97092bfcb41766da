import Synchronization
import Testing

@testable import IGMediaLogic

@Suite("RetryPolicy")
struct RetryPolicyTests {
    /// Sleeps recorded, never slept (moving `clock` instead); the random source answers the top of
    /// its range unless told otherwise.
    final class Recorder: Sendable {
        let sleeps = Mutex<[Int]>([])
        let clock = ManualClock()

        func policy(
            attempts: Int, base: Int = 100, max: Int = 5000, rateLimits: Bool = false,
            random: (@Sendable (ClosedRange<Int>) -> Int)? = nil
        ) -> RetryPolicy {
            RetryPolicy(
                attempts: attempts, baseDelayMilliseconds: base, maxDelayMilliseconds: max, retriesRateLimits: rateLimits,
                random: random ?? { $0.upperBound },
                sleep: { milliseconds in
                    self.sleeps.withLock { $0.append(milliseconds) }
                    self.clock.advance(seconds: Double(milliseconds) / 1000)
                })
        }

        func deadline(in milliseconds: Int) -> Deadline { Deadline(millisecondsFromNow: milliseconds, clock: clock) }
        var recorded: [Int] { sleeps.withLock { $0 } }
    }

    static func error(_ kind: UpstreamError.Kind, retryAfter: Int? = nil) -> UpstreamError {
        UpstreamError(service: "test", kind: kind, message: "x", retryAfterSeconds: retryAfter)
    }

    /// Runs `policy` over a body that always fails with `error`; the number of tries.
    static func tries(_ policy: RetryPolicy, failing error: UpstreamError) -> Int {
        var calls = 0
        #expect(throws: error) {
            try policy.run { () throws(UpstreamError) -> Int in
                calls += 1
                throw error
            }
        }
        return calls
    }

    @Test("transient failures are tried `attempts` times, backing off exponentially up to the cap")
    func backoff() {
        let recorder = Recorder()
        #expect(Self.tries(recorder.policy(attempts: 5, base: 100, max: 500), failing: Self.error(.server)) == 5)
        #expect(recorder.recorded == [100, 200, 400, 500], "top of each jitter range: base×2^n, capped at 500")
        let policy = Recorder().policy(attempts: 4, base: 100, random: { $0.lowerBound })
        #expect((1...3).map { policy.backoff($0) } == [0, 0, 0], "full jitter: the window starts at 0")
    }

    @Test("full jitter from a seeded source stays inside 0...min(cap, base×2^(n-1)) and spreads over it")
    func seededJitter() {
        let random = SeededRandom(seed: 12)
        let policy = Recorder().policy(attempts: 10, base: 100, max: 3000, random: { random.int(in: $0) })
        for attempt in 1...9 {
            let window = min(3000, 100 << (attempt - 1))
            let delays = (0..<400).map { _ in policy.backoff(attempt) }
            #expect(delays.allSatisfy { (0...window).contains($0) }, "attempt \(attempt)")
            #expect(delays.contains { $0 < window / 4 } && delays.contains { $0 > window * 3 / 4 }, "attempt \(attempt)")
        }
        func sequence(seed: UInt64) -> [Int] {
            let random = SeededRandom(seed: seed)
            let policy = Recorder().policy(attempts: 6, base: 100, random: { random.int(in: $0) })
            return (1...5).map { policy.backoff($0) }
        }
        #expect(sequence(seed: 7) == sequence(seed: 7), "the same seed, the same delays")
        #expect(sequence(seed: 7) != sequence(seed: 8))
    }

    @Test("success stops at once; permanent and credential failures are never retried", arguments: [
        UpstreamError.Kind.rejected, .notFound, .malformed, .auth,
    ])
    func permanent(kind: UpstreamError.Kind) {
        let recorder = Recorder()
        #expect(Self.tries(recorder.policy(attempts: 3), failing: Self.error(kind)) == 1)
        #expect(recorder.recorded.isEmpty)
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
        #expect(retrying.delay(after: Self.error(.rateLimited, retryAfter: 0), attempt: 1) == 0)
        #expect(retrying.delay(after: Self.error(.rateLimited, retryAfter: 6), attempt: 1) == nil, "longer than the cap: give up now")
        #expect(retrying.delay(after: Self.error(.rateLimited, retryAfter: Int.max), attempt: 1) == nil)
        #expect(retrying.delay(after: Self.error(.rateLimited), attempt: 1) == 100, "no Retry-After: backoff")
        #expect(retrying.delay(after: Self.error(.rateLimited, retryAfter: 1), attempt: 3) == nil, "attempts spent")
        #expect(Self.tries(retrying, failing: Self.error(.rateLimited, retryAfter: 3)) == 3)
        #expect(recorder.recorded == [3000, 3000], "the vendor's wait, not the backoff")
    }

    @Test("a deadline stops the retries whose wait would reach it")
    func deadline() {
        let recorder = Recorder()
        let policy = recorder.policy(attempts: 5, base: 400).until(recorder.deadline(in: 1000))
        #expect(Self.tries(policy, failing: Self.error(.server)) == 2)
        #expect(recorder.recorded == [400], "400 ms fit into 1 s; the next 800 ms do not fit into the 600 left")
        let limited = Recorder()
        let patient = limited.policy(attempts: 3, rateLimits: true).until(limited.deadline(in: 1000))
        #expect(patient.delay(after: Self.error(.rateLimited, retryAfter: 1), attempt: 1) == nil, "Retry-After past the deadline")
        #expect(patient.delay(after: Self.error(.server), attempt: 1) == 100)
        limited.clock.advance(seconds: 2)
        #expect(patient.delay(after: Self.error(.server), attempt: 1) == nil, "deadline passed")
    }

    @Test("one attempt never retries")
    func once() {
        #expect(RetryPolicy.once.delay(after: Self.error(.server), attempt: 1) == nil)
        #expect(RetryPolicy.once.delay(after: Self.error(.timeout), attempt: 1) == nil)
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
        #expect(![UpstreamError.Kind.auth, .rejected, .notFound, .malformed].contains { Self.error($0).isTransient })
    }
}
