/// Why an `Upstash-Signature` was rejected (answer 401 for all of them; QStash retries).
///
/// Descriptions are safe to log: they never contain the token, a signing key or the body.
public enum QStashSignatureError: Error, Equatable, CustomStringConvertible {
    /// No `Upstash-Signature` header, or an empty one.
    case missingHeader
    /// Not three non-empty strict base64url parts, or a part that is not the expected JSON.
    case malformed
    /// The header's `alg` is absent or anything other than `HS256`.
    case unsupportedAlgorithm
    /// The MAC matches neither the current nor the next signing key.
    case badSignature
    /// `iss` is not `Upstash`.
    case wrongIssuer
    /// `sub` is not the URL this endpoint is configured as.
    case wrongSubject
    /// `exp` has passed (beyond the clock tolerance).
    case expired
    /// `nbf` is still in the future (beyond the clock tolerance).
    case notYetValid
    /// The `body` claim is not the SHA-256 of the received body.
    case bodyMismatch
    /// A required claim (`iss`, `sub`, `exp`, `nbf`, `body`) is absent; carries the claim name.
    case missingClaim(String)

    public var description: String {
        switch self {
        case .missingHeader: "QStash signature header is missing"
        case .malformed: "QStash signature is not a well-formed JWT"
        case .unsupportedAlgorithm: "QStash signature uses an algorithm other than HS256"
        case .badSignature: "QStash signature does not match the current or next signing key"
        case .wrongIssuer: "QStash signature issuer is not Upstash"
        case .wrongSubject: "QStash signature subject is not this endpoint's URL"
        case .expired: "QStash signature has expired"
        case .notYetValid: "QStash signature is not yet valid"
        case .bodyMismatch: "QStash signature does not match the request body"
        case .missingClaim(let name): "QStash signature lacks the \(name) claim"
        }
    }
}
