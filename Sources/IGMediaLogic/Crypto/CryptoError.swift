/// Failures of key handling and of opening sealed secrets. Descriptions never include keys,
/// plaintext or the stored value.
public enum CryptoError: Error, Equatable, CustomStringConvertible {
    /// The key is not 32 bytes long; carries the actual length.
    case invalidKeyLength(Int)
    /// The stored value does not start with a `v<digits>:` version prefix.
    case unrecognizedFormat
    /// The stored value has a version prefix other than `v1:` and `v2:`.
    case unsupportedVersion
    /// The part after the prefix is not valid base64.
    case invalidBase64
    /// The decoded value is shorter than IV plus tag.
    case truncated
    /// Wrong key, wrong tenant or field, or tampered data: GCM authentication failed.
    case authenticationFailed
    /// Decryption succeeded but the plaintext is not UTF-8.
    case invalidUTF8
    /// A `v2:` value names a key id that is not in the ring.
    case unknownKey

    public var description: String {
        switch self {
        case .invalidKeyLength(let length): "encryption key must be 32 bytes, got \(length)"
        case .unrecognizedFormat: "sealed value has no version prefix"
        case .unsupportedVersion: "sealed value has an unsupported version"
        case .invalidBase64: "sealed value is not valid base64"
        case .truncated: "sealed value is too short"
        case .authenticationFailed: "sealed value failed authentication (wrong key, tenant or field, or tampered)"
        case .invalidUTF8: "sealed value does not decrypt to UTF-8 text"
        case .unknownKey: "sealed value names a key that is not configured"
        }
    }
}
