/// The error codes of the envelope, each with its HTTP status.
///
/// The first four are the seed service's; the rest are ours and documented in the README.
public enum ErrorCode: String, Sendable, CaseIterable {
    case validationFailed = "VALIDATION_FAILED"
    case unauthorized = "UNAUTHORIZED"
    /// Authenticated, but with a credential that may not do this (the auth token on a
    /// management endpoint, a disallowed origin).
    case forbidden = "FORBIDDEN"
    case notFound = "NOT_FOUND"
    case methodNotAllowed = "METHOD_NOT_ALLOWED"
    case payloadTooLarge = "PAYLOAD_TOO_LARGE"
    case conflict = "CONFLICT"
    case internalError = "INTERNAL_ERROR"
    case serviceUnavailable = "SERVICE_UNAVAILABLE"
    /// nginx's limit_req answer.
    case rateLimited = "RATE_LIMITED"
    /// A QStash-delivered sync that a retry cannot fix (answered 489, non-retryable).
    case syncFailed = "SYNC_FAILED"

    public var status: HTTPStatus {
        switch self {
        case .validationFailed: return .badRequest
        case .unauthorized: return .unauthorized
        case .forbidden: return .forbidden
        case .notFound: return .notFound
        case .methodNotAllowed: return .methodNotAllowed
        case .payloadTooLarge: return .payloadTooLarge
        case .conflict: return .conflict
        case .internalError: return .internalServerError
        case .serviceUnavailable: return .serviceUnavailable
        case .rateLimited: return .tooManyRequests
        case .syncFailed: return .nonRetryable
        }
    }
}
