/// `GET /health`: the process is up and answering.
public struct HealthHandler: RequestHandler {
    public init() {}

    private static let body = Envelope.success(.object([("message", .string("ok"))]))

    public func handle(_ request: Request) throws -> Response { Self.body }
}
