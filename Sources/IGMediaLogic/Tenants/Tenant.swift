/// How a tenant's Instagram account was connected; decides hosts and token refresh.
public enum APIType: String, Sendable, CaseIterable {
    case facebookLogin = "FACEBOOK_LOGIN"
    case instagramLogin = "INSTAGRAM_LOGIN"
}

/// A tenant with its secrets decrypted. Never log it: `description` is redacted.
public struct Tenant: Sendable, CustomStringConvertible {
    public var id: String
    public var name: String
    public var authToken: String
    public var apiType: APIType
    public var instagramAccountID: String
    public var instagramAccountSecret: String
    public var instagramAccessToken: String?
    /// The Facebook app id, needed to exchange FACEBOOK_LOGIN tokens.
    public var instagramAppID: String?
    public var lastSync: String?
    public var tokenUpdate: String?
    public var createdAt: String?
    public var lastError: String?
    public var health = TokenHealth()
    /// SHA-256 (hex) of the management token; the token itself is never stored.
    public var managementTokenHash: String?
    /// The auth token replaced by the last rotation, still accepted for the grace period.
    public var previousAuthToken: String?
    /// Set when a deletion started; the tenant is then neither served nor synced.
    public var deletingSince: String?

    public init(
        id: String, name: String, authToken: String, apiType: APIType, instagramAccountID: String,
        instagramAccountSecret: String, instagramAccessToken: String? = nil, instagramAppID: String? = nil,
        lastSync: String? = nil, tokenUpdate: String? = nil, createdAt: String? = nil, lastError: String? = nil
    ) {
        self.id = id
        self.name = name
        self.authToken = authToken
        self.apiType = apiType
        self.instagramAccountID = instagramAccountID
        self.instagramAccountSecret = instagramAccountSecret
        self.instagramAccessToken = instagramAccessToken
        self.instagramAppID = instagramAppID
        self.lastSync = lastSync
        self.tokenUpdate = tokenUpdate
        self.createdAt = createdAt
        self.lastError = lastError
    }

    public var description: String { "Tenant(id: \(id), apiType: \(apiType.rawValue))" }
}

/// Hash field names of `tenant:{id}`: the seed's, plus ours.
enum TenantField {
    static let name = "name"
    static let authToken = "authToken"
    static let accessToken = "instagramAccessToken"
    static let accountSecret = "instagramAccountSecret"
    static let accountID = "instagramAccountId"
    static let apiType = "apiType"
    static let lastSync = "last_sync"
    static let tokenUpdate = "token_update"
    static let appID = "instagramAppId"
    static let createdAt = "created_at"
    static let lastError = "last_error"
    static let tokenExpiresAt = "token_expires_at"
    static let lastSyncOutcome = "last_sync_outcome"
    static let lastErrorCode = "last_error_code"
    static let lastErrorAt = "last_error_at"
    static let consecutiveFailures = "consecutive_failures"
    static let tokenInvalid = "token_invalid"
    static let refreshFailedAt = "token_refresh_failed_at"
    static let managementTokenHash = "management_token_hash"
    static let previousAuthToken = "previous_auth_token"
    static let deletingSince = "deleting_since"
    static let blindIndex = "instagram_account_index"
    static let photosCount = "photos_count"
    static let rateLimitedUntil = "rate_limited_until"
    static let rateLimitStrikes = "rate_limit_strikes"
    /// The app-scoped user id `debug_token` named (Facebook Login), sealed, and its blind index:
    /// Meta's callbacks name that id, not the Instagram account's.
    static let metaUserID = "meta_user_id"
    static let metaUserIndex = "meta_user_index"

    /// The health fields a new token resets.
    static let healthFields = [lastErrorCode, lastErrorAt, consecutiveFailures, tokenInvalid, refreshFailedAt, lastError]
}
