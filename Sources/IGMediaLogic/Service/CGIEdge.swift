/// The library side of the FastCGI edge: the executable reads bytes and asks this what to send.
///
/// Every answer comes from `Application`, including the ones for requests that never reach a
/// handler (body too large, a bad Content-Length, a full outbound queue), so every error
/// envelope is produced by its one error boundary and logged like any other request.
public struct CGIEdge: Sendable {
    /// Why the edge refuses a request before any handler sees it.
    public enum Rejection: Sendable, Equatable {
        case bodyTooLarge
        case invalidContentLength
        /// Every outbound thread is busy and the queue is full.
        case outboundQueueFull
    }

    /// A decoded request and the pool that should serve it, or an answer already made.
    public enum Admission: Sendable {
        case serve(Request, Lane)
        case answer(Response)
    }

    public let application: Application
    public let maxBodyBytes: Int

    public init(application: Application, maxBodyBytes: Int) {
        self.application = application
        self.maxBodyBytes = maxBodyBytes
    }

    /// Whether to read the body, decided from CONTENT_LENGTH before reading it.
    public func bodyPlan(params: [(String, String)]) -> CGIRequestDecoder.BodyPlan {
        CGIRequestDecoder.bodyPlan(contentLength: Self.param("CONTENT_LENGTH", in: params), maxBodyBytes: bodyLimit(params))
    }

    /// Decodes the request, runs its route's `admit` check and picks its pool, on the accepting
    /// thread. Lane, body limit and routing all read the same decoded path.
    public func admit(params: [(String, String)], body: [UInt8]) -> Admission {
        let request: Request
        do {
            request = try CGIRequestDecoder.decode(params: params, body: body)
        } catch {
            return .answer(application.respond(to: Self.stub(params), failure: error))
        }
        guard let route = application.router.edgeRoute(method: request.method, path: request.path) else {
            return .serve(request, .quick)
        }
        do {
            try route.handler.admit(request)
        } catch {
            return .answer(application.respond(to: request, failure: error))
        }
        return .serve(request, route.lane)
    }

    public func respond(to request: Request) -> Response {
        application.respond(to: request)
    }

    /// The answer for a request refused at the edge.
    public func reject(params: [(String, String)], _ rejection: Rejection) -> Response {
        let error: HTTPError
        switch rejection {
        case .bodyTooLarge:
            error = HTTPError(.payloadTooLarge, "Request body exceeds \(bodyLimit(params)) bytes")
        case .invalidContentLength:
            error = .validation("Invalid Content-Length")
        case .outboundQueueFull:
            application.metrics.pools.outboundRejections.increment()
            error = HTTPError(
                .serviceUnavailable, "Too many requests are waiting for Instagram, Cloudinary or QStash; retry later",
                headers: [("Retry-After", "5")])
        }
        return application.respond(to: Self.stub(params), failure: error)
    }

    /// `MAX_BODY_BYTES`, or less where the route asks for less (`/sync`, `/sync/process/…`).
    private func bodyLimit(_ params: [(String, String)]) -> Int {
        let method = Self.param("REQUEST_METHOD", in: params).uppercased()
        guard application.router.gates(method: method),
            let path = try? CGIRequestDecoder.decodePath(
                requestURI: params.first(where: { $0.0 == "REQUEST_URI" })?.1,
                documentURI: params.first(where: { $0.0 == "DOCUMENT_URI" })?.1),
            let own = application.router.edgeRoute(method: method, path: path)?.maxBodyBytes
        else { return maxBodyBytes }
        return min(own, maxBodyBytes)
    }

    /// Enough of a request for the log line of one that was never decoded.
    private static func stub(_ params: [(String, String)]) -> Request {
        let method = params.first(where: { $0.0 == "REQUEST_METHOD" })?.1 ?? "GET"
        let path = params.first(where: { $0.0 == "DOCUMENT_URI" })?.1 ?? "/"
        return Request(method: method, path: path, requestID: param("REQUEST_ID", in: params))
    }

    private static func param(_ name: String, in params: [(String, String)]) -> String {
        params.first(where: { $0.0 == name })?.1 ?? ""
    }
}
