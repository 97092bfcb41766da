import Testing

@testable import IGMediaLogic

/// next-capabilities §4.5's computed vectors.
@Suite("Meta signed_request")
struct MetaSignedRequestTests {
    static let secret = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    static let valid = "umwGkiS8s90yHsVsQEeASJTa94Jls3rJbLatxoBqEOg.eyJhbGdvcml0aG0iOiJITUFDLVNIQTI1NiIsImV4cGlyZXMiOjE3MDAwMDM2MDAsImlzc3VlZF9hdCI6MTcwMDAwMDAwMCwidXNlcl9pZCI6IjEwMjIzMzQ0NTU2Njc3ODg5In0"
    static let tampered = "umwGkiS8s90yHsVsQEeASJTa94Jls3rJbLatxoBqEOg.eyJhbGdvcml0aG0iOiJITUFDLVNIQTI1NiIsImV4cGlyZXMiOjE3MDAwMDM2MDAsImlzc3VlZF9hdCI6MTcwMDAwMDAwMCwidXNlcl9pZCI6IjEwMjIzMzQ0NTU2Njc3ODgwIn0"

    @Test("the valid vector verifies with its secret and names its user")
    func valid() throws {
        let signed = try MetaSignedRequest(Self.valid)
        #expect(signed.userID == "10223344556677889")
        #expect(signed.issuedAt == 1_700_000_000)
        #expect(signed.isSigned(by: Self.secret))
        #expect(!signed.isSigned(by: "0f1e2d3c4b5a69788796a5b4c3d2e1f1"))
    }

    @Test("the tampered vector parses but does not verify")
    func tampered() throws {
        let signed = try MetaSignedRequest(Self.tampered)
        #expect(signed.userID == "10223344556677880")
        #expect(!signed.isSigned(by: Self.secret))
    }

    @Test("padded segments are the same request")
    func padded() throws {
        let parts = Self.valid.split(separator: ".").map(String.init)
        let padded = parts.map { $0 + String(repeating: "=", count: (4 - $0.count % 4) % 4) }.joined(separator: ".")
        #expect(try MetaSignedRequest(padded).isSigned(by: Self.secret))
    }

    @Test("malformed requests are refused before any secret is tried", arguments: [
        "no-dot", ".payload", "sig.", "c2hvcnQ.eyJ9",
        "umwGkiS8s90yHsVsQEeASJTa94Jls3rJbLatxoBqEOg.bm90IGpzb24",
        // {"algorithm":"HMAC-SHA1","user_id":"1"}
        "umwGkiS8s90yHsVsQEeASJTa94Jls3rJbLatxoBqEOg.eyJhbGdvcml0aG0iOiJITUFDLVNIQTEiLCJ1c2VyX2lkIjoiMSJ9",
        // {"algorithm":"HMAC-SHA256"} without user_id
        "umwGkiS8s90yHsVsQEeASJTa94Jls3rJbLatxoBqEOg.eyJhbGdvcml0aG0iOiJITUFDLVNIQTI1NiJ9",
    ])
    func malformed(text: String) {
        #expect(throws: MetaSignedRequest.Failure.self) { try MetaSignedRequest(text) }
    }
}
