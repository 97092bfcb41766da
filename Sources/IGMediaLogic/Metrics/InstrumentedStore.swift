/// Counts and times every round trip to the store (`igmedia_store_*`), by backend and command
/// family, around any `RedisStore`.
public struct InstrumentedStore: RedisStore {
    public let base: any RedisStore
    let series: ServiceMetrics.StoreSeries
    let clock: any Clock

    public init(_ base: any RedisStore, backend: String, metrics: ServiceMetrics = .shared, clock: any Clock = SystemClock()) {
        self.base = base
        self.series = metrics.storeSeries(backend: backend)
        self.clock = clock
    }

    public var backendName: String { base.backendName }

    public func pipeline(_ commands: [RedisCommand]) throws(StoreError) -> [RedisValue] {
        try measure(StoreCommandFamily.of(commands)) { () throws(StoreError) in try base.pipeline(commands) }
    }

    public func transaction(_ commands: [RedisCommand]) throws(StoreError) -> [RedisValue] {
        try measure(.transaction) { () throws(StoreError) in try base.transaction(commands) }
    }

    private func measure(_ family: StoreCommandFamily, _ call: () throws(StoreError) -> [RedisValue]) throws(StoreError) -> [RedisValue] {
        let started = clock.monotonicNanoseconds()
        do {
            let replies = try call()
            // A command the store refused counts as an error of the round trip.
            let refused = replies.contains { if case .error = $0 { return true } else { return false } }
            series.record(family, nanoseconds: clock.monotonicNanoseconds() &- started, failed: refused)
            return replies
        } catch {
            series.record(family, nanoseconds: clock.monotonicNanoseconds() &- started, failed: true)
            throw error
        }
    }
}
