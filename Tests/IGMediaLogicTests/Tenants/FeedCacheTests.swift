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
        #expect(cache.feed(for: "t")?.identity.body == [1, 2, 3])
        clock.advance(seconds: 1.01)
        #expect(cache.feed(for: "t") == nil)
    }

    @Test("stays within its byte budget and can be disabled")
    func bounded() {
        let cache = FeedCache(ttlMilliseconds: 60_000, maxBytes: 4000)
        for i in 0..<20 { cache.store(tenantID: "t\(i)", body: Array(repeating: 0, count: 900), etag: nil) }
        #expect((0..<20).filter { cache.feed(for: "t\($0)") != nil }.count <= 4)
        #expect(cache.feed(for: "t19") != nil)
        let off = FeedCache(ttlMilliseconds: 0)
        off.store(tenantID: "t", body: [1], etag: nil)
        #expect(off.feed(for: "t") == nil)
    }

    @Test("keeps a gzip body next to the identity body when it is smaller, and counts both")
    func gzipBody() throws {
        let cache = FeedCache(ttlMilliseconds: 60_000)
        let body = GzipTests.feedEnvelope()
        let stored = cache.store(tenantID: "t", body: body, etag: "\"v1\"")
        let gzip = try #require(cache.feed(for: "t")?.gzip)
        #expect(Gunzip.decompress(gzip.body) == body)
        #expect(gzip.etag == "\"v1-gz\"")
        #expect(stored.gzip?.body == gzip.body)
        #expect(cache.storedBytes == body.count + gzip.body.count)
        // No ETag for the feed, none for its gzip body either.
        cache.store(tenantID: "u", body: body, etag: nil)
        #expect(cache.feed(for: "u")?.gzip?.etag == nil)
        #expect(cache.feed(for: "u")?.gzip != nil)
        cache.remove("t")
        cache.remove("u")
        #expect(cache.storedBytes == 0)
    }

    @Test("no gzip body when gzip is not smaller, the entry would not fit, or the cache is off")
    func noGzipBody() {
        let cache = FeedCache(ttlMilliseconds: 60_000, maxBytes: 4000)
        let small = Array(#"{"success":true,"data":{"photos":[]}}"#.utf8)
        #expect(cache.store(tenantID: "empty", body: small, etag: nil).gzip == nil)
        var generator = SystemRandomNumberGenerator()
        let noise = (0..<900).map { _ in UInt8.random(in: 0...255, using: &generator) }
        #expect(cache.store(tenantID: "noise", body: noise, etag: "\"n\"").gzip == nil)
        #expect(cache.feed(for: "noise")?.identity.body == noise)
        // 1000 bytes fit a quarter of the budget alone, not with a gzip body next to them.
        let zeros = [UInt8](repeating: 0, count: 1000)
        #expect(cache.store(tenantID: "tight", body: zeros, etag: nil).gzip == nil)
        #expect(cache.feed(for: "tight")?.identity.body == zeros)
        let off = FeedCache(ttlMilliseconds: 0)
        #expect(off.store(tenantID: "t", body: GzipTests.feedEnvelope(), etag: "\"e\"").gzip == nil)
    }

    @Test("an unchanged feed stored again keeps its gzip body instead of compressing again")
    func reusesGzipBody() throws {
        let clock = ManualClock()
        let cache = FeedCache(ttlMilliseconds: 1000, clock: clock)
        let body = GzipTests.feedEnvelope()
        let first = try #require(cache.store(tenantID: "t", body: body, etag: "\"v1\"").gzip)
        clock.advance(seconds: 1.01)
        #expect(cache.feed(for: "t") == nil)
        let again = try #require(cache.store(tenantID: "t", body: Array(body), etag: "\"v1\"").gzip)
        #expect(Self.sameStorage(first.body, again.body))
        let changed = try #require(cache.store(tenantID: "t", body: body, etag: "\"v2\"").gzip)
        #expect(!Self.sameStorage(first.body, changed.body))
        #expect(changed.etag == "\"v2-gz\"")
    }

    private static func sameStorage(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in x.baseAddress == y.baseAddress } }
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
