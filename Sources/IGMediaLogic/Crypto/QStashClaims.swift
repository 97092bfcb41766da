/// The claims of a verified `Upstash-Signature` token. The issuer is always `Upstash` and the body
/// hash has already been checked, so neither is repeated here.
public struct QStashClaims: Sendable, Equatable {
    /// `sub`: the destination URL QStash called.
    public let subject: String
    /// `exp`: expiry, unix seconds.
    public let expiresAt: Int
    /// `nbf`: start of validity, unix seconds.
    public let notBefore: Int
    /// `iat`: issue time, unix seconds; informational.
    public let issuedAt: Int?
    /// `jti`: the token's unique id (`jwt_…`), usable for a replay store.
    public let tokenID: String?

    public init(subject: String, expiresAt: Int, notBefore: Int, issuedAt: Int?, tokenID: String?) {
        self.subject = subject
        self.expiresAt = expiresAt
        self.notBefore = notBefore
        self.issuedAt = issuedAt
        self.tokenID = tokenID
    }
}
