/// What one tenant's sync did.
public struct SyncResult: Sendable, Equatable {
    public var photosCount: Int
    public var uploaded: Int
    public var deleted: Int
    public var kept: Int
    public var failed: Int
    public var refreshTokenResult: RefreshOutcome
    public var durationMilliseconds: Int

    public var json: JSONValue {
        .object([
            ("photosCount", .int(photosCount)), ("uploaded", .int(uploaded)), ("deleted", .int(deleted)),
            ("kept", .int(kept)), ("failed", .int(failed)),
        ])
    }
}

/// Why a sync did not complete. Descriptions are safe to log and to return.
public enum SyncError: Error, Sendable, Equatable, CustomStringConvertible {
    case tenantNotFound
    /// Another sync of this tenant holds the lock.
    case locked
    /// The tenant has no Instagram access token to sync with.
    case noAccessToken
    /// Instagram failed; the stored feed is unchanged.
    case fetchFailed(UpstreamError)
    case storeFailed(StoreError)
    case tenantUnreadable(String)
    /// The token is dead (recorded by an earlier call, or expired): not sent to Instagram again.
    case tokenInvalid(HealthErrorCode)
    /// Meta's rate limit for the app or the tenant's account: not called until `untilUnix`; the
    /// tenant is deferred to a later round, never marked invalid.
    case rateLimited(untilUnix: Int)

    public var description: String {
        switch self {
        case .tenantNotFound: return "tenant not found"
        case .locked: return "another sync of this tenant is running"
        case .noAccessToken: return "tenant has no Instagram access token"
        case .fetchFailed(let error): return "fetching media failed: \(error)"
        case .storeFailed(let error): return error.description
        case .tenantUnreadable(let why): return why
        case .tokenInvalid(let code):
            return "the tenant's Instagram token is invalid (\(code.rawValue)): it is not synced until it gets a new token (PUT /tenant/instagram-token)"
        case .rateLimited(let until):
            return "deferred: Meta's rate limit (RATE_LIMITED) until \(ISO8601.format(Double(until)))"
        }
    }

    /// Put off to a later round (rate limited), not a failure of the tenant.
    public var isDeferral: Bool {
        if case .rateLimited = self { return true }
        return false
    }

    /// Retrying later may succeed (QStash should retry, the timer will).
    public var isTransient: Bool {
        switch self {
        case .locked, .storeFailed, .rateLimited: return true
        case .fetchFailed(let error): return error.isTransient
        case .tenantNotFound, .noAccessToken, .tenantUnreadable, .tokenInvalid: return false
        }
    }
}
