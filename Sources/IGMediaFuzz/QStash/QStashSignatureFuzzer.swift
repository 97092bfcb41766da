import IGMediaLogic

/// Attacks `QStashSignatureVerifier` two ways, chosen by the low bit of the first byte:
///
/// - forged: the rest is `signature NUL body`. Nothing here knows the signing keys, so every
///   such token must be rejected, however it is spelled.
/// - signed: the rest describes a token (key, validity window, claims, body) that the harness
///   signs with `HMAC.sha256` + `Base64.encodeURL`, then up to four byte mutations of the token
///   and optionally of the body. The verifier must accept exactly the unmutated tokens that are
///   signed with a configured key and valid at `now`, and reject everything else.
enum QStashSignatureFuzzer {
    static let currentKey = "sig_fuzzcurrentkey"
    static let nextKey = "sig_fuzznextkey"
    static let unknownKey = "sig_fuzzunknownkey"
    static let subject = "https://igmedia.example/sync/process/tenant1"
    static let now = 1_700_000_100

    static func run(_ input: [UInt8]) {
        guard let mode = input.first else { return }
        if mode & 1 == 0 {
            checkForged(input.dropFirst())
        } else {
            var reader = ByteReader(input.dropFirst())
            checkSigned(&reader)
        }
    }

    static func checkForged(_ input: ArraySlice<UInt8>) {
        let separator = input.firstIndex(of: 0) ?? input.endIndex
        let signature = String(decoding: input[..<separator], as: UTF8.self)
        let body = Array(input[separator...].dropFirst())
        let verifier = QStashSignatureVerifier(currentKey: currentKey, nextKey: nextKey, clockToleranceSeconds: 60)
        if let claims = try? verifier.verify(signature: signature, body: body, expectedSubject: subject, now: now) {
            fatalError("QStash invariant violated: a forged token verified (\(claims)): \(hex(Array(signature.utf8)))")
        }
    }

    static func checkSigned(_ reader: inout ByteReader) {
        let keyChoice = reader.byte() % 3
        let tolerance = Int(reader.byte())
        let expiresAt = now + Int(Int16(bitPattern: reader.uint16()))
        let notBefore = now + Int(Int16(bitPattern: reader.uint16()))
        let flags = reader.byte()
        let tokenID = String(decoding: reader.bytes(Int(reader.byte() % 48)), as: UTF8.self)
        var body = reader.bytes(Int(reader.byte()))

        let bodyHash = Base64.encode(Digest.sha256(body), urlSafe: true, padding: flags & 1 != 0)
        var members: [(String, JSONValue)] = [
            ("iss", .string("Upstash")), ("sub", .string(subject)), ("exp", .int(expiresAt)), ("nbf", .int(notBefore)),
        ]
        if flags & 2 != 0 { members.append(("iat", .int(notBefore))) }
        if flags & 4 != 0 { members.append(("jti", .string(tokenID))) }
        members.append(("body", .string(bodyHash)))
        let key = [currentKey, nextKey, unknownKey][Int(keyChoice)]
        let token = sign(payload: JSONWriter.encode(.object(members)), key: key)

        var tokenBytes = Array(token.utf8)
        for _ in 0..<Int(reader.byte() % 5) {
            tokenBytes[Int(reader.uint16()) % tokenBytes.count] = reader.byte()
        }
        let mutated = String(decoding: tokenBytes, as: UTF8.self)
        let originalBody = body
        if flags & 8 != 0 {
            if body.isEmpty { body.append(reader.byte()) } else { body[Int(reader.byte()) % body.count] ^= 1 << (reader.byte() % 8) }
        }
        let untouched = mutated.utf8.elementsEqual(token.utf8) && body == originalBody

        let expected: QStashSignatureError? =
            keyChoice == 2 ? .badSignature
            : expiresAt <= now - tolerance ? .expired
            : notBefore > now + tolerance ? .notYetValid
            : nil
        let verifier = QStashSignatureVerifier(currentKey: currentKey, nextKey: nextKey, clockToleranceSeconds: tolerance)
        do {
            let claims = try verifier.verify(signature: mutated, body: body, expectedSubject: subject, now: now)
            require(untouched, "a mutated token or body verified: \(hex(tokenBytes)) body \(hex(body))")
            require(expected == nil, "verified although \(expected.map { "\($0)" } ?? "")")
            require(claims.subject == subject && claims.expiresAt == expiresAt && claims.notBefore == notBefore,
                    "claims differ from the signed ones")
            require(claims.tokenID == (flags & 4 != 0 ? tokenID : nil), "jti differs")
        } catch {
            if untouched {
                require(error == expected, "a token expected to give \(expected.map { "\($0)" } ?? "success") gave \(error): \(token)")
            }
        }
    }

    /// `base64url(header).base64url(payload).base64url(HMAC-SHA256(key, signing input))`.
    static func sign(payload: [UInt8], key: String) -> String {
        let signingInput = Base64.encodeURL(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8)) + "." + Base64.encodeURL(payload)
        return signingInput + "." + Base64.encodeURL(HMAC.sha256(key: Array(key.utf8), message: Array(signingInput.utf8)))
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }

    static func require(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { fatalError("QStash invariant violated: \(message())") }
    }
}

/// Reads the fuzzer's bytes as structured choices; zeros once the input runs out.
struct ByteReader {
    private var rest: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { rest = bytes }

    mutating func byte() -> UInt8 { rest.popFirst() ?? 0 }

    mutating func uint16() -> UInt16 { UInt16(byte()) << 8 | UInt16(byte()) }

    mutating func bytes(_ count: Int) -> [UInt8] {
        let taken = Array(rest.prefix(count))
        rest = rest.dropFirst(count)
        return taken
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    QStashSignatureFuzzer.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
