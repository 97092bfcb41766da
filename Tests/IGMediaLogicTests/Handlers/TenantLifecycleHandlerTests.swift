import Testing

@testable import IGMediaLogic

/// The tenant endpoints without a network: the two credentials, token replacement that changes
/// nothing when refused, rotation with grace on the store's clock, and a deletion that a CDN
/// outage interrupts and a repeat finishes.
@Suite("Tenant lifecycle handlers")
struct TenantLifecycleHandlerTests {
    struct World {
        let fixture: HandlerFixture
        let tenant: Tenant
        let management: String
        let app: Application

        init(graceSeconds: Int = 60) throws {
            fixture = try HandlerFixture()
            var tenant = Tenant(
                id: UUIDv4.make(), name: "lifecycle", authToken: UUIDv4.make(), apiType: .instagramLogin,
                instagramAccountID: "1784", instagramAccountSecret: "app-secret", instagramAccessToken: "IGAA-old",
                tokenUpdate: HandlerFixture.startISO)
            management = ManagementToken.make()
            tenant.managementTokenHash = ManagementToken.hash(management)
            try fixture.repository.create(tenant)
            _ = try fixture.engine.sync(tenantID: tenant.id)
            self.tenant = tenant
            let fixture = self.fixture
            let endpoints = TenantEndpoints(
                authenticator: TenantAuthenticator(repository: fixture.repository), repository: fixture.repository,
                clock: fixture.clock, expiringDays: 7)
            let deletion = TenantDeletion(
                repository: fixture.repository, mirror: fixture.mirror, clock: fixture.clock, logger: HandlerFixture.quiet)
            app = fixture.application { handlers in
                handlers.tenant = GetTenantHandler(endpoints: endpoints)
                handlers.replaceToken = ReplaceTokenHandler(
                    endpoints: endpoints, instagram: fixture.instagram, engine: fixture.engine, logger: HandlerFixture.quiet)
                handlers.rotateAuthToken = RotateAuthTokenHandler(
                    endpoints: endpoints, graceSeconds: graceSeconds, cache: nil, logger: HandlerFixture.quiet)
                handlers.rotateManagementToken = RotateManagementTokenHandler(endpoints: endpoints, logger: HandlerFixture.quiet)
                handlers.deleteTenant = DeleteTenantHandler(endpoints: endpoints, deletion: deletion)
            }
        }

        func call(_ method: String, _ path: String, bearer: String?, body: String = "") -> Response {
            var headers = HTTPHeaders()
            if let bearer { headers.add("Authorization", "Bearer \(bearer)") }
            if !body.isEmpty { headers.add("Content-Type", "application/json") }
            return app.respond(to: Request(method: method, path: path, headers: headers, body: Array(body.utf8)))
        }

        func hash() throws -> [String: String] {
            try fixture.store.run(RedisCommand("HGETALL", RedisArgument(fixture.keys.tenant(tenant.id)))).hashValue ?? [:]
        }
    }

    @Test("GET /tenant answers either credential; the auth token is 403 where things change")
    func credentials() throws {
        let world = try World()
        let byAuth = try world.call("GET", "/tenant", bearer: world.tenant.authToken).successData()
        let byManagement = try world.call("GET", "/tenant", bearer: world.management).successData()
        #expect(byAuth == byManagement)
        #expect(byAuth["tenant"]?["tokenState"] == .string("ok"))
        #expect(byAuth["tenant"]?["photosCount"] == .int(3))
        for (method, path) in [("PUT", "/tenant/instagram-token"), ("POST", "/tenant/rotate-auth-token"),
                               ("POST", "/tenant/rotate-management-token"), ("DELETE", "/tenant")] {
            world.call(method, path, bearer: world.tenant.authToken, body: #"{"instagramAccessToken":"x"}"#).expectFailure(
                .forbidden, "This needs the tenant's management token; the auth token can only read the feed")
            world.call(method, path, bearer: "unknown-token-123").expectFailure(.unauthorized, "Missing or invalid authentication")
        }
    }

    @Test("a token Instagram refuses is a 400 naming the reason; nothing stored changes")
    func refusedToken() throws {
        let world = try World()
        let before = try world.hash()
        world.fixture.instagram.inspectFailure = UpstreamError(
            service: "instagram", kind: .auth, status: 400, message: "Error validating access token", code: 190, subcode: 460)
        world.call("PUT", "/tenant/instagram-token", bearer: world.management, body: #"{"instagramAccessToken":"IGAA-new"}"#)
            .expectFailure(.validationFailed, "instagramAccessToken was refused by Instagram: TOKEN_REVOKED (code 190, subcode 460)")
        #expect(try world.hash() == before)
        world.fixture.instagram.inspectFailure = UpstreamError(service: "instagram", kind: .timeout, message: "no answer")
        world.call("PUT", "/tenant/instagram-token", bearer: world.management, body: #"{"instagramAccessToken":"IGAA-new"}"#)
            .expectFailure(.serviceUnavailable, "Instagram could not check the token (UPSTREAM_UNAVAILABLE); nothing was changed, try again")
        #expect(try world.hash() == before)
    }

    @Test("a new token resets the health fields, revives an invalid tenant and syncs it")
    func replacement() throws {
        let world = try World()
        try world.fixture.repository.recordSyncError(
            tenantID: world.tenant.id, message: "dead", code: .tokenRevoked, at: HandlerFixture.startISO)
        #expect(try world.fixture.repository.unsyncableTenantIDs(now: HandlerFixture.start) == [world.tenant.id])
        world.fixture.instagram.inspection = TokenInspection(expiresAt: HandlerFixture.start + 86_400 * 30, userID: "1784")
        let data = try world.call(
            "PUT", "/tenant/instagram-token", bearer: world.management, body: #"{"instagramAccessToken":"IGAA-new"}"#
        ).successData()
        #expect(data["tenant"]?["tokenState"] == .string("ok"))
        #expect(data["tenant"]?["lastErrorCode"] == .null)
        #expect(data["sync"]?["photosCount"] == .int(3))
        #expect(try world.fixture.repository.unsyncableTenantIDs(now: HandlerFixture.start) == [])
        #expect(try world.fixture.repository.load(world.tenant.id)?.instagramAccessToken == "IGAA-new")
        #expect(world.fixture.instagram.tokensSeen.last == "IGAA-new")
    }

    @Test("rotation: the previous auth token works for the grace only; two rotations keep one previous")
    func rotation() throws {
        let world = try World(graceSeconds: 60)
        let first = world.tenant.authToken
        let second = try #require(try world.call("POST", "/tenant/rotate-auth-token", bearer: world.management)
            .successData()["authToken"]?.stringValue)
        #expect(try world.fixture.repository.tenantID(forAuthToken: first) == world.tenant.id)
        let third = try #require(try world.call("POST", "/tenant/rotate-auth-token", bearer: world.management)
            .successData()["authToken"]?.stringValue)
        #expect(try world.fixture.repository.tenantID(forAuthToken: first) == nil)
        #expect(try world.fixture.repository.tenantID(forAuthToken: second) == world.tenant.id)
        world.fixture.clock.advance(seconds: 61)
        #expect(try world.fixture.repository.tenantID(forAuthToken: second) == nil)
        #expect(try world.fixture.repository.tenantID(forAuthToken: third) == world.tenant.id)

        let newManagement = try #require(try world.call("POST", "/tenant/rotate-management-token", bearer: world.management)
            .successData()["managementToken"]?.stringValue)
        world.call("GET", "/tenant", bearer: world.management).expectFailure(.unauthorized, "Missing or invalid authentication")
        _ = try world.call("GET", "/tenant", bearer: newManagement).successData()
    }

    @Test("a CDN outage interrupts the delete; the tenant is no longer served; a repeat finishes")
    func deletion() throws {
        let world = try World()
        let other = try world.fixture.tenant()
        let othersKeys = try world.fixture.storedKeys().filter { $0.contains(other.id) || $0.contains(other.authToken) }
        world.fixture.mirror.down = true
        world.call("DELETE", "/tenant", bearer: world.management).expectFailure(
            .serviceUnavailable, "Deleting the mirrored assets failed (server); repeat the request to finish")
        #expect(try world.fixture.repository.tenantID(forAuthToken: world.tenant.authToken) == nil)
        #expect(try world.fixture.repository.deletingTenantIDs() == [world.tenant.id])
        // The deletion keeps the sync lock until it is done: no sync can write the feed back.
        #expect(throws: SyncError.locked) { try world.fixture.engine.sync(tenantID: world.tenant.id) }
        world.fixture.mirror.down = false
        let data = try world.call("DELETE", "/tenant", bearer: world.management).successData()
        #expect(data["deleted"]?["assets"] == .int(world.fixture.mirror.uploads.count))
        #expect(world.fixture.mirror.deletedPrefixes == ["instagram-media/\(world.tenant.id)/"])
        let left = try world.fixture.storedKeys()
        #expect(!left.contains { $0.contains(world.tenant.id) || $0.contains(world.tenant.authToken) }, "\(left)")
        #expect(left.filter { $0.contains(other.id) || $0.contains(other.authToken) } == othersKeys)
        world.call("DELETE", "/tenant", bearer: world.management).expectFailure(.unauthorized, "Missing or invalid authentication")
    }
}
