import IGMediaLogic
import Testing

@Suite("QStashSignatureVerifier")
struct QStashSignatureVerifierTests {
    // The worked example of external-apis.md §2.5, verbatim.
    static let goldenToken = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJVcHN0YXNoIiwic3ViIjoiaHR0cHM6Ly9leGFtcGxlLmNvbS9hcGkvcXN0YXNoIiwiZXhwIjoxNzAwMDAwMzAwLCJuYmYiOjE3MDAwMDAwMDAsImlhdCI6MTcwMDAwMDAwMCwianRpIjoiand0X3Rlc3QxMjMiLCJib2R5IjoiazZJNWNha1U1ZXJMOEtqU1VWVE5vd25Ed2NjdnU1a1UxSHhnODh0b0ZZZz0ifQ.ZJFKqFYPfyVQXvv3EKOpUI2IC54iERlv6bEH5b4jMA8"
    static let currentKey = "sig_testcurrentkey"
    static let nextKey = "sig_testnextkey"
    static let body = Array(#"{"hello":"world"}"#.utf8)
    static let subject = "https://example.com/api/qstash"

    @Test("accepts the documented golden token and returns its claims")
    func goldenVectorValid() throws {
        let verifier = QStashSignatureVerifier(currentKey: Self.currentKey, nextKey: "", clockToleranceSeconds: 0)
        let claims = try verifier.verify(
            signature: Self.goldenToken, body: Self.body, expectedSubject: Self.subject, now: 1_700_000_100)
        #expect(claims == QStashClaims(subject: Self.subject, expiresAt: 1_700_000_300, notBefore: 1_700_000_000,
                                       issuedAt: 1_700_000_000, tokenID: "jwt_test123"))
    }

    @Test("rejects the golden token once exp is reached")
    func goldenVectorExpired() {
        let verifier = QStashSignatureVerifier(currentKey: Self.currentKey, nextKey: "", clockToleranceSeconds: 0)
        #expect(throws: QStashSignatureError.expired) {
            try verifier.verify(signature: Self.goldenToken, body: Self.body, expectedSubject: Self.subject,
                                now: 1_700_000_300)
        }
    }

    @Test("the test signer reproduces the golden token")
    func signerMatchesGolden() {
        #expect(TestJWT.sign(payload: Self.payload(), key: Self.currentKey) == Self.goldenToken)
    }

    @Test("error descriptions never contain the token or a key")
    func redaction() throws {
        let verifier = QStashSignatureVerifier(currentKey: Self.currentKey, nextKey: Self.nextKey,
                                               clockToleranceSeconds: 0)
        #expect(!String(describing: verifier).contains("sig_"))
        #expect(Mirror(reflecting: verifier).children.isEmpty)
        let error = try #require(throws: QStashSignatureError.self) {
            try verifier.verify(signature: Self.goldenToken, body: [], expectedSubject: Self.subject,
                                now: 1_700_000_100)
        }
        #expect(!error.description.contains("eyJ"))
        #expect(!error.description.contains("sig_"))
    }

    @Test("compares the subject byte for byte, not by Unicode equivalence")
    func subjectIsExact() {
        let verifier = QStashSignatureVerifier(currentKey: Self.currentKey, nextKey: "", clockToleranceSeconds: 0)
        let token = Self.signed(replacing: [("sub", TestJWT.quoted("https://example.com/cafe\u{301}"))])
        #expect(throws: QStashSignatureError.wrongSubject) {
            try verifier.verify(signature: token, body: Self.body, expectedSubject: "https://example.com/caf\u{e9}",
                                now: 1_700_000_100)
        }
    }

    // MARK: - Forged and broken tokens

    /// The golden payload with members replaced (raw JSON values) or removed; order is kept.
    static func payload(replacing: [(String, String)] = [], removing: [String] = []) -> String {
        let standard: [(String, String)] = [
            ("iss", TestJWT.quoted("Upstash")), ("sub", TestJWT.quoted(subject)), ("exp", "1700000300"),
            ("nbf", "1700000000"), ("iat", "1700000000"), ("jti", TestJWT.quoted("jwt_test123")),
            ("body", TestJWT.quoted("k6I5cakU5erL8KjSUVTNownDwccvu5kU1Hxg88toFYg=")),
        ]
        let members = standard.compactMap { name, value -> (String, String)? in
            if removing.contains(name) { return nil }
            return (name, replacing.first(where: { $0.0 == name })?.1 ?? value)
        }
        return TestJWT.object(members)
    }

    static func signed(replacing: [(String, String)] = [], removing: [String] = [],
                       header: String = TestJWT.hs256Header, key: String = currentKey) -> String {
        TestJWT.sign(header: header, payload: payload(replacing: replacing, removing: removing), key: key)
    }

    /// The golden token with its signature part replaced.
    static func withSignature(_ signature: String) -> String {
        String(goldenToken.split(separator: ".")[0...1].joined(separator: ".")) + "." + signature
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let label: String
        let token: String?
        var currentKey = QStashSignatureVerifierTests.currentKey
        var nextKey = QStashSignatureVerifierTests.nextKey
        var now = 1_700_000_100
        var tolerance = 0
        var body = QStashSignatureVerifierTests.body
        /// nil: the token must be accepted.
        let expected: QStashSignatureError?
        var testDescription: String { label }
    }

    static let goldenSignature = "ZJFKqFYPfyVQXvv3EKOpUI2IC54iERlv6bEH5b4jMA8"
    static let header = Base64.encodeURL(Array(TestJWT.hs256Header.utf8))
    static let payloadPart = Base64.encodeURL(Array(payload().utf8))

    static let cases: [Case] = [
        // Keys
        Case(label: "signed with an unknown key", token: signed(key: "sig_attacker"), expected: .badSignature),
        Case(label: "signed with the next key", token: signed(key: nextKey), expected: nil),
        Case(label: "current key empty, next key valid", token: signed(key: nextKey), currentKey: "", expected: nil),
        Case(label: "both configured keys differ from the signer", token: goldenToken,
             currentKey: "sig_a", nextKey: "sig_b", expected: .badSignature),
        Case(label: "no keys configured", token: goldenToken, currentKey: "", nextKey: "", expected: .badSignature),
        Case(label: "truncated MAC", token: withSignature(String(goldenSignature.dropLast(3))), expected: .badSignature),
        // Time
        Case(label: "exp equal to now", token: goldenToken, now: 1_700_000_300, expected: .expired),
        Case(label: "exp one second ago", token: goldenToken, now: 1_700_000_301, expected: .expired),
        Case(label: "exp one second ahead", token: goldenToken, now: 1_700_000_299, expected: nil),
        Case(label: "expired but inside tolerance", token: goldenToken, now: 1_700_000_329, tolerance: 30, expected: nil),
        Case(label: "expired at the tolerance edge", token: goldenToken, now: 1_700_000_330, tolerance: 30,
             expected: .expired),
        Case(label: "nbf one second in the future", token: goldenToken, now: 1_699_999_999, expected: .notYetValid),
        Case(label: "nbf equal to now", token: goldenToken, now: 1_700_000_000, expected: nil),
        Case(label: "nbf in the future at the tolerance edge", token: goldenToken, now: 1_699_999_970, tolerance: 30,
             expected: nil),
        Case(label: "nbf beyond the tolerance", token: goldenToken, now: 1_699_999_969, tolerance: 30,
             expected: .notYetValid),
        // Claims
        Case(label: "wrong issuer", token: signed(replacing: [("iss", TestJWT.quoted("upstash"))]), expected: .wrongIssuer),
        Case(label: "wrong subject (trailing slash)", token: signed(replacing: [("sub", TestJWT.quoted(subject + "/"))]),
             expected: .wrongSubject),
        Case(label: "wrong subject (http)",
             token: signed(replacing: [("sub", TestJWT.quoted("http://example.com/api/qstash"))]), expected: .wrongSubject),
        Case(label: "missing iss", token: signed(removing: ["iss"]), expected: .missingClaim("iss")),
        Case(label: "missing sub", token: signed(removing: ["sub"]), expected: .missingClaim("sub")),
        Case(label: "missing exp", token: signed(removing: ["exp"]), expected: .missingClaim("exp")),
        Case(label: "missing nbf", token: signed(removing: ["nbf"]), expected: .missingClaim("nbf")),
        Case(label: "missing body claim", token: signed(removing: ["body"]), expected: .missingClaim("body")),
        Case(label: "missing iat and jti", token: signed(removing: ["iat", "jti"]), expected: nil),
        Case(label: "exp as a string", token: signed(replacing: [("exp", TestJWT.quoted("1700000300"))]),
             expected: .malformed),
        Case(label: "exp with a fraction", token: signed(replacing: [("exp", "1700000300.5")]), expected: .malformed),
        Case(label: "payload is not an object", token: TestJWT.sign(payload: "[]", key: currentKey), expected: .malformed),
        Case(label: "payload is not JSON", token: TestJWT.sign(payload: "iss=Upstash", key: currentKey),
             expected: .malformed),
        // Body
        Case(label: "another body", token: goldenToken, body: Array(#"{"hello":"world!"}"#.utf8), expected: .bodyMismatch),
        Case(label: "empty body", token: goldenToken, body: [], expected: .bodyMismatch),
        Case(label: "body claim without padding",
             token: signed(replacing: [("body", TestJWT.quoted("k6I5cakU5erL8KjSUVTNownDwccvu5kU1Hxg88toFYg"))]),
             expected: nil),
        Case(label: "body claim with padding", token: goldenToken, expected: nil),
        // Header
        Case(label: "alg none, signed anyway", token: signed(header: #"{"alg":"none","typ":"JWT"}"#),
             expected: .unsupportedAlgorithm),
        Case(label: "alg none, empty signature", token: "\(Base64.encodeURL(Array(#"{"alg":"none"}"#.utf8))).\(payloadPart).",
             expected: .malformed),
        Case(label: "alg HS512", token: signed(header: #"{"alg":"HS512","typ":"JWT"}"#), expected: .unsupportedAlgorithm),
        Case(label: "alg lowercase", token: signed(header: #"{"alg":"hs256","typ":"JWT"}"#), expected: .unsupportedAlgorithm),
        Case(label: "alg missing", token: signed(header: #"{"typ":"JWT"}"#), expected: .unsupportedAlgorithm),
        Case(label: "header is not JSON", token: signed(header: "HS256"), expected: .malformed),
        // Structure
        Case(label: "missing header", token: nil, expected: .missingHeader),
        Case(label: "empty header", token: "", expected: .missingHeader),
        Case(label: "two parts", token: "\(header).\(payloadPart)", expected: .malformed),
        Case(label: "four parts", token: goldenToken + ".AAAA", expected: .malformed),
        Case(label: "empty payload part", token: "\(header)..\(goldenSignature)", expected: .malformed),
        Case(label: "only dots", token: "..", expected: .malformed),
        Case(label: "standard base64 '+' in the signature", token: withSignature("+" + String(goldenSignature.dropFirst())),
             expected: .malformed),
        Case(label: "padding on the signature", token: withSignature(goldenSignature + "="), expected: .malformed),
        Case(label: "non-canonical trailing bits in the signature",
             token: withSignature(String(goldenSignature.dropLast()) + "9"), expected: .malformed),
        Case(label: "whitespace inside the token", token: goldenToken.replacing(".", with: ". ", maxReplacements: 1),
             expected: .malformed),
        Case(label: "oversized token", token: goldenToken + String(repeating: "A", count: 9000), expected: .malformed),
    ]

    @Test("checks forged and broken tokens", arguments: cases)
    func forgedTokens(input: Case) {
        let verifier = QStashSignatureVerifier(currentKey: input.currentKey, nextKey: input.nextKey,
                                               clockToleranceSeconds: input.tolerance)
        let outcome = Result { () throws(QStashSignatureError) -> QStashClaims in
            try verifier.verify(signature: input.token, body: input.body, expectedSubject: Self.subject, now: input.now)
        }
        switch (outcome, input.expected) {
        case (.success, nil): break
        case (.success, let expected?): Issue.record("accepted; expected \(expected)")
        case (.failure(let error), nil): Issue.record("rejected with \(error); expected acceptance")
        case (.failure(let error), let expected?): #expect(error == expected)
        }
    }
}
