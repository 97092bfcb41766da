import Prometheus
import Synchronization

/// Syncs by outcome, their duration, and what they did to the mirrored media.
public final class SyncMetrics: Sendable {
    public enum Outcome: String, CaseIterable, Sendable {
        case synced, failed, deferred, locked
    }

    let byOutcome: [Outcome: Counter]
    let duration: DurationHistogram
    let uploaded: Counter
    let deleted: Counter
    let kept: Counter
    let mediaFailed: Counter

    init(_ registry: PrometheusCollectorRegistry) {
        var counters: [Outcome: Counter] = [:]
        for outcome in Outcome.allCases {
            counters[outcome] = registry.counter(
                nil, "syncs", help: "Tenant syncs by outcome (deferred: Meta's rate limit; locked: another sync held the tenant)",
                labels: [("outcome", outcome.rawValue)])
        }
        byOutcome = counters
        duration = registry.histogram("sync", "duration", help: "Time of one tenant's sync that completed", buckets: ServiceMetrics.syncBuckets)
        func media(_ action: String) -> Counter {
            registry.counter(
                "sync", "media", help: "Media handled by completed syncs: uploaded, deleted, kept on the CDN, or failed to mirror",
                labels: [("action", action)])
        }
        uploaded = media("uploaded")
        deleted = media("deleted")
        kept = media("kept")
        mediaFailed = media("failed")
    }

    public func record(_ result: Result<SyncResult, SyncError>, nanoseconds: UInt64) {
        let outcome: Outcome
        switch result {
        case .success(let r):
            outcome = .synced
            duration.recordNanoseconds(Int64(truncatingIfNeeded: nanoseconds))
            if r.uploaded > 0 { uploaded.increment(by: Int64(r.uploaded)) }
            if r.deleted > 0 { deleted.increment(by: Int64(r.deleted)) }
            if r.kept > 0 { kept.increment(by: Int64(r.kept)) }
            if r.failed > 0 { mediaFailed.increment(by: Int64(r.failed)) }
        case .failure(.locked): outcome = .locked
        case .failure(let error) where error.isDeferral: outcome = .deferred
        case .failure: outcome = .failed
        }
        byOutcome[outcome]?.increment()
    }
}

/// The in-process caches (`FeedCache`, `AuthTokenCache`), read at scrape time.
public final class CacheMetrics: Sendable {
    let feedLookups: (hit: Counter, miss: Counter)
    let feedEvictions: Counter
    let feedBytes: Gauge
    let feedEntries: Gauge
    let feedBudget: Gauge
    let authLookups: (hit: Counter, miss: Counter)
    let authEntries: Gauge
    private let seen = Mutex<[String: Int]>([:])

    init(_ registry: PrometheusCollectorRegistry) {
        func lookups(_ cache: String, _ what: String) -> (Counter, Counter) {
            let help = "Lookups in the in-process \(what) cache by result"
            return (
                registry.counter(cache, "lookups", help: help, labels: [("result", "hit")]),
                registry.counter(cache, "lookups", help: help, labels: [("result", "miss")])
            )
        }
        feedLookups = lookups("feed_cache", "feed")
        authLookups = lookups("auth_cache", "auth")
        feedEvictions = registry.counter("feed_cache", "evictions", help: "Feeds evicted from the in-process cache to stay within FEED_CACHE_MAX_MB")
        feedBytes = registry.gauge(
            "feed_cache", "stored", unit: "bytes", help: "Bytes the feed cache holds (bodies, gzip bodies and per-entry overhead)")
        feedEntries = registry.gauge("feed_cache", "entries", help: "Feeds the in-process cache holds")
        feedBudget = registry.gauge("feed_cache", "budget", unit: "bytes", help: "FEED_CACHE_MAX_MB in bytes")
        authEntries = registry.gauge("auth_cache", "entries", help: "Auth tokens the in-process cache holds")
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
                advance(feedLookups.hit, "feed.hit", to: stats.hits)
                advance(feedLookups.miss, "feed.miss", to: stats.misses)
                advance(feedEvictions, "feed.evictions", to: stats.evictions)
                feedBytes.set(Double(stats.bytes))
                feedEntries.set(Double(stats.entries))
                feedBudget.set(Double(stats.budget))
            }
            if let auth {
                let stats = auth.stats
                advance(authLookups.hit, "auth.hit", to: stats.hits)
                advance(authLookups.miss, "auth.miss", to: stats.misses)
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
        quickThreads = registry.gauge("worker_pool", "threads", help: "Threads of the pool", labels: [("pool", "quick")])
        outboundThreads = registry.gauge("worker_pool", "threads", help: "Threads of the pool", labels: [("pool", "outbound")])
        quickBusy = registry.gauge("worker_pool", "busy_threads", help: "Threads of the pool serving a request now", labels: [("pool", "quick")])
        outboundBusy = registry.gauge(
            "worker_pool", "busy_threads", help: "Threads of the pool serving a request now", labels: [("pool", "outbound")])
        quickMax = registry.gauge("worker_pool", "max_threads", help: "The most threads the quick pool may grow to")
        outboundQueueDepth = registry.gauge("outbound_queue", "depth", help: "Requests waiting for an outbound thread")
        outboundQueueCapacity = registry.gauge("outbound_queue", "capacity", help: "The most requests that may wait for an outbound thread")
        outboundRejections = registry.counter(
            "outbound_queue", "rejections", help: "Requests answered 503 because every outbound thread was busy and the queue full")
    }
}

/// Outbound webhook deliveries to tenants.
public final class WebhookMetrics: Sendable {
    public enum Outcome: String, CaseIterable, Sendable {
        case delivered, failed, retrying, refused, dropped
    }

    let byOutcome: [Outcome: Counter]

    init(_ registry: PrometheusCollectorRegistry) {
        var counters: [Outcome: Counter] = [:]
        for outcome in Outcome.allCases {
            counters[outcome] = registry.counter(
                "webhook", "deliveries",
                help: "Webhook delivery attempts by outcome (refused: the destination is not allowed; dropped: out of retries)",
                labels: [("outcome", outcome.rawValue)])
        }
        byOutcome = counters
    }

    public func record(_ outcome: Outcome) {
        byOutcome[outcome]?.increment()
    }
}
