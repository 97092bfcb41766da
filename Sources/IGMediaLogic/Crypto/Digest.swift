/// One-shot message digests and their lowercase hex form.
public enum Digest {
    /// SHA-1 (20 bytes). Only for protocols that require it (Cloudinary signatures), never for secrets.
    public static func sha1(_ bytes: [UInt8]) -> [UInt8] {
        OpenSSLBridge.digest(.sha1, bytes)
    }

    /// SHA-256 (32 bytes).
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        OpenSSLBridge.digest(.sha256, bytes)
    }

    /// Lowercase hexadecimal, two characters per byte.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
