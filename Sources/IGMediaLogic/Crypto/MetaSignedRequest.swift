/// Meta's `signed_request` (next-capabilities §4.3): `base64url(HMAC-SHA256(app secret, P)) + "." + P`
/// with `P = base64url(JSON)`, both unpadded (padding is accepted).
public struct MetaSignedRequest: Sendable {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case malformed(String)
        case badSignature

        public var description: String {
            switch self {
            case .malformed(let why): return "signed_request is malformed: \(why)"
            case .badSignature: return "signed_request signature does not verify"
            }
        }
    }

    let signature: [UInt8]
    /// The encoded payload segment: the HMAC covers these ASCII bytes, not the decoded JSON.
    let payloadSegment: [UInt8]
    public let userID: String
    public let issuedAt: Int?

    /// Parses without verifying (verification needs the app secret of the tenants `userID` names).
    public init(_ text: String) throws(Failure) {
        guard text.utf8.count <= 4096 else { throw .malformed("too long") }
        guard let dot = text.firstIndex(of: ".") else { throw .malformed("no '.'") }
        let signatureText = String(text[..<dot])
        let payloadText = String(text[text.index(after: dot)...])
        guard !signatureText.isEmpty, !payloadText.isEmpty else { throw .malformed("an empty part") }
        guard let signature = Base64.decodeURL(signatureText), signature.count == 32 else {
            throw .malformed("the signature is not 32 bytes of base64url")
        }
        guard let payloadBytes = Base64.decodeURL(payloadText),
            let payload = try? JSONParser.parse(payloadBytes, maxDepth: 8), case .object = payload
        else { throw .malformed("the payload is not base64url JSON") }
        guard let algorithm = payload["algorithm"]?.stringValue, algorithm.uppercased() == "HMAC-SHA256" else {
            throw .malformed("algorithm must be HMAC-SHA256")
        }
        guard let userID = payload["user_id"]?.idString ?? payload["user_id"]?.stringValue, !userID.isEmpty,
            userID.utf8.count <= 64
        else { throw .malformed("user_id is missing") }
        self.signature = signature
        // Meta signs the unpadded segment; a padded copy is the same request.
        var unpadded = Substring(payloadText)
        while unpadded.hasSuffix("=") { unpadded = unpadded.dropLast() }
        self.payloadSegment = Array(unpadded.utf8)
        self.userID = userID
        self.issuedAt = payload["issued_at"]?.intValue
    }

    /// Whether `appSecret` signed it (constant time).
    public func isSigned(by appSecret: String) -> Bool {
        let expected = HMAC.sha256(key: Array(appSecret.utf8), message: payloadSegment)
        return ConstantTime.equals(expected, signature)
    }
}
