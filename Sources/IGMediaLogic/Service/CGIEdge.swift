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
        CGIRequestDecoder.bodyPlan(contentLength: Self.param("CONTENT_LENGTH", in: params), maxBodyBytes: maxBodyBytes)
    }

    /// Decodes the request and picks its pool, on the accepting thread.
    public func admit(params: [(String, String)], body: [UInt8]) -> Admission {
        do {
            let request = try CGIRequestDecoder.decode(params: params, body: body)
            let path = Self.param("DOCUMENT_URI", in: params)
            return .serve(request, application.lane(method: request.method, path: path))
        } catch {
            return .answer(application.respond(to: Self.stub(params), failure: error))
        }
    }

    public func respond(to request: Request) -> Response {
        application.respond(to: request)
    }

    /// The answer for a request refused at the edge.
    public func reject(params: [(String, String)], _ rejection: Rejection) -> Response {
        let error: HTTPError
        switch rejection {
        case .bodyTooLarge:
            error = HTTPError(.payloadTooLarge, "Request body exceeds \(maxBodyBytes) bytes")
        case .invalidContentLength:
            error = .validation("Invalid Content-Length")
        case .outboundQueueFull:
            error = HTTPError(
                .serviceUnavailable, "Too many requests are waiting for Instagram, Cloudinary or QStash; retry later",
                headers: [("Retry-After", "5")])
        }
        return application.respond(to: Self.stub(params), failure: error)
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
