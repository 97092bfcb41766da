import Logging
import Testing

@testable import IGMediaLogic

@Suite("Feed cache", .serialized)
struct FeedCacheTests {
    @Test("reuses a ready body for its TTL, then reads the store again")
    func expiry() {
        let clock = ManualClock()
        let cache = FeedCache(ttlMilliseconds: 1000, clock: clock)
        cache.store(tenantID: "t", body: [1, 2, 3], etag: "\"e\"")
        #expect(cache.entry(for: "t")?.body == [1, 2, 3])
        clock.advance(seconds: 1.01)
        #expect(cache.entry(for: "t") == nil)
    }

    @Test("stays within its byte budget and can be disabled")
    func bounded() {
        let cache = FeedCache(ttlMilliseconds: 60_000, maxBytes: 4000)
        for i in 0..<20 { cache.store(tenantID: "t\(i)", body: Array(repeating: 0, count: 900), etag: nil) }
        #expect((0..<20).filter { cache.entry(for: "t\($0)") != nil }.count <= 4)
        #expect(cache.entry(for: "t19") != nil)
        let off = FeedCache(ttlMilliseconds: 0)
        off.store(tenantID: "t", body: [1], etag: nil)
        #expect(off.entry(for: "t") == nil)
    }

    @Test("a sync in this process replaces the cached feed at once; the store is read once per TTL")
    func syncInvalidates() throws {
        let fixture = try SyncFixture(media: InMemoryInstagram.sampleMedia(count: 2))
        let cache = FeedCache(ttlMilliseconds: 60_000)
        let engine = SyncEngine(
            repository: fixture.repository, instagram: fixture.instagram, mirror: nil,
            lock: SyncLock(store: fixture.store, keys: KeySpace(prefix: "t:"), ttlSeconds: 30), clock: SystemClock(),
            logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }), mediaLimit: 50, photosTTLSeconds: 3600,
            tokenRefreshAfterHours: 24, feedCache: cache)
        let id = try fixture.register()
        _ = try engine.sync(tenantID: id)
        let token = try #require(try fixture.repository.load(id)?.authToken)
        let handler = PhotosHandler(
            authenticator: TenantAuthenticator(repository: fixture.repository), repository: fixture.repository, feedCache: cache)
        let request = Request(method: "GET", path: "/photos", headers: HTTPHeaders([("Authorization", "Bearer \(token)")]))
        func count() throws -> Int? {
            try JSONParser.parse(try handler.handle(request).body)["data"]?["photos"]?.arrayValue?.count
        }
        #expect(try count() == 2)
        fixture.instagram.media = InMemoryInstagram.sampleMedia(count: 5)
        _ = try engine.sync(tenantID: id)
        #expect(try count() == 5)
        // A feed written behind this process's back (another responder, the timer) waits for the TTL.
        _ = try fixture.store.run(RedisCommand("SET", RedisArgument(KeySpace(prefix: "t:").photos(id)), "[]"))
        #expect(try count() == 5)
    }
}
