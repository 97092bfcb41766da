import COpenSSL

/// The only Swift file that touches OpenSSL. Every function takes and returns Swift arrays, so no C
/// pointer outlives a call.
enum OpenSSLBridge {
    enum DigestAlgorithm: Sendable {
        case sha1, sha256

        var outputSize: Int {
            switch self {
            case .sha1: 20
            case .sha256: 32
            }
        }

        fileprivate var md: OpaquePointer? {
            switch self {
            case .sha1: EVP_sha1()
            case .sha256: EVP_sha256()
            }
        }
    }

    static let gcmIVSize = 12
    static let gcmTagSize = 16
    static let aes256KeySize = 32

    static func digest(_ algorithm: DigestAlgorithm, _ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: algorithm.outputSize)
        var length: UInt32 = 0
        let status = withNonNullBytes(bytes) { input, count in
            out.withUnsafeMutableBufferPointer { EVP_Digest(input, count, $0.baseAddress, &length, algorithm.md, nil) }
        }
        // Fails only when the default provider is missing or memory is exhausted: nothing to recover.
        precondition(status == 1 && Int(length) == algorithm.outputSize, "OpenSSL digest failed")
        return out
    }

    static func hmac(_ algorithm: DigestAlgorithm, key: [UInt8], message: [UInt8]) -> [UInt8] {
        precondition(key.count <= Int(Int32.max), "HMAC key too long")
        var out = [UInt8](repeating: 0, count: algorithm.outputSize)
        var length: UInt32 = 0
        let result = withNonNullBytes(key) { keyPointer, keyCount in
            withNonNullBytes(message) { messagePointer, messageCount in
                out.withUnsafeMutableBufferPointer {
                    // Qualified: the module's own `HMAC` enum shadows the C function.
                    COpenSSL.HMAC(algorithm.md, keyPointer, Int32(keyCount), messagePointer, messageCount,
                                  $0.baseAddress, &length)
                }
            }
        }
        // Same reasoning as `digest`: a failure here means a broken OpenSSL installation.
        precondition(result != nil && Int(length) == algorithm.outputSize, "OpenSSL HMAC failed")
        return out
    }

    /// Bytes from OpenSSL's CSPRNG, or nil when it cannot be seeded.
    static func randomBytes(_ count: Int) -> [UInt8]? {
        precondition(count >= 0 && count <= Int(Int32.max), "invalid random byte count")
        guard count > 0 else { return [] }
        var out = [UInt8](repeating: 0, count: count)
        let status = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        return status == 1 ? out : nil
    }

    /// Constant-time equality for equal-length inputs; a length mismatch returns false at once.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        guard !a.isEmpty else { return true }
        return a.withUnsafeBytes { left in
            b.withUnsafeBytes { right in CRYPTO_memcmp(left.baseAddress, right.baseAddress, a.count) == 0 }
        }
    }

    /// AES-256-GCM encryption; returns nil only if OpenSSL itself fails.
    static func aes256GCMSeal(key: [UInt8], iv: [UInt8], plaintext: [UInt8], aad: [UInt8])
        -> (ciphertext: [UInt8], tag: [UInt8])? {
        precondition(key.count == aes256KeySize && iv.count == gcmIVSize, "bad AES-GCM key or IV size")
        guard let context = EVP_CIPHER_CTX_new() else { return nil }
        defer { EVP_CIPHER_CTX_free(context) }
        guard initialise(context, encrypt: true, key: key, iv: iv), feedAAD(context, aad, encrypt: true),
              let ciphertext = transform(context, plaintext, encrypt: true)
        else { return nil }
        var tag = [UInt8](repeating: 0, count: gcmTagSize)
        let status = tag.withUnsafeMutableBytes {
            EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(gcmTagSize), $0.baseAddress)
        }
        return status == 1 ? (ciphertext, tag) : nil
    }

    /// AES-256-GCM decryption; nil when the tag does not authenticate ciphertext and AAD.
    static func aes256GCMOpen(key: [UInt8], iv: [UInt8], ciphertext: [UInt8], tag: [UInt8], aad: [UInt8])
        -> [UInt8]? {
        precondition(key.count == aes256KeySize && iv.count == gcmIVSize && tag.count == gcmTagSize,
                     "bad AES-GCM key, IV or tag size")
        guard let context = EVP_CIPHER_CTX_new() else { return nil }
        defer { EVP_CIPHER_CTX_free(context) }
        guard initialise(context, encrypt: false, key: key, iv: iv) else { return nil }
        var expectedTag = tag
        let tagStatus = expectedTag.withUnsafeMutableBytes {
            EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(gcmTagSize), $0.baseAddress)
        }
        guard tagStatus == 1, feedAAD(context, aad, encrypt: false) else { return nil }
        // `transform` runs EVP_DecryptFinal_ex, which is where the tag is checked.
        return transform(context, ciphertext, encrypt: false)
    }

    private static func initialise(_ context: OpaquePointer, encrypt: Bool, key: [UInt8], iv: [UInt8]) -> Bool {
        let initFunction = encrypt ? EVP_EncryptInit_ex : EVP_DecryptInit_ex
        guard initFunction(context, EVP_aes_256_gcm(), nil, nil, nil) == 1,
              EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, Int32(gcmIVSize), nil) == 1
        else { return false }
        return key.withUnsafeBufferPointer { keyBuffer in
            iv.withUnsafeBufferPointer { initFunction(context, nil, nil, keyBuffer.baseAddress, $0.baseAddress) == 1 }
        }
    }

    private static func feedAAD(_ context: OpaquePointer, _ aad: [UInt8], encrypt: Bool) -> Bool {
        guard !aad.isEmpty else { return true }
        precondition(aad.count <= Int(Int32.max), "AAD too long")
        let update = encrypt ? EVP_EncryptUpdate : EVP_DecryptUpdate
        var written: Int32 = 0
        return aad.withUnsafeBufferPointer { update(context, nil, &written, $0.baseAddress, Int32($0.count)) } == 1
    }

    private static func transform(_ context: OpaquePointer, _ input: [UInt8], encrypt: Bool) -> [UInt8]? {
        precondition(input.count <= Int(Int32.max) - 32, "AES-GCM input too long")
        let update = encrypt ? EVP_EncryptUpdate : EVP_DecryptUpdate
        let final = encrypt ? EVP_EncryptFinal_ex : EVP_DecryptFinal_ex
        // GCM is a stream mode: output length equals input length; the spare block is slack for Final.
        var output = [UInt8](repeating: 0, count: input.count + 16)
        var updateLength: Int32 = 0
        var finalLength: Int32 = 0
        let ok = output.withUnsafeMutableBufferPointer { out -> Bool in
            if !input.isEmpty {
                let status = input.withUnsafeBufferPointer {
                    update(context, out.baseAddress, &updateLength, $0.baseAddress, Int32($0.count))
                }
                guard status == 1 else { return false }
            }
            return final(context, out.baseAddress.map { $0 + Int(updateLength) }, &finalLength) == 1
        }
        guard ok else { return nil }
        return Array(output.prefix(Int(updateLength) + Int(finalLength)))
    }

    /// Calls `body` with a non-null pointer even for empty input (some OpenSSL paths reject NULL).
    private static func withNonNullBytes<R>(_ bytes: [UInt8], _ body: (UnsafePointer<UInt8>, Int) -> R) -> R {
        let storage: [UInt8] = bytes.isEmpty ? [0] : bytes
        return storage.withUnsafeBufferPointer { buffer in
            // A non-empty array always has a base address.
            body(buffer.baseAddress!, bytes.count)
        }
    }
}
