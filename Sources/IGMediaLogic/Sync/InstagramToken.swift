/// A long-lived token and how long it lives.
public struct InstagramToken: Sendable, Equatable {
    public var accessToken: String
    /// Seconds; nil when Instagram did not say (Facebook sometimes omits it).
    public var expiresIn: Int?
    /// The app-scoped user id, when the endpoint returns one (kept as digits).
    public var userID: String?

    public init(accessToken: String, expiresIn: Int? = nil, userID: String? = nil) {
        self.accessToken = accessToken
        self.expiresIn = expiresIn
        self.userID = userID
    }
}

/// What Instagram says about a token it accepts.
public struct TokenInspection: Sendable, Equatable {
    /// Unix seconds; nil when Instagram does not say or the token never expires.
    public var expiresAt: Double?
    /// The account or user the token belongs to, when the answer names it.
    public var userID: String?

    public init(expiresAt: Double? = nil, userID: String? = nil) {
        self.expiresAt = expiresAt
        self.userID = userID
    }
}
