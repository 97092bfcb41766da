import Testing

@testable import IGMediaLogic

@Suite("POST /auth/obtain-token")
struct ObtainTokenHandlerTests {
    static let fields: [(String, String)] = [
        ("embedUrl", #""https://client.example/embed""#), ("code", #""AQB-code#_""#),
        ("instagramAppId", #""990602627938098""#), ("instagramAppSecret", #""app-secret""#),
    ]

    /// The valid body with members replaced, added or removed (nil).
    static func body(_ changes: [(String, String?)] = []) -> String { HandlerFixture.jsonObject(fields, changing: changes) }

    func obtain(
        _ fixture: HandlerFixture, _ body: String, redirectURI: String? = nil, contentType: String? = "application/json"
    ) -> Response {
        fixture.application { $0.obtainToken = ObtainTokenHandler(instagram: fixture.instagram, redirectURI: redirectURI) }
            .respond(to: HandlerFixture.post("/auth/obtain-token", body, contentType: contentType))
    }

    @Test("exchanges the code (Instagram's #_ stripped) and answers the seed's shape with a first media page")
    func success() throws {
        let fixture = try HandlerFixture()
        let data = try obtain(fixture, Self.body()).successData()
        #expect(data == .object([
            ("success", .bool(true)), ("longLivedToken", .string("IGAA-long-AQB-code")), ("testData", .string(#"{"data":[]}"#)),
        ]))
        #expect(fixture.instagram.exchanges == [InMemoryInstagram.Exchange(
            code: "AQB-code", appID: "990602627938098", appSecret: "app-secret", redirectURI: "https://client.example/embed")])
        #expect(fixture.instagram.firstPages == [InMemoryInstagram.FirstPage(accessToken: "IGAA-long-AQB-code", limit: 3)])
        #expect(try fixture.storedKeys().isEmpty)
    }

    @Test("a configured redirect URI wins over embedUrl, and a numeric app id keeps its digits")
    func configuredRedirect() throws {
        let fixture = try HandlerFixture()
        _ = try obtain(fixture, Self.body([("instagramAppId", "12345678901234567890")]), redirectURI: "https://media.example/cb").successData()
        #expect(fixture.instagram.exchanges.map(\.redirectURI) == ["https://media.example/cb"])
        #expect(fixture.instagram.exchanges.map(\.appID) == ["12345678901234567890"])
    }

    static let invalid: [(String, String)] = [
        ("", "Request body is required"),
        ("\"code\"", "Request body must be a JSON object"),
        ("{\"code\":1,}", "Request body is not valid JSON: expected a member name"),
        ("{}", "Validation failed: embedUrl is required; code is required; instagramAppId is required; instagramAppSecret is required"),
        (body([("embedUrl", #""ftp://client.example/""#)]), "Validation failed: embedUrl must be an http(s) URL"),
        (body([("embedUrl", #"" ""#)]), "Validation failed: embedUrl must not be empty"),
        (body([("embedUrl", "\"https://e.example/" + String(repeating: "p", count: 2048) + "\"")]),
         "Validation failed: embedUrl must be at most 2048 bytes"),
        (body([("code", #""""#)]), "Validation failed: code must not be empty"),
        (body([("code", "7")]), "Validation failed: code must be a string"),
        (body([("code", "\"" + String(repeating: "c", count: 2049) + "\"")]), "Validation failed: code must be at most 2048 bytes"),
        (body([("instagramAppId", nil)]), "Validation failed: instagramAppId is required"),
        (body([("instagramAppId", #""id with spaces""#)]), "Validation failed: instagramAppId must be at most 64 letters, digits, '_' or '-'"),
        (body([("instagramAppId", "false")]), "Validation failed: instagramAppId must be a string or a positive integer"),
        (body([("instagramAppSecret", #""\n""#)]), "Validation failed: instagramAppSecret must not be empty"),
        (body([("instagramAppSecret", "\"" + String(repeating: "s", count: 513) + "\"")]),
         "Validation failed: instagramAppSecret must be at most 512 bytes"),
        (body([("code", "null"), ("instagramAppSecret", "[]")]),
         "Validation failed: code must be a string; instagramAppSecret must be a string"),
    ]

    @Test("every invalid body is a 400 naming each problem, and Instagram is never called", arguments: invalid)
    func validation(body: String, message: String) throws {
        let fixture = try HandlerFixture()
        obtain(fixture, body).expectFailure(.validationFailed, message)
        #expect(fixture.instagram.exchanges.isEmpty && fixture.instagram.firstPages.isEmpty)
    }

    @Test("a body not sent as JSON is refused")
    func contentType() throws {
        let fixture = try HandlerFixture()
        obtain(fixture, Self.body(), contentType: "text/plain").expectFailure(.validationFailed, "Content-Type must be application/json")
        #expect(fixture.instagram.exchanges.isEmpty)
    }

    @Test(
        "a failed exchange is the seed's 500 with Instagram's reason",
        arguments: [
            UpstreamError(service: "instagram", kind: .rejected, status: 400, message: "Invalid authorization code", code: 100),
            UpstreamError(service: "instagram", kind: .timeout, message: "no answer within 10000 ms"),
        ])
    func exchangeFails(error: UpstreamError) throws {
        let fixture = try HandlerFixture()
        fixture.instagram.exchangeFailure = error
        obtain(fixture, Self.body()).expectFailure(.internalError, "Token exchange failed: \(error.message)")
        #expect(fixture.instagram.exchanges.count == 1)
        #expect(fixture.instagram.firstPages.isEmpty)
    }

    @Test("a failed first media page still answers the token, with the reason as testData")
    func testDataFails() throws {
        let fixture = try HandlerFixture()
        fixture.instagram.firstPageFailure = UpstreamError(service: "instagram", kind: .auth, status: 400, message: "Cannot read \"media\"")
        let data = try obtain(fixture, Self.body()).successData()
        #expect(data["longLivedToken"] == .string("IGAA-long-AQB-code"))
        #expect(data["testData"] == .string(#"{"error":"Cannot read \"media\""}"#))
    }

    @Test("needs no storage: it answers while the store is down")
    func storeDown() throws {
        let fixture = try HandlerFixture()
        fixture.store.isDown = true
        #expect(try obtain(fixture, Self.body()).successData()["longLivedToken"] == .string("IGAA-long-AQB-code"))
    }
}
