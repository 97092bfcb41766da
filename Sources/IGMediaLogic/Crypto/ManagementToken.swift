/// The credential that changes or deletes a tenant (the auth token only reads its feed).
/// Random, shown once, stored only as its SHA-256: a copy of the store cannot act as a tenant.
public enum ManagementToken {
    static let prefix = "igmt_"

    /// `igmt_` + base64url of 32 random bytes (48 characters).
    public static func make() -> String {
        prefix + Base64.encodeURL(SecureRandom.bytes(32))
    }

    /// What the store keeps: lowercase hex SHA-256 of the token's bytes. A hash lookup needs no
    /// constant-time compare: the key names the hash, never the token.
    public static func hash(_ token: String) -> String {
        Digest.hex(Digest.sha256(Array(token.utf8)))
    }
}
