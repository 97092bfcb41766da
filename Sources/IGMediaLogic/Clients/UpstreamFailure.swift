/// What a caller does about an `UpstreamError`: the one mapping from every vendor's failures
/// (HTTP status, curl error, Graph error code) to a decision. The per-vendor classifiers
/// (`InstagramErrorClassifier`, `CloudinaryErrorClassifier`, `QStashErrorClassifier`,
/// `TransportErrorClassifier`) decide the error's `kind`; this decides what the kind means, and
/// `RetryPolicy`, the sync engine and the webhook act on it.
public enum UpstreamFailure: Sendable, Equatable {
    /// No answer, a timeout or a server error: the same call may well succeed soon.
    case retry
    /// The vendor asks us to slow down; `afterSeconds` when it said for how long (`Retry-After`).
    case rateLimited(afterSeconds: Int?)
    /// The token or key is invalid, expired or revoked: only the tenant or the operator can fix it.
    case credentialsInvalid
    /// Refused as invalid, not found or unreadable: the same call will fail the same way.
    case giveUp
}

extension UpstreamError {
    public var failure: UpstreamFailure {
        switch kind {
        case .transport, .timeout, .server: return .retry
        case .rateLimited: return .rateLimited(afterSeconds: retryAfterSeconds)
        case .auth: return .credentialsInvalid
        case .rejected, .notFound, .malformed: return .giveUp
        }
    }

    /// Worth trying again later (now with backoff, or on QStash's next delivery).
    public var isTransient: Bool {
        switch failure {
        case .retry, .rateLimited: return true
        case .credentialsInvalid, .giveUp: return false
        }
    }
}
