/// AES-256-GCM encryption for secrets at rest (access tokens, API secrets in tenant records).
///
/// Sealed form: `"v1:" + base64(iv[12] || ciphertext || tag[16])`, with a fresh random IV per call.
/// The associated data binds each value to its tenant and field, so a ciphertext copied to another
/// tenant's record or another field fails to open instead of decrypting.
public struct SecretBox: Sendable {
    static let versionPrefix = "v1:"

    private let key: [UInt8]

    /// - Parameter key: exactly 32 bytes of key material (e.g. base64-decoded from configuration).
    public init(key: [UInt8]) throws(CryptoError) {
        guard key.count == OpenSSLBridge.aes256KeySize else { throw .invalidKeyLength(key.count) }
        self.key = key
    }

    /// Encrypts `plaintext` for `field` of tenant `tenantID`.
    public func seal(_ plaintext: String, tenantID: String, field: String) -> String {
        seal(bytes: Array(plaintext.utf8), tenantID: tenantID, field: field)
    }

    /// Decrypts a value produced by ``seal(_:tenantID:field:)`` with the same key, tenant and field.
    public func open(_ stored: String, tenantID: String, field: String) throws(CryptoError) -> String {
        let payload = try Self.payload(of: stored)
        guard let decoded = Base64.decode(String(payload)) else { throw .invalidBase64 }
        let ivSize = OpenSSLBridge.gcmIVSize, tagSize = OpenSSLBridge.gcmTagSize
        guard decoded.count >= ivSize + tagSize else { throw .truncated }
        guard let plaintext = OpenSSLBridge.aes256GCMOpen(
            key: key,
            iv: Array(decoded.prefix(ivSize)),
            ciphertext: Array(decoded[ivSize..<(decoded.count - tagSize)]),
            tag: Array(decoded.suffix(tagSize)),
            aad: Self.associatedData(tenantID: tenantID, field: field))
        else { throw .authenticationFailed }
        guard let text = String(validating: plaintext, as: UTF8.self) else { throw .invalidUTF8 }
        return text
    }

    /// Byte-level seal; internal so tests can produce a non-UTF-8 plaintext.
    func seal(bytes plaintext: [UInt8], tenantID: String, field: String) -> String {
        let iv = SecureRandom.bytes(OpenSSLBridge.gcmIVSize)
        let aad = Self.associatedData(tenantID: tenantID, field: field)
        guard let sealed = OpenSSLBridge.aes256GCMSeal(key: key, iv: iv, plaintext: plaintext, aad: aad) else {
            // The key and IV sizes are checked above; OpenSSL fails here only when out of memory.
            preconditionFailure("AES-256-GCM encryption failed")
        }
        return Self.versionPrefix + Base64.encode(iv + sealed.ciphertext + sealed.tag)
    }

    /// `"igmedia/v1\0" + byteCount(tenantID) + "\0" + tenantID + "\0" + field`. The length makes the
    /// tenant/field boundary unambiguous even if an id ever contained a NUL.
    static func associatedData(tenantID: String, field: String) -> [UInt8] {
        Array("igmedia/v1\u{0}\(tenantID.utf8.count)\u{0}\(tenantID)\u{0}\(field)".utf8)
    }

    /// The text after `v1:`, or the error naming which part of the prefix is wrong.
    private static func payload(of stored: String) throws(CryptoError) -> Substring {
        guard let colon = stored.firstIndex(of: ":") else { throw .unrecognizedFormat }
        let version = stored[..<colon]
        guard version.first == "v", version.count > 1, version.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber })
        else { throw .unrecognizedFormat }
        guard version == "v1" else { throw .unsupportedVersion }
        return stored[stored.index(after: colon)...]
    }
}

extension SecretBox: CustomStringConvertible, CustomReflectable {
    /// Never shows the key.
    public var description: String { "SecretBox(AES-256-GCM, key redacted)" }

    /// Hides the key from `dump` and debugger mirrors.
    public var customMirror: Mirror { Mirror(self, children: []) }
}
