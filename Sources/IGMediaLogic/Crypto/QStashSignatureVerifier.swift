/// Verifies the `Upstash-Signature` header QStash sends with every delivery: an HS256 JWT whose
/// claims name our URL, a validity window and the SHA-256 of the body.
///
/// Keys are the console strings (`sig_…`) used as their UTF-8 bytes, not base64-decoded. The
/// current key is tried first, then the next one, so deliveries keep verifying while keys rotate.
public struct QStashSignatureVerifier: Sendable {
    /// Longer headers are rejected before any decoding; real tokens are a few hundred bytes.
    static let maximumTokenLength = 8192
    /// A larger tolerance is clamped to this: a day of clock skew means something else is wrong.
    static let maximumClockTolerance = 86_400

    private let keys: [[UInt8]]
    private let clockTolerance: Int
    /// Seconds past `exp` a token still verifies; a replay store keeps its ids this long.
    public var clockToleranceSeconds: Int { clockTolerance }

    /// - Parameters:
    ///   - currentKey: `QSTASH_CURRENT_SIGNING_KEY`; skipped when empty.
    ///   - nextKey: `QSTASH_NEXT_SIGNING_KEY`; skipped when empty. With both empty nothing verifies.
    ///   - clockToleranceSeconds: allowed skew for `exp`/`nbf`, clamped to 0...86400 (SDK default 0).
    public init(currentKey: String, nextKey: String, clockToleranceSeconds: Int) {
        keys = [currentKey, nextKey].filter { !$0.isEmpty }.map { Array($0.utf8) }
        clockTolerance = min(max(clockToleranceSeconds, 0), Self.maximumClockTolerance)
    }

    /// Checks `signature` (the raw header value) against the exact request `body` bytes.
    ///
    /// - Parameters:
    ///   - expectedSubject: the configured public URL of this endpoint; `sub` must match it exactly.
    ///   - now: the current time in unix seconds (injected for tests).
    /// - Returns: the verified claims.
    public func verify(signature: String?, body: [UInt8], expectedSubject: String, now: Int)
        throws(QStashSignatureError) -> QStashClaims {
        guard let token = signature, !token.isEmpty else { throw .missingHeader }
        guard token.utf8.count <= Self.maximumTokenLength else { throw .malformed }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else { throw .malformed }

        guard let headerBytes = Self.strictBase64URLDecode(parts[0]),
              let payloadBytes = Self.strictBase64URLDecode(parts[1]),
              let mac = Self.strictBase64URLDecode(parts[2])
        else { throw .malformed }

        let header = try Self.jsonObject(headerBytes)
        guard let alg = header["alg"]?.stringValue, Self.sameBytes(alg, "HS256") else { throw .unsupportedAlgorithm }

        let signingInput = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        let matches = keys.contains { key in
            ConstantTime.equals(HMAC.sha256(key: key, message: signingInput), mac)
        }
        guard matches else { throw .badSignature }

        // The payload is parsed only once it is authenticated.
        let claims = try Self.jsonObject(payloadBytes)
        return try check(claims, body: body, expectedSubject: expectedSubject, now: now)
    }

    private func check(_ claims: JSONValue, body: [UInt8], expectedSubject: String, now: Int)
        throws(QStashSignatureError) -> QStashClaims {
        for name in ["iss", "sub", "exp", "nbf", "body"] where claims[name] == nil {
            throw .missingClaim(name)
        }
        guard let issuer = claims["iss"]?.stringValue, let subject = claims["sub"]?.stringValue,
              let expiresAt = Self.integer(claims["exp"]), let notBefore = Self.integer(claims["nbf"]),
              let bodyClaim = claims["body"]?.stringValue
        else { throw .malformed }
        let issuedAt = try Self.optionalInteger(claims["iat"])
        let tokenID = claims["jti"]?.stringValue

        guard Self.sameBytes(issuer, "Upstash") else { throw .wrongIssuer }
        guard Self.sameBytes(subject, expectedSubject) else { throw .wrongSubject }
        guard expiresAt > now - clockTolerance else { throw .expired }
        guard notBefore <= now + clockTolerance else { throw .notYetValid }

        let expectedBody = Base64.encodeURL(Digest.sha256(body))
        guard ConstantTime.equals(Self.strippingPadding(bodyClaim), expectedBody) else { throw .bodyMismatch }
        return QStashClaims(subject: subject, expiresAt: expiresAt, notBefore: notBefore,
                            issuedAt: issuedAt, tokenID: tokenID)
    }

    /// base64url without padding, and canonical: re-encoding must give the same text, so unused
    /// trailing bits cannot make two spellings of one MAC.
    static func strictBase64URLDecode(_ part: Substring) -> [UInt8]? {
        let text = String(part)
        guard !text.contains("="), let bytes = Base64.decodeURL(text), Base64.encodeURL(bytes) == text
        else { return nil }
        return bytes
    }

    private static func jsonObject(_ bytes: [UInt8]) throws(QStashSignatureError) -> JSONValue {
        guard let value = try? JSONParser.parse(bytes),
              case .object = value
        else { throw .malformed }
        return value
    }

    /// An integer JSON number (not a string, fraction or exponent).
    private static func integer(_ value: JSONValue?) -> Int? {
        guard case .number(let text)? = value else { return nil }
        return Int(text)
    }

    private static func optionalInteger(_ value: JSONValue?) throws(QStashSignatureError) -> Int? {
        guard let value, !value.isNull else { return nil }
        guard let number = integer(value) else { throw .malformed }
        return number
    }

    /// Exact byte equality; Swift's `==` would also accept canonically equivalent Unicode spellings.
    private static func sameBytes(_ a: String, _ b: String) -> Bool {
        a.utf8.elementsEqual(b.utf8)
    }

    private static func strippingPadding(_ text: String) -> String {
        var text = Substring(text)
        while text.last == "=" { text.removeLast() }
        return String(text)
    }
}

extension QStashSignatureVerifier: CustomStringConvertible, CustomReflectable {
    /// Never shows the keys.
    public var description: String { "QStashSignatureVerifier(\(keys.count) key(s), tolerance \(clockTolerance)s)" }

    /// Hides the keys from `dump` and debugger mirrors.
    public var customMirror: Mirror { Mirror(self, children: []) }
}
