/// Keyed message authentication codes (RFC 2104).
public enum HMAC {
    /// HMAC-SHA256 (32 bytes). Keys longer than 64 bytes are hashed first, as the RFC prescribes.
    public static func sha256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        OpenSSLBridge.hmac(.sha256, key: key, message: message)
    }
}
