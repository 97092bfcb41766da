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
