import Testing

@testable import IGMediaLogic

@Suite("Auth token cache")
struct AuthTokenCacheTests {
    @Test("keeps a lookup for its TTL, then forgets it")
    func expiry() {
        let clock = ManualClock()
        let cache = AuthTokenCache(ttlSeconds: 5, clock: clock)
        cache.store("tenant-a", for: "token-a")
        #expect(cache.tenantID(for: "token-a") == "tenant-a")
        clock.advance(seconds: 4.9)
        #expect(cache.tenantID(for: "token-a") == "tenant-a")
        clock.advance(seconds: 0.2)
        #expect(cache.tenantID(for: "token-a") == nil)
    }

    @Test("a TTL of 0 disables it, and memory stays bounded")
    func disabledAndBounded() {
        let off = AuthTokenCache(ttlSeconds: 0)
        off.store("t", for: "k")
        #expect(off.tenantID(for: "k") == nil)
        let small = AuthTokenCache(ttlSeconds: 60, capacity: 10)
        for i in 0..<25 { small.store("t\(i)", for: "k\(i)") }
        #expect(small.tenantID(for: "k24") == "t24")
        #expect((0..<25).filter { small.tenantID(for: "k\($0)") != nil }.count <= 10)
    }

    @Test("GET /photos resolves a cached token with one store round trip and still 404s a deleted tenant")
    func photosRoundTrips() throws {
        let fixture = try SyncFixture(media: InMemoryInstagram.sampleMedia(count: 2))
        let id = try fixture.register()
        _ = try fixture.engine.sync(tenantID: id)
        let token = try #require(try fixture.repository.load(id)?.authToken)
        let authenticator = TenantAuthenticator(repository: fixture.repository, cache: AuthTokenCache(ttlSeconds: 60))
        let handler = PhotosHandler(authenticator: authenticator, repository: fixture.repository)
        let request = Request(method: "GET", path: "/photos", headers: HTTPHeaders([("Authorization", "Bearer \(token)")]))
        #expect(try handler.handle(request).status == .ok)
        _ = try fixture.store.run(RedisCommand("CONFIG", "RESETSTAT"))
        #expect(try handler.handle(request).status == .ok)
        let info = try fixture.store.run(RedisCommand("INFO", "stats")).stringValue ?? ""
        // INFO itself is the second command counted after the reset.
        #expect(info.contains("total_commands_processed:4"), "\(info.split(separator: "\r\n").filter { $0.hasPrefix("total_commands") })")
        _ = try fixture.store.run(RedisCommand("DEL", RedisArgument(KeySpace(prefix: "t:").tenant(id))))
        #expect(throws: HTTPError.notFound("Tenant not found")) { try handler.handle(request) }
    }
}
