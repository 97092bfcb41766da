/// The Instagram Platform over HTTP (reference §4): media listing and token endpoints on
/// api.instagram.com, graph.instagram.com and graph.facebook.com, each a configured base URL.
///
/// Every call is bounded by `timeoutMilliseconds`. Transport failures, timeouts, 5xx and Graph
/// codes 1/2 are retried a few times with a short backoff; rate limits are reported at once (the
/// sync backs off for far longer than a request should wait) and auth errors are never retried.
/// Tokens travel only in query strings and form bodies, never in an error.
public struct InstagramGraphClient: InstagramAPI {
    /// The largest `limit` asked of one media page.
    public static let maxPageSize = 50

    /// The pinned Graph version path segment, e.g. `v23.0`.
    public let graphVersion: String
    /// Tries per idempotent call, the first included.
    public let retryAttempts: Int
    /// First backoff delay; doubled per retry, with jitter (see `RetryPolicy`).
    public let retryBaseDelayMilliseconds: Int
    /// api.instagram.com: authorization code exchange.
    let api: APIClientCore
    /// graph.instagram.com: Instagram Login data, long-lived tokens and refresh.
    let graph: APIClientCore
    /// graph.facebook.com: Facebook Login data and token exchange.
    let facebook: APIClientCore
    /// Sees the usage headers of every answer (nil: not watched).
    public var rateGate: GraphRateGate?
    let clock: any Clock

    /// `retryAttempts` counts the first try; tests shorten the delay.
    public init(
        config: AppConfig.Instagram, transport: any HTTPTransport, retryAttempts: Int = 3,
        retryBaseDelayMilliseconds: Int = 150, rateGate: GraphRateGate? = nil, clock: any Clock = SystemClock()
    ) {
        self.rateGate = rateGate
        self.clock = clock
        let service = InstagramErrorClassifier.service
        let timeout = config.timeoutMilliseconds
        api = APIClientCore(service: service, baseURL: config.apiURL, transport: transport, timeoutMilliseconds: timeout)
        graph = APIClientCore(service: service, baseURL: config.graphURL, transport: transport, timeoutMilliseconds: timeout)
        facebook = APIClientCore(
            service: service, baseURL: config.facebookGraphURL, transport: transport, timeoutMilliseconds: timeout)
        graphVersion = config.graphVersion
        self.retryAttempts = max(1, retryAttempts)
        self.retryBaseDelayMilliseconds = max(0, retryBaseDelayMilliseconds)
    }

    /// A GET whose answer is checked JSON, retried on transient failures other than rate limits.
    /// `secrets` are scrubbed from any error message.
    func get(
        _ core: APIClientCore, _ path: String, query: [(String, String)], secrets: [String], account: String? = nil
    ) throws(UpstreamError) -> JSONValue {
        let request = core.request("GET", path, query: query, headers: [("Accept", "application/json")])
        return try policy.run { () throws(UpstreamError) -> JSONValue in
            try call(core, request, secrets: secrets, account: account)
        }
    }

    /// One request, one answer: a transport failure or an Instagram error becomes an
    /// `UpstreamError` with a redacted message.
    func call(
        _ core: APIClientCore, _ request: HTTPClientRequest, secrets: [String], account: String? = nil
    ) throws(UpstreamError) -> JSONValue {
        let response: HTTPClientResponse
        do {
            response = try core.send(request)
        } catch {
            var redacted = error
            redacted.message = InstagramErrorClassifier.redact(error.message, secrets: secrets)
            throw redacted
        }
        rateGate?.observe(response.headers, account: account, now: clock.now())
        return try InstagramErrorClassifier.check(response, secrets: secrets).get()
    }

    /// Transient failures are retried with backoff; rate limits are not (Meta's windows are an
    /// hour long: the caller gets the error at once).
    var policy: RetryPolicy {
        RetryPolicy(attempts: retryAttempts, baseDelayMilliseconds: retryBaseDelayMilliseconds, retriesRateLimits: false)
    }

    static func rejected(_ message: String) -> UpstreamError {
        UpstreamError(service: InstagramErrorClassifier.service, kind: .rejected, message: message)
    }

    static func malformed(_ message: String) -> UpstreamError {
        UpstreamError(service: InstagramErrorClassifier.service, kind: .malformed, status: 200, message: message)
    }
}
