extension RetryPolicy {
    /// Retries a batch sent in parallel: `round` gets the indices of the items to send and returns
    /// one result per index, in order; what failed in a way this policy retries goes into the next
    /// round, after the longest wait any of them needs, until every item has an answer or the
    /// policy says stop. One result per item, in order; an index `round` leaves out keeps its last
    /// result (`notSent` in the first round).
    public func runRounds<Value>(
        _ count: Int, notSent: UpstreamError, _ round: (_ indices: [Int]) -> [Result<Value, UpstreamError>]
    ) -> [Result<Value, UpstreamError>] {
        var results = [Result<Value, UpstreamError>](repeating: .failure(notSent), count: count)
        var pending = Array(0..<count)
        var attempt = 1
        while !pending.isEmpty {
            for (index, result) in zip(pending, round(pending)) { results[index] = result }
            var wait = 0
            pending = pending.filter { index in
                guard case .failure(let error) = results[index], let delay = delay(after: error, attempt: attempt) else {
                    return false
                }
                wait = max(wait, delay)
                return true
            }
            guard !pending.isEmpty else { break }
            sleep(wait)
            attempt += 1
        }
        return results
    }
}
