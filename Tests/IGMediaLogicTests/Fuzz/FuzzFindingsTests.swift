import IGMediaLogic
import Testing

/// What the fuzz harnesses (Sources/IGMediaFuzz, `make fuzz`) caught, kept as unit tests. All of
/// it was one confusion: Swift compares and splits Strings by Character, and `/`, `?` or a space
/// followed by a combining mark or U+200D is a single Character; `\r\n` is one too.
@Suite("Fuzz findings")
struct FuzzFindingsTests {
    static func decode(_ requestURI: String) throws(HTTPError) -> Request {
        try CGIRequestDecoder.decode(
            params: [("REQUEST_METHOD", "POST"), ("REQUEST_URI", requestURI), ("DOCUMENT_URI", "/from-nginx")], body: [])
    }

    @Test(
        "an encoded slash followed by a combining mark is refused, not made a separator",
        arguments: ["/sync/process/a%2F%CC%81b", "/sync/process/a%2F\u{301}b", "/x/%2F%E2%80%8D"])
    func encodedSlashBeforeCombiningMark(requestURI: String) {
        #expect(throws: HTTPError.validation("Invalid path segment")) { try Self.decode(requestURI) }
    }

    // IGMediaFuzzCGI input (NUL-separated params), reduced: REQUEST_URI /sync/process/t%2D1?\u{200D}x=1.
    @Test("the path ends at the first '?' byte, even when U+200D or a combining mark follows it")
    func queryMarkBeforeExtender() throws {
        for requestURI in ["/sync/process/t%2D1?\u{200D}x=1", "/photos?\u{301}"] {
            let request = try Self.decode(requestURI)
            let expected = requestURI.hasPrefix("/photos") ? "/photos" : "/sync/process/t-1"
            #expect(Array(request.path.utf8) == Array(expected.utf8))
        }
    }

    @Test("a URI starting with '/' and a combining mark is decoded, not replaced by DOCUMENT_URI")
    func leadingSlashBeforeCombiningMark() throws {
        let request = try Self.decode("/\u{301}x")
        #expect(Array(request.path.utf8) == Array("/\u{301}x".utf8))
    }

    static func register(_ replacing: [(String, JSONValue)]) -> Request {
        var members: [(String, JSONValue)] = [
            ("name", .string("Acme Gallery")), ("instagramAccountId", .string("178414")),
            ("instagramAccountSecret", .string("secret")), ("apiType", .string("INSTAGRAM_LOGIN")),
        ]
        for (name, value) in replacing {
            members.removeAll { $0.0 == name }
            members.append((name, value))
        }
        return Request(
            method: "POST", path: "/register", headers: HTTPHeaders([("Content-Type", "application/json")]),
            body: JSONWriter.encode(.object(members)))
    }

    @Test("a secret of nothing but CR, LF, tab or space is empty", arguments: ["\n", "\r", " \n", "\t\r"])
    func blankSecret(secret: String) throws {
        let error = try #require(throws: HTTPError.self) {
            try RegisterRequest.decode(Self.register([("instagramAccountSecret", .string(secret))]))
        }
        #expect(error.message.contains("instagramAccountSecret must not be empty"))
    }

    @Test("a lone CR or LF around ids and the access token is trimmed")
    func loneLineBreaksAreTrimmed() throws {
        let decoded = try RegisterRequest.decode(Self.register([
            ("instagramAccountId", .string("178414\n")), ("instagramAppId", .string("\r42")),
            ("instagramAccessToken", .string("IGQVJ-token\n")), ("name", .string("Acme Gallery\r")),
        ]))
        #expect(decoded.instagramAccountID == "178414")
        #expect(decoded.instagramAppID == "42")
        #expect(decoded.instagramAccessToken == "IGQVJ-token")
        #expect(decoded.name == "Acme Gallery")
    }

    @Test("an access token holding a space that carries a combining mark is refused")
    func spaceWithCombiningMarkInToken() throws {
        let error = try #require(throws: HTTPError.self) {
            try RegisterRequest.decode(Self.register([("instagramAccessToken", .string("IGQ \u{301}VJ"))]))
        }
        #expect(error.message.contains("instagramAccessToken must not contain whitespace"))
    }
}
