import Prometheus
import Synchronization

/// The process's Prometheus metrics (swift-prometheus): every series is created up front or on
/// first use from a bounded set of label values (routes, status classes, services, outcomes,
/// command families), never from a tenant, a token or a URL, so the scrape's size does not grow
/// with the tenant count.
///
/// Hot-path recording is an atomic increment and one short lock per histogram: the cost per
/// request is measured by `igmedia-fcgi metrics-cost` (the bench reports it).
public final class ServiceMetrics: Sendable {
    /// The process's metrics. Tests that count exact values make their own instance.
    public static let shared = ServiceMetrics()

    public let registry: PrometheusCollectorRegistry
    /// Refreshed right before each scrape (gauges of things other parts own: pools, caches).
    private let refreshers = Mutex<[@Sendable () -> Void]>([])

    /// 50 µs … 5 s: a cached `/photos` answer (tens of µs) to an upstream timeout.
    public static let latencyBuckets: [Duration] = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
        .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5),
    ]
    /// A whole sync: milliseconds (unchanged, cached) to minutes (a cold mirror of hundreds of media).
    public static let syncBuckets: [Duration] = [
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
        .seconds(120), .seconds(300),
    ]

    public init() {
        registry = PrometheusCollectorRegistry()
        syncs = SyncMetrics(registry)
        caches = CacheMetrics(registry)
        pools = PoolMetrics(registry)
        webhooks = WebhookMetrics(registry)
        unrouted = RouteSeries(registry, method: "any", route: "unrouted")
    }

    public let syncs: SyncMetrics
    public let caches: CacheMetrics
    public let pools: PoolMetrics
    public let webhooks: WebhookMetrics
    /// Requests that matched no route (404, 405, refused before routing).
    public let unrouted: RouteSeries

    public func addRefresher(_ refresh: @escaping @Sendable () -> Void) {
        refreshers.withLock { $0.append(refresh) }
    }

    /// Runs the refreshers, then renders every series in the text format 0.0.4.
    public func render(into buffer: inout [UInt8]) {
        for refresh in refreshers.withLock({ $0 }) { refresh() }
        registry.emit(into: &buffer)
    }

    // MARK: - Requests

    /// The series of one route: requests by status class and the duration histogram.
    public final class RouteSeries: Sendable {
        let byClass: [Counter]
        let duration: DurationHistogram

        init(_ registry: PrometheusCollectorRegistry, method: String, route: String) {
            byClass = ["1xx", "2xx", "3xx", "4xx", "5xx"].map { statusClass in
                registry.counter(
                    "http", "requests", help: "HTTP requests answered, by route and status class",
                    labels: [("method", method), ("route", route), ("status_class", statusClass)])
            }
            duration = registry.histogram(
                "http", "request_duration", help: "Time from the decoded request to the response in the responder, by route",
                labels: [("method", method), ("route", route)], buckets: ServiceMetrics.latencyBuckets)
        }

        @inline(__always)
        public func record(status: Int, nanoseconds: UInt64) {
            byClass[min(4, max(0, status / 100 - 1))].increment()
            duration.recordNanoseconds(Int64(truncatingIfNeeded: nanoseconds))
        }
    }

    /// One series per route of the table (its pattern, never the concrete path).
    public func routeSeries(for routes: [Route]) -> [RouteSeries] {
        routes.map { RouteSeries(registry, method: $0.method, route: $0.pattern) }
    }

    // MARK: - Store calls

    /// Store round trips by backend and command family, and their errors.
    public final class StoreSeries: Sendable {
        let calls: [Counter]
        let errors: [Counter]
        let duration: DurationHistogram

        init(_ registry: PrometheusCollectorRegistry, backend: String) {
            calls = StoreCommandFamily.allCases.map { family in
                registry.counter(
                    "store", "calls", help: "Store round trips (a pipeline or transaction is one), by backend and command family",
                    labels: [("backend", backend), ("family", family.rawValue)])
            }
            errors = StoreCommandFamily.allCases.map { family in
                registry.counter(
                    "store", "errors", help: "Store round trips that failed (unreachable, timed out, unreadable, or a command error)",
                    labels: [("backend", backend), ("family", family.rawValue)])
            }
            duration = registry.histogram(
                "store", "call_duration", help: "Store round trip time, by backend", labels: [("backend", backend)],
                buckets: ServiceMetrics.latencyBuckets)
        }

        func record(_ family: StoreCommandFamily, nanoseconds: UInt64, failed: Bool) {
            calls[family.index].increment()
            if failed { errors[family.index].increment() }
            duration.recordNanoseconds(Int64(truncatingIfNeeded: nanoseconds))
        }
    }

    public func storeSeries(backend: String) -> StoreSeries { StoreSeries(registry, backend: backend) }

    // MARK: - Upstream calls

    /// Calls to one upstream service by outcome, and their duration.
    public final class UpstreamSeries: Sendable {
        let byOutcome: [Counter]
        let duration: DurationHistogram

        init(_ registry: PrometheusCollectorRegistry, service: String) {
            byOutcome = UpstreamOutcome.allCases.map { outcome in
                registry.counter(
                    "upstream", "requests", help: "Outbound HTTP requests, by service and outcome (anything but ok is an error)",
                    labels: [("service", service), ("outcome", outcome.rawValue)])
            }
            duration = registry.histogram(
                "upstream", "request_duration", help: "Outbound HTTP request time (one attempt), by service",
                labels: [("service", service)], buckets: ServiceMetrics.latencyBuckets)
        }

        func record(_ outcome: UpstreamOutcome, nanoseconds: UInt64) {
            byOutcome[outcome.index].increment()
            duration.recordNanoseconds(Int64(truncatingIfNeeded: nanoseconds))
        }

        func count(_ outcome: UpstreamOutcome) {
            byOutcome[outcome.index].increment()
        }
    }

    private let upstream = Mutex<[String: UpstreamSeries]>([:])

    /// The series of one service (`instagram`, `cloudinary`, `qstash`, `upstash`, `webhook`).
    public func upstreamSeries(service: String) -> UpstreamSeries {
        upstream.withLock { series in
            if let existing = series[service] { return existing }
            let made = UpstreamSeries(registry, service: service)
            series[service] = made
            return made
        }
    }
}

