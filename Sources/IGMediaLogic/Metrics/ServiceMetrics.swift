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
                registry.makeCounter(
                    descriptor: MetricNameDescriptor(
                        namespace: "igmedia", subsystem: "http", metricName: "requests", unitName: "total",
                        helpText: "HTTP requests answered, by route and status class"),
                    labels: [("method", method), ("route", route), ("status_class", statusClass)])
            }
            duration = registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(
                    namespace: "igmedia", subsystem: "http", metricName: "request_duration", unitName: "seconds",
                    helpText: "Time from the decoded request to the response in the responder, by route"),
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
                registry.makeCounter(
                    descriptor: MetricNameDescriptor(
                        namespace: "igmedia", subsystem: "store", metricName: "calls", unitName: "total",
                        helpText: "Store round trips (a pipeline or transaction is one), by backend and command family"),
                    labels: [("backend", backend), ("family", family.rawValue)])
            }
            errors = StoreCommandFamily.allCases.map { family in
                registry.makeCounter(
                    descriptor: MetricNameDescriptor(
                        namespace: "igmedia", subsystem: "store", metricName: "errors", unitName: "total",
                        helpText: "Store round trips that failed (unreachable, timed out, unreadable, or a command error)"),
                    labels: [("backend", backend), ("family", family.rawValue)])
            }
            duration = registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(
                    namespace: "igmedia", subsystem: "store", metricName: "call_duration", unitName: "seconds",
                    helpText: "Store round trip time, by backend"),
                labels: [("backend", backend)], buckets: ServiceMetrics.latencyBuckets)
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
                registry.makeCounter(
                    descriptor: MetricNameDescriptor(
                        namespace: "igmedia", subsystem: "upstream", metricName: "requests", unitName: "total",
                        helpText: "Outbound HTTP requests, by service and outcome (anything but ok is an error)"),
                    labels: [("service", service), ("outcome", outcome.rawValue)])
            }
            duration = registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(
                    namespace: "igmedia", subsystem: "upstream", metricName: "request_duration", unitName: "seconds",
                    helpText: "Outbound HTTP request time (one attempt), by service"),
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

/// Redis commands grouped the way an operator reads a dashboard.
public enum StoreCommandFamily: String, CaseIterable, Sendable {
    case string, hash, set, zset, stream, script, key, transaction, other

    var index: Int { Self.allCases.firstIndex(of: self) ?? 0 }

    static let byCommand: [String: StoreCommandFamily] = {
        var table: [String: StoreCommandFamily] = [:]
        for name in ["GET", "SET", "MGET", "MSET", "GETDEL", "GETEX", "SETNX", "INCR", "INCRBY", "DECR", "APPEND", "STRLEN"] {
            table[name] = .string
        }
        for name in ["HGET", "HSET", "HMGET", "HGETALL", "HDEL", "HINCRBY", "HEXISTS", "HLEN", "HKEYS", "HSETNX", "HMSET"] {
            table[name] = .hash
        }
        for name in ["SADD", "SREM", "SCARD", "SISMEMBER", "SMISMEMBER", "SMEMBERS", "SSCAN"] { table[name] = .set }
        for name in ["ZADD", "ZREM", "ZSCORE", "ZMSCORE", "ZCOUNT", "ZRANGE", "ZRANGEBYSCORE", "ZCARD"] { table[name] = .zset }
        for name in ["XADD", "XREAD", "XREADGROUP", "XACK", "XAUTOCLAIM", "XPENDING", "XGROUP", "XREVRANGE", "XLEN", "XTRIM"] {
            table[name] = .stream
        }
        for name in ["EVAL", "EVALSHA", "SCRIPT"] { table[name] = .script }
        for name in ["DEL", "UNLINK", "EXISTS", "EXPIRE", "PEXPIRE", "TTL", "PTTL", "TYPE", "SCAN", "PERSIST", "RENAME"] {
            table[name] = .key
        }
        return table
    }()

    /// The family of a round trip: its commands' if they share one, else `other`.
    static func of(_ commands: [RedisCommand]) -> StoreCommandFamily {
        guard let first = commands.first else { return .other }
        let family = byCommand[first.name] ?? .other
        for command in commands.dropFirst() where (byCommand[command.name] ?? .other) != family { return .other }
        return family
    }
}

/// How one outbound request ended.
public enum UpstreamOutcome: String, CaseIterable, Sendable {
    case ok, client_error, rate_limited, server_error, timeout, transport_error

    var index: Int { Self.allCases.firstIndex(of: self) ?? 0 }

    static func of(status: Int) -> UpstreamOutcome {
        switch status {
        case 200..<400: return .ok
        case 429: return .rate_limited
        case 400..<500: return .client_error
        default: return .server_error
        }
    }
}

/// Syncs by outcome, their duration, and what they did to the mirrored media.
public final class SyncMetrics: Sendable {
    public enum Outcome: String, CaseIterable, Sendable {
        case synced, failed, deferred, locked
    }

    let byOutcome: [Counter]
    let duration: DurationHistogram
    let uploaded: Counter
    let deleted: Counter
    let kept: Counter
    let mediaFailed: Counter

    init(_ registry: PrometheusCollectorRegistry) {
        byOutcome = Outcome.allCases.map { outcome in
            registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "igmedia", metricName: "syncs", unitName: "total",
                    helpText: "Tenant syncs by outcome (deferred: Meta's rate limit; locked: another sync held the tenant)"),
                labels: [("outcome", outcome.rawValue)])
        }
        duration = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "igmedia", subsystem: "sync", metricName: "duration", unitName: "seconds",
                helpText: "Time of one tenant's sync that completed"),
            buckets: ServiceMetrics.syncBuckets)
        func media(_ action: String) -> Counter {
            registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "igmedia", subsystem: "sync", metricName: "media", unitName: "total",
                    helpText: "Media handled by completed syncs: uploaded, deleted, kept on the CDN, or failed to mirror"),
                labels: [("action", action)])
        }
        uploaded = media("uploaded")
        deleted = media("deleted")
        kept = media("kept")
        mediaFailed = media("failed")
    }

    public func record(_ result: Result<SyncResult, SyncError>, nanoseconds: UInt64) {
        switch result {
        case .success(let r):
            byOutcome[0].increment()
            duration.recordNanoseconds(Int64(truncatingIfNeeded: nanoseconds))
            if r.uploaded > 0 { uploaded.increment(by: Int64(r.uploaded)) }
            if r.deleted > 0 { deleted.increment(by: Int64(r.deleted)) }
            if r.kept > 0 { kept.increment(by: Int64(r.kept)) }
            if r.failed > 0 { mediaFailed.increment(by: Int64(r.failed)) }
        case .failure(.locked):
            byOutcome[3].increment()
        case .failure(let error) where error.isDeferral:
            byOutcome[2].increment()
        case .failure:
            byOutcome[1].increment()
        }
    }
}

/// The in-process caches (`FeedCache`, `AuthTokenCache`), read at scrape time.
public final class CacheMetrics: Sendable {
    let feedRequests: (hit: Counter, miss: Counter)
    let feedEvictions: Counter
    let feedBytes: Gauge
    let feedEntries: Gauge
    let feedBudget: Gauge
    let authRequests: (hit: Counter, miss: Counter)
    let authEntries: Gauge
    private let seen = Mutex<[String: Int]>([:])

    init(_ registry: PrometheusCollectorRegistry) {
        func lookups(_ cache: String) -> (Counter, Counter) {
            let descriptor = MetricNameDescriptor(
                namespace: "igmedia", subsystem: cache, metricName: "lookups", unitName: "total",
                helpText: "Lookups in the in-process \(cache.replacingUnderscores) by result")
            return (
                registry.makeCounter(descriptor: descriptor, labels: [("result", "hit")]),
                registry.makeCounter(descriptor: descriptor, labels: [("result", "miss")])
            )
        }
        feedRequests = lookups("feed_cache")
        authRequests = lookups("auth_cache")
        feedEvictions = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "igmedia", subsystem: "feed_cache", metricName: "evictions", unitName: "total",
                helpText: "Feeds evicted from the in-process cache to stay within FEED_CACHE_MAX_MB"))
        feedBytes = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "igmedia", subsystem: "feed_cache", metricName: "stored", unitName: "bytes",
                helpText: "Bytes the feed cache holds (bodies, gzip bodies and per-entry overhead)"))
        feedEntries = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "igmedia", subsystem: "feed_cache", metricName: "entries",
                unitName: "", helpText: "Feeds the in-process cache holds"))
        feedBudget = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "igmedia", subsystem: "feed_cache", metricName: "budget", unitName: "bytes",
                helpText: "FEED_CACHE_MAX_MB in bytes"))
        authEntries = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "igmedia", subsystem: "auth_cache", metricName: "entries",
                unitName: "", helpText: "Auth tokens the in-process cache holds"))
    }

    /// Brings the counters up to the caches' own (monotonic) tallies.
    public func update(feed: FeedCache?, auth: AuthTokenCache?) {
        seen.withLock { seen in
            func advance(_ counter: Counter, _ name: String, to total: Int) {
                let delta = total - (seen[name] ?? 0)
                if delta > 0 { counter.increment(by: Int64(delta)) }
                seen[name] = max(total, seen[name] ?? 0)
            }
            if let feed {
                let stats = feed.stats
                advance(feedRequests.hit, "feed.hit", to: stats.hits)
                advance(feedRequests.miss, "feed.miss", to: stats.misses)
                advance(feedEvictions, "feed.evictions", to: stats.evictions)
                feedBytes.set(Double(stats.bytes))
                feedEntries.set(Double(stats.entries))
                feedBudget.set(Double(stats.budget))
            }
            if let auth {
                let stats = auth.stats
                advance(authRequests.hit, "auth.hit", to: stats.hits)
                advance(authRequests.miss, "auth.miss", to: stats.misses)
                authEntries.set(Double(stats.entries))
            }
        }
    }
}

/// The responder's thread pools, set at scrape time by the FastCGI loop.
public final class PoolMetrics: Sendable {
    public let quickThreads: Gauge
    public let quickBusy: Gauge
    public let quickMax: Gauge
    public let outboundThreads: Gauge
    public let outboundBusy: Gauge
    public let outboundQueueDepth: Gauge
    public let outboundQueueCapacity: Gauge
    public let outboundRejections: Counter

    init(_ registry: PrometheusCollectorRegistry) {
        func gauge(_ name: String, _ pool: String, _ help: String) -> Gauge {
            registry.makeGauge(
                descriptor: MetricNameDescriptor(namespace: "igmedia", subsystem: "worker_pool", metricName: name, unitName: "", helpText: help),
                labels: [("pool", pool)])
        }
        quickThreads = gauge("threads", "quick", "Threads of the pool")
        outboundThreads = gauge("threads", "outbound", "Threads of the pool")
        quickBusy = gauge("busy_threads", "quick", "Threads of the pool serving a request now")
        outboundBusy = gauge("busy_threads", "outbound", "Threads of the pool serving a request now")
        quickMax = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "igmedia", subsystem: "worker_pool", metricName: "max_threads",
                unitName: "", helpText: "The most threads the quick pool may grow to"))
        outboundQueueDepth = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "igmedia", subsystem: "outbound_queue", metricName: "depth",
                unitName: "", helpText: "Requests waiting for an outbound thread"))
        outboundQueueCapacity = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "igmedia", subsystem: "outbound_queue", metricName: "capacity",
                unitName: "", helpText: "The most requests that may wait for an outbound thread"))
        outboundRejections = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "igmedia", subsystem: "outbound_queue", metricName: "rejections", unitName: "total",
                helpText: "Requests answered 503 because every outbound thread was busy and the queue full"))
    }
}

/// Outbound webhook deliveries to tenants.
public final class WebhookMetrics: Sendable {
    public enum Outcome: String, CaseIterable, Sendable {
        case delivered, failed, retrying, refused, dropped
    }

    let byOutcome: [Counter]

    init(_ registry: PrometheusCollectorRegistry) {
        byOutcome = Outcome.allCases.map { outcome in
            registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "igmedia", subsystem: "webhook", metricName: "deliveries", unitName: "total",
                    helpText: "Webhook delivery attempts by outcome (refused: the destination is not allowed; dropped: out of retries)"),
                labels: [("outcome", outcome.rawValue)])
        }
    }

    public func record(_ outcome: Outcome) {
        byOutcome[Outcome.allCases.firstIndex(of: outcome) ?? 0].increment()
    }
}

extension String {
    fileprivate var replacingUnderscores: String { String(map { $0 == "_" ? " " : $0 }) }
}
