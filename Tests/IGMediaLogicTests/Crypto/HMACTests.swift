import IGMediaLogic
import Testing

@Suite("HMAC")
struct HMACTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let number: Int
        let key: [UInt8]
        let data: [UInt8]
        let expected: String
        var testDescription: String { "RFC 4231 test case \(number)" }
    }

    // RFC 4231 section 4; case 5 (truncated output) does not apply to a full-length MAC.
    static let rfc4231: [Vector] = [
        Vector(number: 1, key: [UInt8](repeating: 0x0b, count: 20), data: TestBytes.utf8("Hi There"),
               expected: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        Vector(number: 2, key: TestBytes.utf8("Jefe"), data: TestBytes.utf8("what do ya want for nothing?"),
               expected: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        Vector(number: 3, key: [UInt8](repeating: 0xaa, count: 20), data: [UInt8](repeating: 0xdd, count: 50),
               expected: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        Vector(number: 4, key: TestBytes.hex("0102030405060708090a0b0c0d0e0f10111213141516171819"),
               data: [UInt8](repeating: 0xcd, count: 50),
               expected: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        Vector(number: 6, key: [UInt8](repeating: 0xaa, count: 131),
               data: TestBytes.utf8("Test Using Larger Than Block-Size Key - Hash Key First"),
               expected: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        Vector(number: 7, key: [UInt8](repeating: 0xaa, count: 131),
               data: TestBytes.utf8("This is a test using a larger than block-size key and a larger than block-size"
                   + " data. The key needs to be hashed before being used by the HMAC algorithm."),
               expected: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ]

    @Test("HMAC-SHA256 matches RFC 4231", arguments: rfc4231)
    func sha256(vector: Vector) {
        #expect(Digest.hex(HMAC.sha256(key: vector.key, message: vector.data)) == vector.expected)
    }

    @Test("an empty key and an empty message are accepted")
    func emptyInputs() {
        // Python: hmac.new(b"", b"", hashlib.sha256).hexdigest()
        #expect(Digest.hex(HMAC.sha256(key: [], message: []))
            == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad")
    }
}
