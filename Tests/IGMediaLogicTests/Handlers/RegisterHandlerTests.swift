import Testing

@testable import IGMediaLogic

@Suite("POST /register")
struct RegisterHandlerTests {
    static let secret = "registration-secret-0123456789"
    static let fields: [(String, String)] = [
        ("name", #""my-project""#), ("instagramAccountId", #""17841400000000001""#),
        ("instagramAccountSecret", #""app-secret""#), ("apiType", #""INSTAGRAM_LOGIN""#),
    ]

    /// The valid body with members replaced, added or removed (nil).
    static func body(_ changes: [(String, String?)] = []) -> String { HandlerFixture.jsonObject(fields, changing: changes) }

    func application(_ fixture: HandlerFixture, secret: String? = nil) -> Application {
        fixture.application {
            $0.register = RegisterHandler(
                repository: fixture.repository, registrationSecret: secret, clock: fixture.clock, logger: HandlerFixture.quiet,
                syncEngine: fixture.engine)
        }
    }

    func register(_ fixture: HandlerFixture, _ body: String, secret: String? = nil, bearer: String? = nil) -> Response {
        application(fixture, secret: secret).respond(to: HandlerFixture.post("/register", body, bearer: bearer))
    }

    static func isUUID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.count == 36 && [8, 13, 18, 23].allSatisfy { bytes[$0] == UInt8(ascii: "-") } && bytes[14] == UInt8(ascii: "4")
    }

    @Test("registers a tenant without a token: 201, a new auth token and tenant id, secrets sealed, nothing synced")
    func withoutToken() throws {
        let fixture = try HandlerFixture()
        let data = try register(fixture, Self.body()).successData(.created)
        let members = try #require(data.objectMembers)
        #expect(members.map(\.0) == ["authToken", "managementToken", "photosCount", "tenantId"])
        let token = try #require(data["authToken"]?.stringValue)
        let management = try #require(data["managementToken"]?.stringValue)
        #expect(management.hasPrefix("igmt_") && management.utf8.count == 48)
        let id = try #require(data["tenantId"]?.stringValue)
        #expect(data["photosCount"] == .int(0))
        #expect(Self.isUUID(token) && Self.isUUID(id) && token != id)

        let tenant = try #require(try fixture.repository.load(id))
        #expect(tenant.name == "my-project" && tenant.authToken == token && tenant.apiType == .instagramLogin)
        #expect(tenant.instagramAccountID == "17841400000000001" && tenant.instagramAccountSecret == "app-secret")
        #expect(tenant.instagramAccessToken == nil && tenant.instagramAppID == nil && tenant.tokenUpdate == nil)
        #expect(tenant.createdAt == HandlerFixture.startISO && tenant.lastSync == nil)
        #expect(try fixture.repository.tenantID(forAuthToken: token) == id)
        // The management token is stored only as its hash; the account id only as its blind index.
        let index = fixture.repository.secrets.blindIndexes("17841400000000001")[0]
        #expect(try fixture.storedKeys() == [
            "t:auth_token:\(token)", "t:meta:account:\(index)", "t:mgmt_token:\(ManagementToken.hash(management))",
            "t:tenant:\(id)", "t:tenants", "t:tenants:no_token",
        ])
        #expect(try fixture.repository.tenantID(forManagementToken: management) == id)
        #expect(!(try fixture.storedKeys()).contains { $0.contains(management) })
        #expect(try fixture.repository.allTenantIDs() == [id])
        let raw = try #require(try fixture.store.run(RedisCommand("HGETALL", RedisArgument(fixture.keys.tenant(id)))).hashValue)
        #expect(!raw.values.contains { $0.contains("app-secret") || $0.contains("17841400000000001") })
        #expect(fixture.instagram.fetchCalls == 0)
    }

    @Test("registers with an access token and syncs at once: photosCount is the stored feed's")
    func withToken() throws {
        let fixture = try HandlerFixture()
        let body = Self.body([
            ("apiType", #""FACEBOOK_LOGIN""#), ("instagramAccessToken", #"" IGAA-token\n""#),
            ("instagramAppId", "1234567890123456789"),
        ])
        let data = try register(fixture, body).successData(.created)
        #expect(data["photosCount"] == .int(3))
        #expect(data["note"] == nil)
        let id = try #require(data["tenantId"]?.stringValue)
        let tenant = try #require(try fixture.repository.load(id))
        #expect(tenant.apiType == .facebookLogin && tenant.instagramAppID == "1234567890123456789")
        #expect(tenant.instagramAccessToken == "IGAA-token" && tenant.tokenUpdate == HandlerFixture.startISO)
        #expect(tenant.lastSync == HandlerFixture.startISO)
        #expect(fixture.instagram.tokensSeen == ["IGAA-token"])
        let feed = try JSONParser.parse(try #require(try fixture.repository.readFeed(id).photosJSON))
        #expect(feed.arrayValue?.count == 3)
    }

    @Test("a blank or null access token counts as none: nothing is synced", arguments: [#""  ""#, "null"])
    func blankToken(token: String) throws {
        let fixture = try HandlerFixture()
        let data = try register(fixture, Self.body([("instagramAccessToken", token)])).successData(.created)
        #expect(data["photosCount"] == .int(0))
        let id = try #require(data["tenantId"]?.stringValue)
        let tenant = try #require(try fixture.repository.load(id))
        #expect(tenant.instagramAccessToken == nil && tenant.tokenUpdate == nil)
        #expect(fixture.instagram.fetchCalls == 0)
    }

    @Test("with a registration secret, only its bearer may register", arguments: [nil, "wrong-secret", "Registration-Secret-0123456789"])
    func registrationSecret(presented: String?) throws {
        let fixture = try HandlerFixture()
        let refused = register(fixture, Self.body(), secret: Self.secret, bearer: presented)
        refused.expectFailure(.unauthorized, "A valid registration secret is required")
        #expect(refused.headers["WWW-Authenticate"] == "Bearer")
        // The secret is checked first: an invalid body tells a stranger nothing about the rules.
        register(fixture, "{}", secret: Self.secret, bearer: presented).expectFailure(.unauthorized, "A valid registration secret is required")
        #expect(try fixture.storedKeys().isEmpty)
        _ = try register(fixture, Self.body(), secret: Self.secret, bearer: Self.secret).successData(.created)
    }

    static let invalid: [(String, String)] = [
        ("", "Request body is required"),
        ("[]", "Request body must be a JSON object"),
        (#"{"name":"#, "Request body is not valid JSON: unexpected end of input"),
        ("{}", "Validation failed: name is required; instagramAccountId is required; instagramAccountSecret is required; apiType is required"),
        (body([("name", #""ab""#)]), "Validation failed: name must be at least 3 characters"),
        (body([("name", #""  ab \t""#)]), "Validation failed: name must be at least 3 characters"),
        (body([("name", "\"" + String(repeating: "n", count: 101) + "\"")]), "Validation failed: name must be at most 100 characters"),
        (body([("name", #""a\u0001bc""#)]), "Validation failed: name must not contain control characters"),
        (body([("name", "42")]), "Validation failed: name must be a string"),
        (body([("instagramAccountId", #""""#)]), "Validation failed: instagramAccountId must not be empty"),
        (body([("instagramAccountId", #""17 84""#)]), "Validation failed: instagramAccountId must be at most 64 letters, digits, '_' or '-'"),
        (body([("instagramAccountId", "-5")]), "Validation failed: instagramAccountId must be a string or a positive integer"),
        (body([("instagramAccountId", "1.5")]), "Validation failed: instagramAccountId must be a string or a positive integer"),
        (body([("instagramAppId", #""x/y""#)]), "Validation failed: instagramAppId must be at most 64 letters, digits, '_' or '-'"),
        (body([("instagramAccountSecret", #"" \t ""#)]), "Validation failed: instagramAccountSecret must not be empty"),
        (body([("instagramAccountSecret", "\"" + String(repeating: "s", count: 513) + "\"")]),
         "Validation failed: instagramAccountSecret must be at most 512 bytes"),
        (body([("instagramAccountSecret", "true")]), "Validation failed: instagramAccountSecret must be a string"),
        (body([("instagramAccessToken", #""IGAA token""#)]), "Validation failed: instagramAccessToken must not contain whitespace"),
        (body([("instagramAccessToken", "\"" + String(repeating: "t", count: 4097) + "\"")]),
         "Validation failed: instagramAccessToken must be at most 4096 bytes"),
        (body([("instagramAccessToken", "5")]), "Validation failed: instagramAccessToken must be a string"),
        (body([("apiType", #""BASIC_DISPLAY""#)]), "Validation failed: apiType must be FACEBOOK_LOGIN or INSTAGRAM_LOGIN"),
        (body([("apiType", nil)]), "Validation failed: apiType is required"),
        (body([("name", #""ab""#), ("apiType", "1")]),
         "Validation failed: name must be at least 3 characters; apiType must be FACEBOOK_LOGIN or INSTAGRAM_LOGIN"),
    ]

    @Test("every invalid body is a 400 naming each problem, and nothing is stored or fetched", arguments: invalid)
    func validation(body: String, message: String) throws {
        let fixture = try HandlerFixture()
        register(fixture, body).expectFailure(.validationFailed, message)
        #expect(try fixture.storedKeys().isEmpty)
        #expect(fixture.instagram.fetchCalls == 0)
    }

    @Test("a body not sent as JSON is refused", arguments: [nil, "text/plain", "application/x-www-form-urlencoded"])
    func contentType(contentType: String?) throws {
        let fixture = try HandlerFixture()
        let response = application(fixture).respond(to: HandlerFixture.post("/register", Self.body(), contentType: contentType))
        response.expectFailure(.validationFailed, "Content-Type must be application/json")
        #expect(try fixture.storedKeys().isEmpty)
    }

    @Test("storage down: 503, and no half-written tenant once it is back")
    func storeOutage() throws {
        let fixture = try HandlerFixture()
        fixture.store.isDown = true
        register(fixture, Self.body([("instagramAccessToken", #""IGAA-token""#)]))
            .expectFailure(.serviceUnavailable, "Storage is unavailable, try again shortly")
        fixture.store.isDown = false
        #expect(try fixture.storedKeys().isEmpty)
        #expect(fixture.instagram.fetchCalls == 0)
    }

    @Test("Instagram failing at the first sync still registers, with a note, and records the error")
    func firstSyncFails() throws {
        let fixture = try HandlerFixture()
        fixture.instagram.failure = UpstreamError(service: "instagram", kind: .server, status: 500, message: "oops")
        let data = try register(fixture, Self.body([("instagramAccessToken", #""IGAA-token""#)])).successData(.created)
        let members = try #require(data.objectMembers)
        #expect(members.map(\.0) == ["authToken", "managementToken", "photosCount", "tenantId", "note"])
        #expect(data["photosCount"] == .int(0))
        #expect(data["note"] == .string(
            "Registered, but the first sync failed: fetching media failed: instagram server (HTTP 500): oops. "
                + "It is retried on the next scheduled sync."))
        let id = try #require(data["tenantId"]?.stringValue)
        let tenant = try #require(try fixture.repository.load(id))
        #expect(tenant.lastError == "\(HandlerFixture.startISO) instagram server (HTTP 500): oops")
        #expect(tenant.lastSync == nil)
        #expect(try fixture.repository.readFeed(id).photosJSON == nil)
    }

    @Test("the CDN failing at the first sync registers with the feed on Instagram's URLs")
    func mirrorDown() throws {
        let fixture = try HandlerFixture()
        fixture.mirror.down = true
        let data = try register(fixture, Self.body([("instagramAccessToken", #""IGAA-token""#)])).successData(.created)
        #expect(data["photosCount"] == .int(3))
        #expect(data["note"] == nil)
        let id = try #require(data["tenantId"]?.stringValue)
        let feed = try JSONParser.parse(try #require(try fixture.repository.readFeed(id).photosJSON))
        let urls = try #require(feed.arrayValue).compactMap { $0["mediaUrl"]?.stringValue }
        #expect(urls.count == 3 && urls.allSatisfy { $0.hasPrefix("http://cdn.invalid/") })
    }
}
