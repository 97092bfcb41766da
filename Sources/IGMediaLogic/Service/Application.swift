import Logging

/// Turns a request into a response: routing, the error boundary and the request log line.
///
/// This is the whole service as a value; the FastCGI loop only decodes and writes bytes.
public struct Application: Sendable {
    public let router: Router
    public let logger: Logger
    let clock: any Clock
    /// Keeps this process's caches in step with the store; `serve` runs it on its own thread.
    public var changeFollower: ChangeFollower?
    /// Sends tenants' webhook deliveries; `serve` runs it on its own thread.
    public var webhookDeliverer: WebhookDeliverer?
    public let metrics: ServiceMetrics
    /// One series per route of `router`, by index.
    let routeSeries: [ServiceMetrics.RouteSeries]

    public init(router: Router, logger: Logger, clock: any Clock = SystemClock(), metrics: ServiceMetrics = .shared) {
        self.router = router
        self.logger = logger
        self.clock = clock
        self.metrics = metrics
        self.routeSeries = metrics.routeSeries(for: router.routes)
    }

    public func respond(to incoming: Request) -> Response {
        answer(incoming) { route($0) }
    }

    /// The response for an error that happened before a request could be routed (body too large,
    /// undecodable URI), with the same request id and log line as any other request.
    public func respond(to request: Request, failure: HTTPError) -> Response {
        answer(request) { _ in (Envelope.failure(failure), nil) }
    }

    /// `produce` answers the request and names the route that did (nil: unrouted).
    private func answer(_ incoming: Request, _ produce: (Request) -> (Response, Int?)) -> Response {
        let started = clock.monotonicNanoseconds()
        var request = incoming
        if request.requestID.isEmpty { request.requestID = RequestID.make() }
        var (response, routeIndex) = produce(request)
        response.headers.add("X-Request-Id", request.requestID)
        let nanoseconds = clock.monotonicNanoseconds() &- started
        let series = routeIndex.map { routeSeries[$0] } ?? metrics.unrouted
        series.record(status: response.status.code, nanoseconds: nanoseconds)
        let elapsed = Double(nanoseconds) / 1_000_000
        logger.info(
            "request",
            metadata: [
                "id": "\(request.requestID)",
                "method": "\(request.method)",
                "path": "\(LogRedaction.path(request.path))",
                "status": "\(response.status.code)",
                "duration_ms": "\(Self.format(elapsed))",
            ])
        return response
    }

    private func route(_ request: Request) -> (Response, Int?) {
        switch router.match(method: request.method, path: request.path) {
        case .notFound:
            return (Envelope.failure(.notFound("No route for \(request.method) \(LogRedaction.path(request.path))")), nil)
        case .methodNotAllowed(let allow):
            let error = HTTPError(
                .methodNotAllowed, "Method \(request.method) is not allowed here",
                headers: [("Allow", allow.joined(separator: ", "))])
            return (Envelope.failure(error), nil)
        case .found(let handler, let parameters, let index):
            var routed = request
            routed.pathParameters = parameters
            do {
                return (try handler.handle(routed), index)
            } catch let error as HTTPError {
                return (Envelope.failure(error), index)
            } catch let error as any ClientVisibleError {
                logger.warning("request failed", metadata: ["id": "\(request.requestID)", "error": "\(error)"])
                return (Envelope.failure(error.httpError), index)
            } catch {
                logger.error("unhandled error", metadata: ["id": "\(request.requestID)", "error": "\(error)"])
                return (Envelope.failure(.internalError()), index)
            }
        }
    }

    static func format(_ milliseconds: Double) -> String {
        let micros = Int((milliseconds * 1000).rounded())
        let whole = micros / 1000
        let fraction = micros % 1000
        let padded = String(fraction)
        return "\(whole).\(String(repeating: "0", count: 3 - padded.count))\(padded)"
    }
}
