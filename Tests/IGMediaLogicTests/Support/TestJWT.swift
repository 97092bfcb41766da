import IGMediaLogic

/// A test-only HS256 signer for forging `Upstash-Signature` tokens, built on the library's HMAC and
/// base64url. Header and payload are raw JSON text so tests can write broken documents.
enum TestJWT {
    static let hs256Header = #"{"alg":"HS256","typ":"JWT"}"#

    /// `base64url(header).base64url(payload).base64url(HMAC-SHA256(key, signing input))`.
    static func sign(header: String = hs256Header, payload: String, key: String) -> String {
        let signingInput = Base64.encodeURL(Array(header.utf8)) + "." + Base64.encodeURL(Array(payload.utf8))
        let mac = HMAC.sha256(key: Array(key.utf8), message: Array(signingInput.utf8))
        return signingInput + "." + Base64.encodeURL(mac)
    }

    /// A compact JSON object from `(name, raw JSON value)` pairs, in order.
    static func object(_ members: [(String, String)]) -> String {
        "{" + members.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    /// A JSON string literal (test values contain no characters that need escaping).
    static func quoted(_ text: String) -> String { "\"\(text)\"" }
}
