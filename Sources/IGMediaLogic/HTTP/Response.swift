/// One HTTP response as a value; `ResponseSerializer` is the only place that turns it into bytes.
public struct Response: Sendable {
    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: HTTPStatus, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static let jsonContentType = "application/json; charset=utf-8"

    /// A JSON response whose body is already serialised.
    public static func json(_ status: HTTPStatus, body: [UInt8]) -> Response {
        var headers = HTTPHeaders()
        headers.add("Content-Type", jsonContentType)
        return Response(status: status, headers: headers, body: body)
    }
}
