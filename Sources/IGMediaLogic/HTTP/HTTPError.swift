/// A client-visible failure. Handlers throw it; the error boundary renders it as the envelope.
///
/// `message` is shown to the client, so it must never carry a secret.
public struct HTTPError: Error, Sendable, Equatable {
    public var code: ErrorCode
    public var message: String
    public var status: HTTPStatus
    public var headers: [(String, String)]

    public init(_ code: ErrorCode, _ message: String, status: HTTPStatus? = nil, headers: [(String, String)] = []) {
        self.code = code
        self.message = message
        self.status = status ?? code.status
        self.headers = headers
    }

    public static func == (lhs: HTTPError, rhs: HTTPError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.status == rhs.status
    }

    public static func validation(_ message: String) -> HTTPError { HTTPError(.validationFailed, message) }
    public static func unauthorized(_ message: String = "Missing or invalid authentication") -> HTTPError {
        HTTPError(.unauthorized, message, headers: [("WWW-Authenticate", "Bearer")])
    }
    public static func notFound(_ message: String) -> HTTPError { HTTPError(.notFound, message) }
    public static func internalError(_ message: String = "Internal server error") -> HTTPError {
        HTTPError(.internalError, message)
    }
    public static func unavailable(_ message: String = "Storage is unavailable, try again shortly") -> HTTPError {
        HTTPError(.serviceUnavailable, message)
    }
}
