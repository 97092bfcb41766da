import Testing

@testable import IGMediaLogic

@Suite("POST /auth/refresh-token")
struct RefreshTokenHandlerTests {
    func refresh(_ fixture: HandlerFixture, bearer: String?) -> Response {
        let authenticator = TenantAuthenticator(repository: fixture.repository)
        return fixture.application {
            $0.refreshToken = RefreshTokenHandler(
                authenticator: authenticator, repository: fixture.repository, instagram: fixture.instagram, clock: fixture.clock)
        }.respond(to: HandlerFixture.post("/auth/refresh-token", "", bearer: bearer, contentType: nil))
    }

    @Test("refreshes the tenant's token with its own credentials and stores it sealed, with the time")
    func success() throws {
        let fixture = try HandlerFixture()
        let tenant = try fixture.tenant(tokenUpdate: "2026-11-01T00:00:00.000Z")
        let other = try fixture.tenant(token: "IGAA-other")
        fixture.clock.advance(seconds: 90)
        #expect(try refresh(fixture, bearer: tenant.authToken).successData() == .object([("result", .string("success"))]))
        #expect(fixture.instagram.refreshes == [InMemoryInstagram.Refresh(
            apiType: .instagramLogin, accessToken: "IGAA-token", appID: nil, appSecret: "app-secret")])
        let stored = try #require(try fixture.repository.load(tenant.id))
        #expect(stored.instagramAccessToken == "IGAA-token-refreshed")
        #expect(stored.tokenUpdate == "2027-01-15T08:01:30.000Z")
        let raw = try #require(try fixture.store.run(RedisCommand("HGETALL", RedisArgument(fixture.keys.tenant(tenant.id)))).hashValue)
        #expect(!raw.values.contains { $0.contains("IGAA-token") })
        #expect(try fixture.repository.load(other.id)?.instagramAccessToken == "IGAA-other")
    }

    @Test("a FACEBOOK_LOGIN tenant refreshes with its app id")
    func facebook() throws {
        let fixture = try HandlerFixture()
        let tenant = try fixture.tenant(apiType: .facebookLogin, appID: "990602627938098")
        _ = try refresh(fixture, bearer: tenant.authToken).successData()
        #expect(fixture.instagram.refreshes.map(\.apiType) == [.facebookLogin])
        #expect(fixture.instagram.refreshes.map(\.appID) == ["990602627938098"])
    }

    @Test(
        "a missing or malformed bearer token is a 401 decided without the store or Instagram",
        arguments: [nil, "", "short", "not a token", "{curly}-braces-are-refused", String(repeating: "a", count: 129)])
    func malformedBearer(bearer: String?) throws {
        let fixture = try HandlerFixture()
        try fixture.tenant()
        // With the store down, a lookup would answer 503: the 401 shows none was made.
        fixture.store.isDown = true
        let response = refresh(fixture, bearer: bearer)
        response.expectFailure(.unauthorized, "Missing or invalid authentication")
        #expect(response.headers["WWW-Authenticate"] == "Bearer")
        #expect(fixture.instagram.refreshCalls == 0)
    }

    @Test("a well-formed token no tenant holds is looked up: 401, or 503 while the store is down; Instagram is not asked")
    func unknownBearer() throws {
        let fixture = try HandlerFixture()
        let tenant = try fixture.tenant()
        let unknown = "0d4f3c1e-6f7a-4b8c-9d0e-1f2a3b4c5d6e"
        let response = refresh(fixture, bearer: unknown)
        response.expectFailure(.unauthorized, "Missing or invalid authentication")
        #expect(response.headers["WWW-Authenticate"] == "Bearer")
        #expect(fixture.instagram.refreshCalls == 0)
        #expect(try fixture.repository.load(tenant.id)?.instagramAccessToken == "IGAA-token")
        fixture.store.isDown = true
        refresh(fixture, bearer: unknown).expectFailure(.serviceUnavailable, "Storage is unavailable, try again shortly")
    }

    @Test("a token whose tenant record is gone is a 404")
    func tenantGone() throws {
        let fixture = try HandlerFixture()
        let tenant = try fixture.tenant()
        _ = try fixture.store.run(RedisCommand("DEL", RedisArgument(fixture.keys.tenant(tenant.id))))
        refresh(fixture, bearer: tenant.authToken).expectFailure(.notFound, "Tenant not found")
        #expect(fixture.instagram.refreshCalls == 0)
    }

    @Test("a tenant registered without an Instagram token has nothing to refresh: 400")
    func noToken() throws {
        let fixture = try HandlerFixture()
        let tenant = try fixture.tenant(token: nil, tokenUpdate: nil)
        refresh(fixture, bearer: tenant.authToken).expectFailure(.validationFailed, "Tenant has no Instagram access token to refresh")
        #expect(fixture.instagram.refreshCalls == 0)
    }

    @Test("a record whose sealed secret does not open is a plain 500, naming nothing")
    func undecryptable() throws {
        let fixture = try HandlerFixture()
        let tenant = try fixture.tenant()
        _ = try fixture.store.run(RedisCommand(
            "HSET", RedisArgument(fixture.keys.tenant(tenant.id)), RedisArgument(TenantField.accountSecret), "tampered"))
        refresh(fixture, bearer: tenant.authToken).expectFailure(.internalError, "Internal server error")
        #expect(fixture.instagram.refreshCalls == 0)
    }

    @Test("storage down: 503, and Instagram is not asked")
    func storeOutage() throws {
        let fixture = try HandlerFixture()
        let tenant = try fixture.tenant()
        fixture.store.isDown = true
        refresh(fixture, bearer: tenant.authToken).expectFailure(.serviceUnavailable, "Storage is unavailable, try again shortly")
        #expect(fixture.instagram.refreshCalls == 0)
    }

    @Test("Instagram refusing the refresh is a 500 with its reason, and the stored token stays")
    func upstreamFails() throws {
        let fixture = try HandlerFixture()
        let tenant = try fixture.tenant()
        fixture.instagram.refreshFailure = UpstreamError(
            service: "instagram", kind: .auth, status: 400, message: "Error validating access token", code: 190)
        refresh(fixture, bearer: tenant.authToken).expectFailure(.internalError, "Token refresh failed: Error validating access token")
        let stored = try #require(try fixture.repository.load(tenant.id))
        #expect(stored.instagramAccessToken == "IGAA-token" && stored.tokenUpdate == HandlerFixture.startISO)
    }

    @Test("a FACEBOOK_LOGIN tenant without an app id is told to register with one when Facebook rejects the exchange")
    func facebookWithoutAppID() throws {
        let fixture = try HandlerFixture()
        let rejected = UpstreamError(service: "instagram", kind: .rejected, status: 400, message: "Missing client_id parameter.", code: 101)
        fixture.instagram.refreshFailure = rejected
        let withoutAppID = try fixture.tenant(apiType: .facebookLogin)
        refresh(fixture, bearer: withoutAppID.authToken).expectFailure(
            .validationFailed, "FACEBOOK_LOGIN tokens are refreshed with the app id: register the tenant with instagramAppId")
        let withAppID = try fixture.tenant(apiType: .facebookLogin, appID: "990602627938098")
        refresh(fixture, bearer: withAppID.authToken).expectFailure(.internalError, "Token refresh failed: Missing client_id parameter.")
    }

    @Test("storage failing after Instagram refreshed is a 503, and the old token is still stored")
    func storeFailsAfterRefresh() throws {
        let fixture = try HandlerFixture()
        let tenant = try fixture.tenant()
        let instagram = OutageOnRefresh(store: fixture.store, inner: fixture.instagram)
        let response = fixture.application {
            $0.refreshToken = RefreshTokenHandler(
                authenticator: TenantAuthenticator(repository: fixture.repository), repository: fixture.repository,
                instagram: instagram, clock: fixture.clock)
        }.respond(to: HandlerFixture.post("/auth/refresh-token", "", bearer: tenant.authToken, contentType: nil))
        response.expectFailure(.serviceUnavailable, "Storage is unavailable, try again shortly")
        fixture.store.isDown = false
        #expect(fixture.instagram.refreshCalls == 1)
        #expect(try fixture.repository.load(tenant.id)?.instagramAccessToken == "IGAA-token")
    }
}

/// Takes the store down while Instagram answers a refresh: the outage lands between the two.
private struct OutageOnRefresh: InstagramAPI {
    let store: InMemoryRedisStore
    let inner: InMemoryInstagram

    func refreshToken(apiType: APIType, accessToken: String, appID: String?, appSecret: String) throws(UpstreamError) -> InstagramToken {
        defer { store.isDown = true }
        return try inner.refreshToken(apiType: apiType, accessToken: accessToken, appID: appID, appSecret: appSecret)
    }

    func fetchMedia(apiType: APIType, accountID: String, accessToken: String, limit: Int) throws(UpstreamError) -> [InstagramMedia] {
        try inner.fetchMedia(apiType: apiType, accountID: accountID, accessToken: accessToken, limit: limit)
    }

    func exchangeCode(code: String, appID: String, appSecret: String, redirectURI: String) throws(UpstreamError) -> InstagramToken {
        try inner.exchangeCode(code: code, appID: appID, appSecret: appSecret, redirectURI: redirectURI)
    }

    func firstMediaPageJSON(accessToken: String, limit: Int) throws(UpstreamError) -> String {
        try inner.firstMediaPageJSON(accessToken: accessToken, limit: limit)
    }

    func inspectToken(apiType: APIType, accessToken: String, appID: String?, appSecret: String) throws(UpstreamError) -> TokenInspection {
        try inner.inspectToken(apiType: apiType, accessToken: accessToken, appID: appID, appSecret: appSecret)
    }
}
