/// Standard Webhooks signing (`webhook-id`, `webhook-timestamp`, `webhook-signature`): HMAC-SHA256
/// over `"<id>.<timestamp>.<body>"` with the secret's base64-decoded bytes, sent as
/// `v1,<base64>`; during a rotation's grace period one entry per secret, space-separated.
public enum WebhookSigner {
    public static let secretPrefix = "whsec_"

    /// A new secret: `whsec_` and the standard base64 of 32 random bytes.
    public static func newSecret() -> String {
        secretPrefix + Base64.encode(SecureRandom.bytes(32))
    }

    /// The HMAC key of a `whsec_…` secret (padded or unpadded base64), nil when malformed.
    public static func key(of secret: String) -> [UInt8]? {
        guard secret.hasPrefix(secretPrefix) else { return nil }
        var text = String(secret.dropFirst(secretPrefix.count))
        while text.utf8.count % 4 != 0 { text += "=" }
        guard let key = Base64.decode(text), (24...64).contains(key.count) else { return nil }
        return key
    }

    /// The `webhook-signature` value for one attempt.
    public static func signature(id: String, timestamp: Int, body: [UInt8], secrets: [String]) -> String {
        let signed = Array("\(id).\(timestamp).".utf8) + body
        return secrets.compactMap(key(of:)).map { key in
            "v1," + Base64.encode(HMAC.sha256(key: key, message: signed))
        }.joined(separator: " ")
    }

    /// The three headers of one attempt.
    public static func headers(id: String, timestamp: Int, body: [UInt8], secrets: [String]) -> [(String, String)] {
        [
            ("webhook-id", id), ("webhook-timestamp", String(timestamp)),
            ("webhook-signature", signature(id: id, timestamp: timestamp, body: body, secrets: secrets)),
        ]
    }
}
