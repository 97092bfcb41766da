import Testing

@testable import IGMediaLogic

/// ENCRYPTION_KEYS: the first key seals, every key opens, `v1:` values stay readable.
@Suite("Encryption key ring")
struct KeyRingTests {
    static let a = [UInt8](repeating: 0xA1, count: 32)
    static let b = [UInt8](repeating: 0xB2, count: 32)

    @Test("a v1 value sealed with ENCRYPTION_KEY opens with a ring that lists the key under any id")
    func legacyValuesOpen() throws {
        let legacy = try SecretBox(key: Self.a)
        let sealed = legacy.seal("IGAA-secret", tenantID: "t1", field: "instagramAccessToken")
        #expect(sealed.hasPrefix("v1:"))
        let ring = try SecretBox(keys: [SecretBox.Key(id: "b", material: Self.b), SecretBox.Key(id: "a", material: Self.a)])
        #expect(try ring.open(sealed, tenantID: "t1", field: "instagramAccessToken") == "IGAA-secret")
        #expect(try ring.keyID(of: sealed, tenantID: "t1", field: "instagramAccessToken") == "a")
        #expect(!ring.isCurrent(sealed, tenantID: "t1", field: "instagramAccessToken"))
    }

    @Test("the first key seals v2:<id>:, which names its key; a ring without that key refuses it")
    func firstKeySeals() throws {
        let ring = try SecretBox(keys: [SecretBox.Key(id: "b", material: Self.b), SecretBox.Key(id: "a", material: Self.a)])
        let sealed = ring.seal("value", tenantID: "t1", field: "f")
        #expect(sealed.hasPrefix("v2:b:"))
        #expect(ring.isCurrent(sealed, tenantID: "t1", field: "f"))
        let onlyA = try SecretBox(keys: [SecretBox.Key(id: "a", material: Self.a)])
        #expect(throws: CryptoError.unknownKey) { try onlyA.open(sealed, tenantID: "t1", field: "f") }
        let onlyB = try SecretBox(keys: [SecretBox.Key(id: "b", material: Self.b)])
        #expect(try onlyB.open(sealed, tenantID: "t1", field: "f") == "value")
        // Same id, different material: authentication fails, nothing decrypts wrongly.
        let impostor = try SecretBox(keys: [SecretBox.Key(id: "b", material: Self.a)])
        #expect(throws: CryptoError.authenticationFailed) { try impostor.open(sealed, tenantID: "t1", field: "f") }
    }

    @Test("the blind index is keyed: stable per key, different across keys, never the id itself")
    func blindIndex() throws {
        let ring = try SecretBox(keys: [SecretBox.Key(id: "b", material: Self.b), SecretBox.Key(id: "a", material: Self.a)])
        let indexes = ring.blindIndexes("17841400000000001")
        #expect(indexes.count == 2)
        #expect(indexes[0] != indexes[1])
        #expect(try SecretBox(keys: [SecretBox.Key(id: "a", material: Self.a)]).blindIndexes("17841400000000001") == [indexes[1]])
        #expect(!indexes[0].contains("17841400000000001"))
        #expect(indexes[0].count == 64)
    }

    @Test("ENCRYPTION_KEYS parsing names the broken entry and never echoes key material", arguments: [
        ("", "lists no key"),
        ("nokey", "entry 1 must be id:base64key"),
        ("a:" + String(repeating: "A", count: 43) + "=,a:" + String(repeating: "A", count: 43) + "=", "appears twice"),
        ("bad id!:" + String(repeating: "A", count: 43) + "=", "the id must be"),
        ("a:c2hvcnQ=", "key a must be base64 of exactly 32 bytes"),
    ])
    func parsing(text: String, problem: String) {
        guard case .failure(let failure) = AppConfig.keyRing(text) else {
            Issue.record("accepted \(text)")
            return
        }
        #expect(failure.message.contains(problem))
        #expect(!failure.message.contains("c2hvcnQ"))
    }
}
