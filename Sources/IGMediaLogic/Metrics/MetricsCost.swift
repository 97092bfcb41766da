/// Measures what recording one request costs (`igmedia-fcgi metrics-cost`, run by the bench):
/// the counter increment and histogram record `Application` does per request, on one thread and
/// on two threads hitting the same route's series (the hot path's worst case).
public enum MetricsCost {
    public struct Report: Sendable {
        public var nanosecondsPerRequest: Double
        public var nanosecondsPerRequestContended: Double
        public var nanosecondsPerStoreCall: Double
    }

    public static func measure(iterations: Int, clock: any Clock = SystemClock()) -> Report {
        let metrics = ServiceMetrics()
        let series = ServiceMetrics.RouteSeries(metrics.registry, method: "GET", route: "/photos")
        let store = metrics.storeSeries(backend: "redis")
        let count = max(1000, iterations)

        func time(_ body: () -> Void) -> Double {
            let started = clock.monotonicNanoseconds()
            body()
            return Double(clock.monotonicNanoseconds() &- started)
        }
        // Warm up, then one thread.
        for index in 0..<1000 { series.record(status: 200, nanoseconds: UInt64(index) * 1000) }
        let single = time {
            for index in 0..<count { series.record(status: 200, nanoseconds: UInt64(index & 0xFFFF) * 100) }
        } / Double(count)
        // Two threads on the same series: each records `count`; the wall time over 2 × count.
        let contended = time {
            _ = BoundedParallel.map([0, 1], concurrency: 2) { _ in
                for index in 0..<count { series.record(status: 200, nanoseconds: UInt64(index & 0xFFFF) * 100) }
                return 0
            }
        } / Double(2 * count)
        let storeCall = time {
            for index in 0..<count { store.record(.string, nanoseconds: UInt64(index & 0xFFFF) * 100, failed: false) }
        } / Double(count)
        return Report(nanosecondsPerRequest: single, nanosecondsPerRequestContended: contended, nanosecondsPerStoreCall: storeCall)
    }
}
