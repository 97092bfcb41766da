/// AES-256-GCM encryption for secrets at rest (access tokens, API secrets in tenant records),
/// with an ordered ring of keys: the first seals, every key opens.
///
/// Sealed forms: `"v1:" + base64(iv[12] || ciphertext || tag[16])` — a one-key ring from
/// `ENCRYPTION_KEY`, and every value written before key rotation existed; it is opened by whichever
/// key of the ring authenticates it — and `"v2:" + keyID + ":" + base64(…)` from `ENCRYPTION_KEYS`,
/// naming its key. A fresh random IV per call. The associated data binds each value to its tenant
/// and field, so a ciphertext copied to another tenant's record or another field fails to open.
public struct SecretBox: Sendable {
    static let versionPrefix = "v1:"
    static let keyedPrefix = "v2:"

    /// One key of the ring. `id` is nil for the `ENCRYPTION_KEY` key (it seals `v1:`).
    public struct Key: Sendable {
        public let id: String?
        let material: [UInt8]

        public init(id: String?, material: [UInt8]) throws(CryptoError) {
            guard material.count == OpenSSLBridge.aes256KeySize else { throw .invalidKeyLength(material.count) }
            self.id = id
            self.material = material
        }
    }

    private let ring: [Key]

    /// A one-key ring that seals `v1:` values, as before rotation existed.
    /// - Parameter key: exactly 32 bytes of key material (e.g. base64-decoded from configuration).
    public init(key: [UInt8]) throws(CryptoError) {
        ring = [try Key(id: nil, material: key)]
    }

    /// The ring of `ENCRYPTION_KEYS`: the first key seals, all open. Ids must be distinct.
    public init(keys: [Key]) throws(CryptoError) {
        guard !keys.isEmpty else { throw .invalidKeyLength(0) }
        ring = keys
    }

    /// The id of the sealing key (`legacy` for the `ENCRYPTION_KEY` key).
    public var currentKeyID: String { Self.name(ring[0]) }
    public var keyIDs: [String] { ring.map(Self.name) }

    /// Encrypts `plaintext` for `field` of tenant `tenantID` with the first key.
    public func seal(_ plaintext: String, tenantID: String, field: String) -> String {
        seal(bytes: Array(plaintext.utf8), tenantID: tenantID, field: field)
    }

    /// Decrypts a value produced by ``seal(_:tenantID:field:)`` with any key of the ring.
    public func open(_ stored: String, tenantID: String, field: String) throws(CryptoError) -> String {
        try opened(stored, tenantID: tenantID, field: field).plaintext
    }

    /// Which key of the ring opens `stored` (its id, `legacy` for the `ENCRYPTION_KEY` key);
    /// throws when none does.
    public func keyID(of stored: String, tenantID: String, field: String) throws(CryptoError) -> String {
        Self.name(try opened(stored, tenantID: tenantID, field: field).key)
    }

    /// Whether `stored` is sealed exactly as `seal` would seal it now (the first key, its format).
    public func isCurrent(_ stored: String, tenantID: String, field: String) -> Bool {
        guard let used = try? opened(stored, tenantID: tenantID, field: field).key else { return false }
        let current = ring[0]
        guard used.id == current.id, used.material == current.material else { return false }
        return stored.hasPrefix(current.id == nil ? Self.versionPrefix : Self.keyedPrefix)
    }

    /// Keyed HMACs of `value` (an Instagram account id) under every key of the ring, the current
    /// one first: a blind index that finds a record without storing the id in the clear.
    public func blindIndexes(_ value: String) -> [String] {
        ring.map { key in
            let indexKey = HMAC.sha256(key: key.material, message: Array("igmedia/blind-index/v1".utf8))
            return Digest.hex(HMAC.sha256(key: indexKey, message: Array(value.utf8)))
        }
    }

    /// Byte-level seal; internal so tests can produce a non-UTF-8 plaintext.
    func seal(bytes plaintext: [UInt8], tenantID: String, field: String) -> String {
        let key = ring[0]
        let iv = SecureRandom.bytes(OpenSSLBridge.gcmIVSize)
        let aad = Self.associatedData(tenantID: tenantID, field: field)
        guard let sealed = OpenSSLBridge.aes256GCMSeal(key: key.material, iv: iv, plaintext: plaintext, aad: aad) else {
            // The key and IV sizes are checked above; OpenSSL fails here only when out of memory.
            preconditionFailure("AES-256-GCM encryption failed")
        }
        let payload = Base64.encode(iv + sealed.ciphertext + sealed.tag)
        if let id = key.id { return Self.keyedPrefix + id + ":" + payload }
        return Self.versionPrefix + payload
    }

    private func opened(_ stored: String, tenantID: String, field: String) throws(CryptoError) -> (plaintext: String, key: Key) {
        let (keyID, payload) = try Self.parse(stored)
        let candidates: [Key]
        if let keyID {
            candidates = ring.filter { $0.id == keyID }
            guard !candidates.isEmpty else { throw .unknownKey }
        } else {
            candidates = ring
        }
        guard let decoded = Base64.decode(String(payload)) else { throw .invalidBase64 }
        let ivSize = OpenSSLBridge.gcmIVSize, tagSize = OpenSSLBridge.gcmTagSize
        guard decoded.count >= ivSize + tagSize else { throw .truncated }
        let aad = Self.associatedData(tenantID: tenantID, field: field)
        for key in candidates {
            guard let plaintext = OpenSSLBridge.aes256GCMOpen(
                key: key.material,
                iv: Array(decoded.prefix(ivSize)),
                ciphertext: Array(decoded[ivSize..<(decoded.count - tagSize)]),
                tag: Array(decoded.suffix(tagSize)),
                aad: aad)
            else { continue }
            guard let text = String(validating: plaintext, as: UTF8.self) else { throw .invalidUTF8 }
            return (text, key)
        }
        throw .authenticationFailed
    }

    /// `"igmedia/v1\0" + byteCount(tenantID) + "\0" + tenantID + "\0" + field`. The length makes the
    /// tenant/field boundary unambiguous even if an id ever contained a NUL.
    static func associatedData(tenantID: String, field: String) -> [UInt8] {
        Array("igmedia/v1\u{0}\(tenantID.utf8.count)\u{0}\(tenantID)\u{0}\(field)".utf8)
    }

    private static func name(_ key: Key) -> String { key.id ?? "legacy" }

    /// The key id (nil for `v1:`) and the base64 text, or the error naming what is wrong.
    private static func parse(_ stored: String) throws(CryptoError) -> (String?, Substring) {
        guard let colon = stored.firstIndex(of: ":") else { throw .unrecognizedFormat }
        let version = stored[..<colon]
        guard version.first == "v", version.count > 1, version.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber })
        else { throw .unrecognizedFormat }
        let rest = stored[stored.index(after: colon)...]
        switch version {
        case "v1":
            return (nil, rest)
        case "v2":
            guard let second = rest.firstIndex(of: ":"), second != rest.startIndex else { throw .unrecognizedFormat }
            return (String(rest[..<second]), rest[rest.index(after: second)...])
        default:
            throw .unsupportedVersion
        }
    }
}

extension SecretBox: CustomStringConvertible, CustomReflectable {
    /// Never shows a key.
    public var description: String { "SecretBox(AES-256-GCM, \(ring.count) key(s), redacted)" }

    /// Hides the keys from `dump` and debugger mirrors.
    public var customMirror: Mirror { Mirror(self, children: []) }
}
