import IGMediaLogic

/// Feeds the input, as a request body, to `JSONParser` (with the writer round trip) and to the two
/// JSON body decoders: `RegisterRequest.decode` and `POST /auth/obtain-token`'s handler.
enum JSONBodyFuzzer {
    static func run(_ input: [UInt8]) {
        checkRoundTrip(input)
        let request = Request(
            method: "POST", path: "/register", headers: HTTPHeaders([("Content-Type", "application/json")]),
            body: input)
        checkRegister(request)
        checkObtainToken(request)
    }

    /// parse(encode(v)) == v for every v that parses, and the writer's output is a fixed point.
    static func checkRoundTrip(_ input: [UInt8]) {
        guard let value = try? JSONParser.parse(input, maxDepth: 32) else { return }
        let encoded = JSONWriter.encode(value)
        let again: JSONValue
        do {
            again = try JSONParser.parse(encoded, maxDepth: 32)
        } catch {
            fatalError("JSON invariant violated: the writer's output does not parse (\(error)): \(hex(encoded))")
        }
        require(again == value, "parse(encode(v)) != v for \(hex(encoded))")
        require(sameBytes(again, value), "parse(encode(v)) has other bytes than v for \(hex(encoded))")
        require(JSONWriter.encode(again) == encoded, "encode is not a fixed point for \(hex(encoded))")
    }

    /// Either a value meeting every documented rule, or a 400 (the 413 is the listener's, before
    /// the body is read, but is tolerated here).
    static func checkRegister(_ request: Request) {
        let register: RegisterRequest
        do {
            register = try RegisterRequest.decode(request)
        } catch {
            require([400, 413].contains(error.status.code), "RegisterRequest threw \(error.status.code)")
            return
        }
        let name = register.name
        require(name.count >= 3 && name.count <= 100, "name of \(name.count) characters accepted")
        require(!name.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "control character in name")
        require(isIdentifier(register.instagramAccountID), "bad instagramAccountId accepted: \(hex(register.instagramAccountID))")
        if let appID = register.instagramAppID {
            require(isIdentifier(appID), "bad instagramAppId accepted: \(hex(appID))")
        }
        let secret = register.instagramAccountSecret
        require(secret.utf8.count <= 512, "secret of \(secret.utf8.count) bytes accepted")
        require(!isBlank(secret), "blank secret accepted: \(hex(secret))")
        if let token = register.instagramAccessToken {
            require(!token.isEmpty && token.utf8.count <= 4096, "token of \(token.utf8.count) bytes accepted")
            require(!token.unicodeScalars.contains { $0 == " " || $0 == "\n" || $0 == "\r" },
                    "whitespace in token accepted: \(hex(token))")
        }
    }

    /// The handler's Instagram client always fails, so every request ends in an HTTPError: 400 for
    /// a body the decoder refuses, 500 once a valid body reaches the token exchange.
    static func checkObtainToken(_ request: Request) {
        let handler = ObtainTokenHandler(instagram: FailingInstagram(), redirectURI: nil)
        do {
            _ = try handler.handle(request)
            fatalError("JSON invariant violated: obtain-token answered although the exchange failed")
        } catch let error as HTTPError {
            require([400, 500].contains(error.status.code), "obtain-token threw \(error.status.code)")
        } catch {
            fatalError("JSON invariant violated: obtain-token threw a non-HTTP error: \(error)")
        }
    }

    /// Only the bytes the decoders trim: space, tab, CR, LF (and empty).
    static func isBlank(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
    }

    /// At most 64 letters, digits, `_` or `-`, not empty.
    static func isIdentifier(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 64 && text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
    }

    /// `==` on strings is Unicode equivalence; the round trip must keep the exact bytes.
    static func sameBytes(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)), (.number(let x), .number(let y)): return x.utf8.elementsEqual(y.utf8)
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { sameBytes($0, $1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count
                && zip(x, y).allSatisfy { $0.0.utf8.elementsEqual($1.0.utf8) && sameBytes($0.1, $1.1) }
        default: return a == b
        }
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }
    static func hex(_ text: String) -> String { hex(Array(text.utf8)) }

    static func require(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { fatalError("JSON invariant violated: \(message())") }
    }
}

/// An Instagram client whose every call fails, so the handler never leaves the process.
struct FailingInstagram: InstagramAPI {
    static let failure = UpstreamError(service: "instagram", kind: .transport, message: "fuzzing: no network")

    func fetchMedia(apiType: APIType, accountID: String, accessToken: String, limit: Int)
        throws(UpstreamError) -> [InstagramMedia] { throw Self.failure }
    func refreshToken(apiType: APIType, accessToken: String, appID: String?, appSecret: String)
        throws(UpstreamError) -> InstagramToken { throw Self.failure }
    func exchangeCode(code: String, appID: String, appSecret: String, redirectURI: String)
        throws(UpstreamError) -> InstagramToken { throw Self.failure }
    func firstMediaPageJSON(accessToken: String, limit: Int) throws(UpstreamError) -> String { throw Self.failure }
    func inspectToken(apiType: APIType, accessToken: String, appID: String?, appSecret: String)
        throws(UpstreamError) -> TokenInspection { throw Self.failure }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    JSONBodyFuzzer.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
