import Testing

@testable import IGMediaLogic

@Suite("RetryPolicy: rounds of a parallel batch")
struct RetryPolicyRoundsTests {
    typealias Recorder = RetryPolicyTests.Recorder
    static let notSent = UpstreamError(service: "test", kind: .transport, message: "not sent")

    static func error(_ kind: UpstreamError.Kind, retryAfter: Int? = nil) -> UpstreamError {
        RetryPolicyTests.error(kind, retryAfter: retryAfter)
    }

    @Test("each round holds only what the policy retries, after the longest wait any of them needs")
    func rounds() throws {
        let recorder = Recorder()
        var rounds: [[Int]] = []
        let policy = recorder.policy(attempts: 3, base: 100, rateLimits: true)
        let results = policy.runRounds(4, notSent: Self.notSent) { indices in
            rounds.append(indices)
            return indices.map { index -> Result<Int, UpstreamError> in
                switch index {
                case 1 where rounds.count == 1: return .failure(Self.error(.server))
                case 2: return .failure(Self.error(.rejected))
                case 3: return .failure(Self.error(.rateLimited, retryAfter: 2))
                default: return .success(index * 10)
                }
            }
        }
        #expect(rounds == [[0, 1, 2, 3], [1, 3], [3]])
        #expect(recorder.recorded == [2000, 2000], "Retry-After 2 s outweighs the 100 ms backoff")
        #expect(try results[0].get() == 0 && results[1].get() == 10)
        #expect(failure(results[2])?.kind == .rejected)
        #expect(failure(results[3])?.kind == .rateLimited, "attempts spent")
    }

    @Test("a batch of permanent failures or successes is sent once; an empty one not at all")
    func once() {
        let recorder = Recorder()
        var calls = 0
        let results = recorder.policy(attempts: 3).runRounds(2, notSent: Self.notSent) { indices in
            calls += 1
            return indices.map { $0 == 0 ? .success($0) : .failure(Self.error(.auth)) }
        }
        #expect(calls == 1 && results.count == 2 && recorder.recorded.isEmpty)
        let empty = RetryPolicy.once.runRounds(0, notSent: Self.notSent) { _ -> [Result<Int, UpstreamError>] in
            Issue.record("no round for no items")
            return []
        }
        #expect(empty.isEmpty)
    }

    @Test("a deadline ends the rounds; an index the round left out reports notSent")
    func deadlineAndLeftOut() {
        let recorder = Recorder()
        var calls = 0
        let policy = recorder.policy(attempts: 5, base: 400).until(recorder.deadline(in: 1000))
        let results = policy.runRounds(2, notSent: Self.notSent) { indices -> [Result<Int, UpstreamError>] in
            calls += 1
            return indices.first == 0 ? [.failure(Self.error(.timeout))] : []
        }
        #expect(calls == 2 && recorder.recorded == [400])
        #expect(failure(results[0])?.kind == .timeout)
        #expect(failure(results[1])?.message == "not sent")
    }
}

private func failure<Value>(_ result: Result<Value, UpstreamError>) -> UpstreamError? {
    if case .failure(let error) = result { return error }
    return nil
}
