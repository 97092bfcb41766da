import IGMediaLogic
import Testing

@Suite("Digest")
struct DigestTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let message: [UInt8]
        let label: String
        let sha1: String
        let sha256: String
        var testDescription: String { label }
    }

    // FIPS 180 / NIST CAVP examples.
    static let vectors: [Vector] = [
        Vector(message: [], label: "empty", sha1: "da39a3ee5e6b4b0d3255bfef95601890afd80709",
               sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        Vector(message: TestBytes.utf8("abc"), label: "abc", sha1: "a9993e364706816aba3e25717850c26c9cd0d89d",
               sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        Vector(message: TestBytes.utf8("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
               label: "448-bit message", sha1: "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
               sha256: "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        Vector(message: [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000), label: "a million a's",
               sha1: "34aa973cd4c4daa4f61eeb2bdbad27316534016f",
               sha256: "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
    ]

    @Test("SHA-1 matches the published vectors", arguments: vectors)
    func sha1(vector: Vector) {
        #expect(Digest.hex(Digest.sha1(vector.message)) == vector.sha1)
    }

    @Test("SHA-256 matches the published vectors", arguments: vectors)
    func sha256(vector: Vector) {
        #expect(Digest.hex(Digest.sha256(vector.message)) == vector.sha256)
    }

    @Test("hex is lowercase with two digits per byte")
    func hex() {
        #expect(Digest.hex([]) == "")
        #expect(Digest.hex([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
    }
}
