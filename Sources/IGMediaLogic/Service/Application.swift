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

    public init(router: Router, logger: Logger, clock: any Clock = SystemClock()) {
        self.router = router
        self.logger = logger
        self.clock = clock
    }

    public func respond(to incoming: Request) -> Response {
        answer(incoming) { route($0) }
    }

    /// The response for an error that happened before a request could be routed (body too large,
    /// undecodable URI), with the same request id and log line as any other request.
    public func respond(to request: Request, failure: HTTPError) -> Response {
        answer(request) { _ in Envelope.failure(failure) }
    }

    private func answer(_ incoming: Request, _ produce: (Request) -> Response) -> Response {
        let started = clock.monotonicNanoseconds()
        var request = incoming
        if request.requestID.isEmpty { request.requestID = RequestID.make() }
        var response = produce(request)
        response.headers.add("X-Request-Id", request.requestID)
        let elapsed = Double(clock.monotonicNanoseconds() - started) / 1_000_000
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

    private func route(_ request: Request) -> Response {
        switch router.match(method: request.method, path: request.path) {
        case .notFound:
            return Envelope.failure(.notFound("No route for \(request.method) \(LogRedaction.path(request.path))"))
        case .methodNotAllowed(let allow):
            let error = HTTPError(
                .methodNotAllowed, "Method \(request.method) is not allowed here",
                headers: [("Allow", allow.joined(separator: ", "))])
            return Envelope.failure(error)
        case .found(let handler, let parameters):
            var routed = request
            routed.pathParameters = parameters
            do {
                return try handler.handle(routed)
            } catch let error as HTTPError {
                return Envelope.failure(error)
            } catch let error as any ClientVisibleError {
                logger.warning("request failed", metadata: ["id": "\(request.requestID)", "error": "\(error)"])
                return Envelope.failure(error.httpError)
            } catch {
                logger.error("unhandled error", metadata: ["id": "\(request.requestID)", "error": "\(error)"])
                return Envelope.failure(.internalError())
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
