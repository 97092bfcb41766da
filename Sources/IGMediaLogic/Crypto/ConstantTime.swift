/// Comparisons whose running time does not depend on where the inputs differ.
public enum ConstantTime {
    /// Byte equality via `CRYPTO_memcmp`. Inputs of different length return false immediately, so
    /// the length itself is not hidden.
    public static func equals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        OpenSSLBridge.constantTimeEquals(a, b)
    }

    /// String equality that hides both content and length: compares SHA-256 digests of the UTF-8
    /// bytes (no Unicode normalisation — the bytes must match).
    public static func equals(_ a: String, _ b: String) -> Bool {
        OpenSSLBridge.constantTimeEquals(Digest.sha256(Array(a.utf8)), Digest.sha256(Array(b.utf8)))
    }
}
