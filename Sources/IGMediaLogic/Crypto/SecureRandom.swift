/// Bytes from OpenSSL's CSPRNG, for keys, IVs and identifiers.
public enum SecureRandom {
    /// `count` cryptographically secure random bytes.
    ///
    /// Traps if the generator cannot produce output: continuing with weak randomness would silently
    /// break every IV and token, and OpenSSL only fails here when the OS entropy source is unusable.
    public static func bytes(_ count: Int) -> [UInt8] {
        guard let bytes = OpenSSLBridge.randomBytes(count) else {
            preconditionFailure("OpenSSL RAND_bytes failed: no usable entropy source")
        }
        return bytes
    }
}
