import Prometheus
import Synchronization

/// `GET /metrics`: the Prometheus text format 0.0.4. nginx answers it only for the configured
/// networks; with `METRICS_SECRET` set, a Bearer check comes on top (constant time).
///
/// The tenant gauges come from the store's own indexes in one round trip (set sizes and sorted-set
/// counts, O(1) and O(log n)), kept for `tenantRefreshSeconds`: a scrape never reads every tenant.
public struct MetricsHandler: RequestHandler {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    let metrics: ServiceMetrics
    let process: ProcessMetrics
    let tenants: TenantGauges?
    let secret: String?

    public init(metrics: ServiceMetrics, process: ProcessMetrics, tenants: TenantGauges?, secret: String?) {
        self.metrics = metrics
        self.process = process
        self.tenants = tenants
        self.secret = secret
    }

    public func admit(_ request: Request) throws(HTTPError) {
        guard let secret else { return }
        guard let token = request.bearerToken, ConstantTime.equals(token, secret) else {
            throw HTTPError.unauthorized("Invalid metrics secret")
        }
    }

    public func handle(_ request: Request) throws -> Response {
        try admit(request)
        tenants?.refreshIfStale()
        var body: [UInt8] = []
        body.reserveCapacity(64 << 10)
        metrics.render(into: &body)
        process.render(into: &body)
        var headers = HTTPHeaders()
        headers.add("Content-Type", Self.contentType)
        headers.add("Cache-Control", "no-store")
        return Response(status: .ok, headers: headers, body: body)
    }
}

/// `igmedia_tenants{state}`: how many tenants there are and how their tokens are, from the
/// indexes the service keeps anyway (`tenants`, `tenants:invalid`, `tenants:deleting`, the token
/// expiry sorted set).
public final class TenantGauges: Sendable {
    let store: any RedisStore
    let keys: KeySpace
    let clock: any Clock
    let expiringDays: Int
    let refreshNanoseconds: UInt64
    let gauges: [String: Gauge]
    let scrapeErrors: Counter
    private let refreshedAt = Mutex<UInt64?>(nil)

    public static let states = ["total", "invalid", "expired", "expiring", "deleting"]

    public init(
        registry: PrometheusCollectorRegistry, store: any RedisStore, keys: KeySpace, clock: any Clock, expiringDays: Int,
        refreshSeconds: Int = 10
    ) {
        self.store = store
        self.keys = keys
        self.clock = clock
        self.expiringDays = expiringDays
        self.refreshNanoseconds = UInt64(max(0, refreshSeconds)) * 1_000_000_000
        let help = "Tenants by state: total (the index), invalid token, expired token, token expiring within TOKEN_EXPIRING_DAYS, being deleted"
        var made: [String: Gauge] = [:]
        for state in Self.states { made[state] = registry.gauge(nil, "tenants", help: help, labels: [("state", state)]) }
        gauges = made
        scrapeErrors = registry.counter(
            "tenants", "refresh_errors", help: "Tenant gauge refreshes that failed (the store did not answer); the gauges keep their last values")
    }

    public func refreshIfStale() {
        let now = clock.monotonicNanoseconds()
        let due = refreshedAt.withLock { last -> Bool in
            if let last, now &- last < refreshNanoseconds { return false }
            last = now
            return true
        }
        guard due else { return }
        refresh()
    }

    func refresh() {
        let now = Int(clock.now())
        let soon = now + expiringDays * 86_400
        do {
            let replies = try store.pipeline([
                RedisCommand("SCARD", RedisArgument(keys.tenantIndex)),
                RedisCommand("SCARD", RedisArgument(keys.invalidTenants)),
                RedisCommand("ZCOUNT", RedisArgument(keys.tokenExpiry), "-inf", RedisArgument(now)),
                RedisCommand("ZCOUNT", RedisArgument(keys.tokenExpiry), RedisArgument("(\(now)"), RedisArgument(soon)),
                RedisCommand("SCARD", RedisArgument(keys.deletingTenants)),
            ])
            for (state, reply) in zip(Self.states, replies) {
                if let value = reply.intValue { gauges[state]?.set(Double(value)) }
            }
        } catch {
            scrapeErrors.increment()
        }
    }
}
