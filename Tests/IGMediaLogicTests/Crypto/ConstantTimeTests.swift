import IGMediaLogic
import Testing

@Suite("ConstantTime")
struct ConstantTimeTests {
    @Test("equal byte arrays compare equal, including empty ones")
    func equalBytes() {
        #expect(ConstantTime.equals([UInt8](), []))
        #expect(ConstantTime.equals([1, 2, 3], [1, 2, 3]))
        let random = SecureRandom.bytes(64)
        #expect(ConstantTime.equals(random, random))
    }

    @Test("byte arrays differing in any position or in length are unequal")
    func unequalBytes() {
        let base: [UInt8] = [10, 20, 30, 40]
        for index in base.indices {
            var changed = base
            changed[index] ^= 0x01
            #expect(!ConstantTime.equals(base, changed))
        }
        #expect(!ConstantTime.equals(base, Array(base.prefix(3))))
        #expect(!ConstantTime.equals(base, base + [0]))
        #expect(!ConstantTime.equals([], [0]))
    }

    @Test("strings compare by their UTF-8 bytes")
    func strings() {
        #expect(ConstantTime.equals("", ""))
        #expect(ConstantTime.equals("sig_abc", "sig_abc"))
        #expect(ConstantTime.equals("päss🔐", "päss🔐"))
        #expect(!ConstantTime.equals("sig_abc", "sig_abd"))
        #expect(!ConstantTime.equals("sig_abc", "sig_ab"))
        #expect(!ConstantTime.equals("", "x"))
        // Precomposed and decomposed "é" are different bytes, so different secrets.
        #expect(!ConstantTime.equals("\u{e9}", "e\u{301}"))
    }
}
