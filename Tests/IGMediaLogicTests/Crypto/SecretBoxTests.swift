@testable import IGMediaLogic
import Testing

@Suite("SecretBox")
struct SecretBoxTests {
    static let key = TestBytes.hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
    static let tenant = "0f8fad5b-d9cb-469f-a165-70867728950e"

    let box: SecretBox

    init() throws {
        box = try SecretBox(key: Self.key)
    }

    @Test("opens what it sealed", arguments: [
        "", "IGQVJ-access-token", "pässwörd 🔐 日本語", String(repeating: "long secret ", count: 1000),
    ])
    func roundTrip(plaintext: String) throws {
        let sealed = box.seal(plaintext, tenantID: Self.tenant, field: "accessToken")
        #expect(try box.open(sealed, tenantID: Self.tenant, field: "accessToken") == plaintext)
    }

    @Test("sealed form is v1: and base64 of IV, ciphertext and tag")
    func sealedLayout() throws {
        let plaintext = "pässwörd"
        let sealed = box.seal(plaintext, tenantID: Self.tenant, field: "accessToken")
        #expect(sealed.hasPrefix("v1:"))
        let decoded = try #require(Base64.decode(String(sealed.dropFirst(3))))
        #expect(decoded.count == 12 + plaintext.utf8.count + 16)
        #expect(!sealed.contains(plaintext))
    }

    @Test("a flipped byte in the IV, ciphertext or tag fails authentication", arguments: [
        ("iv", 0), ("iv", 11), ("ciphertext", 12), ("ciphertext", 20), ("tag", -16), ("tag", -1),
    ])
    func tampering(region: String, offset: Int) throws {
        let sealed = box.seal("a secret of some length", tenantID: Self.tenant, field: "accessToken")
        var bytes = try #require(Base64.decode(String(sealed.dropFirst(3))))
        let index = offset >= 0 ? offset : bytes.count + offset
        bytes[index] ^= 0x01
        let tampered = "v1:" + Base64.encode(bytes)
        #expect(throws: CryptoError.authenticationFailed, "region \(region)") {
            try box.open(tampered, tenantID: Self.tenant, field: "accessToken")
        }
    }

    @Test("a value sealed for one tenant does not open for another")
    func wrongTenant() {
        let sealed = box.seal("secret", tenantID: Self.tenant, field: "accessToken")
        #expect(throws: CryptoError.authenticationFailed) {
            try box.open(sealed, tenantID: "1f8fad5b-d9cb-469f-a165-70867728950e", field: "accessToken")
        }
    }

    @Test("a value sealed for one field does not open as another")
    func wrongField() {
        let sealed = box.seal("secret", tenantID: Self.tenant, field: "accessToken")
        #expect(throws: CryptoError.authenticationFailed) {
            try box.open(sealed, tenantID: Self.tenant, field: "cloudinarySecret")
        }
    }

    @Test("tenant and field boundaries cannot be shifted")
    func ambiguousBoundary() {
        let sealed = box.seal("secret", tenantID: "t1", field: "a\u{0}b")
        #expect(throws: CryptoError.authenticationFailed) {
            try box.open(sealed, tenantID: "t1\u{0}a", field: "b")
        }
    }

    @Test("a different key cannot open the value")
    func wrongKey() throws {
        let sealed = box.seal("secret", tenantID: Self.tenant, field: "accessToken")
        let other = try SecretBox(key: SecureRandom.bytes(32))
        #expect(throws: CryptoError.authenticationFailed) {
            try other.open(sealed, tenantID: Self.tenant, field: "accessToken")
        }
    }

    @Test("keys that are not 32 bytes are rejected", arguments: [0, 16, 31, 33, 64])
    func keyLength(count: Int) {
        #expect(throws: CryptoError.invalidKeyLength(count)) {
            try SecretBox(key: [UInt8](repeating: 7, count: count))
        }
    }

    @Test("every seal uses a fresh IV (1000 seals)")
    func ivUniqueness() throws {
        var ivs = Set<[UInt8]>()
        var sealedValues = Set<String>()
        for _ in 0..<1000 {
            let sealed = box.seal("same plaintext", tenantID: Self.tenant, field: "accessToken")
            let bytes = try #require(Base64.decode(String(sealed.dropFirst(3))))
            ivs.insert(Array(bytes.prefix(12)))
            sealedValues.insert(sealed)
        }
        #expect(ivs.count == 1000)
        #expect(sealedValues.count == 1000)
    }

    struct Garbage: Sendable, CustomTestStringConvertible {
        let label: String
        let stored: String
        let error: CryptoError
        var testDescription: String { label }
    }

    static let garbage: [Garbage] = [
        Garbage(label: "empty", stored: "", error: .unrecognizedFormat),
        Garbage(label: "no prefix", stored: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", error: .unrecognizedFormat),
        Garbage(label: "plaintext with colon", stored: "token:abc", error: .unrecognizedFormat),
        Garbage(label: "uppercase V", stored: "V1:AAAA", error: .unrecognizedFormat),
        Garbage(label: "v without digits", stored: "v:AAAA", error: .unrecognizedFormat),
        Garbage(label: "v3", stored: "v3:" + Base64.encode([UInt8](repeating: 1, count: 40)), error: .unsupportedVersion),
        Garbage(label: "v2 without a key id", stored: "v2:" + Base64.encode([UInt8](repeating: 1, count: 40)), error: .unrecognizedFormat),
        Garbage(label: "v2 naming a key not in the ring", stored: "v2:other:" + Base64.encode([UInt8](repeating: 1, count: 40)), error: .unknownKey),
        Garbage(label: "v10", stored: "v10:AAAA", error: .unsupportedVersion),
        Garbage(label: "bad base64", stored: "v1:!!!not base64!!!", error: .invalidBase64),
        Garbage(label: "base64url alphabet", stored: "v1:____----", error: .invalidBase64),
        Garbage(label: "empty payload", stored: "v1:", error: .truncated),
        Garbage(label: "27 bytes", stored: "v1:" + Base64.encode([UInt8](repeating: 1, count: 27)), error: .truncated),
        Garbage(label: "28 bytes of noise", stored: "v1:" + Base64.encode([UInt8](repeating: 1, count: 28)),
                error: .authenticationFailed),
    ]

    @Test("rejects malformed stored values with a specific error", arguments: garbage)
    func rejectsGarbage(input: Garbage) {
        #expect(throws: input.error) {
            try box.open(input.stored, tenantID: Self.tenant, field: "accessToken")
        }
    }

    @Test("a plaintext that is not UTF-8 is reported as such")
    func invalidUTF8() {
        let sealed = box.seal(bytes: [0x66, 0xff, 0xfe], tenantID: Self.tenant, field: "accessToken")
        #expect(throws: CryptoError.invalidUTF8) {
            try box.open(sealed, tenantID: Self.tenant, field: "accessToken")
        }
    }

    @Test("the box never shows its key in descriptions or mirrors")
    func redaction() {
        #expect(!String(describing: box).contains("0001020304"))
        #expect(Mirror(reflecting: box).children.isEmpty)
    }
}
