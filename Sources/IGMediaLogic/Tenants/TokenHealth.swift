/// What the service knows about a tenant's Instagram token, recorded by every sync and every
/// token call, and the `tokenState` derived from it.
public enum TokenState: String, Sendable, CaseIterable {
    case ok
    /// Expires within `TOKEN_EXPIRING_DAYS`, and refreshing failed or is impossible.
    case expiring
    /// Instagram said the token is dead (Graph 190 with a dead-token subcode), or it expired.
    case invalid
    /// No token is stored.
    case missing
}

/// Our stable codes for why a tenant's last Instagram call failed. Decided from the Graph error
/// object (code, error_subcode), never from its message text.
public enum HealthErrorCode: String, Sendable, CaseIterable {
    case tokenExpired = "TOKEN_EXPIRED"
    case tokenRevoked = "TOKEN_REVOKED"
    /// The user must clear a checkpoint or confirm the account (190/459, 190/464); the token may
    /// work again afterwards, so it is not marked invalid.
    case userActionRequired = "USER_ACTION_REQUIRED"
    case permissionMissing = "PERMISSION_MISSING"
    case rateLimited = "RATE_LIMITED"
    case upstreamUnavailable = "UPSTREAM_UNAVAILABLE"
    /// Instagram refused the request for another reason (bad parameter, unknown account).
    case upstreamRejected = "UPSTREAM_REJECTED"
    case noAccessToken = "NO_ACCESS_TOKEN"

    /// Whether this code means the token can never work again (the tenant needs a new one).
    public var invalidatesToken: Bool { self == .tokenExpired || self == .tokenRevoked }

    /// The code for an Instagram failure (next-capabilities §2.2): 190/102 by subcode, 10 and
    /// 200–299 a missing permission, throttles rate limited, transport and 5xx unavailable.
    public static func classify(_ error: UpstreamError) -> HealthErrorCode {
        switch error.kind {
        case .rateLimited: return .rateLimited
        case .transport, .timeout, .server: return .upstreamUnavailable
        case .rejected, .notFound, .malformed: return .upstreamRejected
        case .auth: break
        }
        switch error.code {
        case 190?, 102?:
            switch error.subcode {
            case 463?: return .tokenExpired
            case 459?, 464?: return .userActionRequired
            default: return .tokenRevoked
            }
        case let code? where code == 10 || (200...299).contains(code):
            return .permissionMissing
        default:
            // An HTTP 401 without a Graph error object says nothing about the token's fate.
            return .upstreamRejected
        }
    }
}

/// The health fields of `tenant:{id}`.
public struct TokenHealth: Sendable, Equatable {
    /// Unix seconds; nil when unknown (an Instagram Login token given at /register, not yet refreshed).
    public var tokenExpiresAt: Double?
    public var lastSyncAt: String?
    /// `ok` or `failed`.
    public var lastSyncOutcome: String?
    public var lastErrorCode: HealthErrorCode?
    public var lastErrorAt: String?
    public var consecutiveFailures: Int
    /// Set when Instagram declared the token dead; cleared only by a new token.
    public var invalidReason: HealthErrorCode?
    /// When the last token refresh failed; cleared by a successful one.
    public var refreshFailedAt: String?
    /// Meta rate-limited this tenant's account until then (unix seconds): syncs are deferred.
    public var rateLimitedUntil: Double?
    /// Throttle errors in a row (the exponential backoff's exponent); reset by a successful fetch.
    public var rateLimitStrikes: Int = 0

    public init(
        tokenExpiresAt: Double? = nil, lastSyncAt: String? = nil, lastSyncOutcome: String? = nil,
        lastErrorCode: HealthErrorCode? = nil, lastErrorAt: String? = nil, consecutiveFailures: Int = 0,
        invalidReason: HealthErrorCode? = nil, refreshFailedAt: String? = nil
    ) {
        self.tokenExpiresAt = tokenExpiresAt
        self.lastSyncAt = lastSyncAt
        self.lastSyncOutcome = lastSyncOutcome
        self.lastErrorCode = lastErrorCode
        self.lastErrorAt = lastErrorAt
        self.consecutiveFailures = consecutiveFailures
        self.invalidReason = invalidReason
        self.refreshFailedAt = refreshFailedAt
    }

    /// The derived state at `now`. A Facebook Login token cannot be refreshed by a server app
    /// (next-capabilities §1.4), so near its end it is `expiring` without a failed refresh.
    public func state(now: Double, hasToken: Bool, apiType: APIType, expiringDays: Int) -> TokenState {
        guard hasToken else { return .missing }
        if invalidReason != nil { return .invalid }
        guard let expiresAt = tokenExpiresAt else { return .ok }
        if expiresAt <= now { return .invalid }
        let refreshImpossible = apiType == .facebookLogin
        if expiresAt - now <= Double(expiringDays) * 86_400, refreshImpossible || refreshFailedAt != nil {
            return .expiring
        }
        return .ok
    }
}
