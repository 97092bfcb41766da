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
        for i in 0..<20 { cache.store(tenantID: "t\(i)", body: Array(repeating: 0, count: 600), etag: nil, gzip: false) }
        #expect((0..<20).filter { cache.feed(for: "t\($0)") != nil }.count == 5)
        #expect(cache.storedBytes <= 4000)
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
        #expect(cache.storedBytes == body.count + gzip.body.count + ClockCache<ReadyFeed>.entryOverheadBytes)
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
        let noise = (0..<800).map { _ in UInt8.random(in: 0...255, using: &generator) }
        #expect(cache.store(tenantID: "noise", body: noise, etag: "\"n\"").gzip == nil)
        #expect(cache.feed(for: "noise")?.identity.body == noise)
        // 830 bytes (and the entry's overhead) fit a quarter of the budget alone, not with a gzip body next to them.
        let zeros = [UInt8](repeating: 0, count: 830)
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

@Suite("Feed cache at scale")
struct FeedCacheScaleTests {
    @Test("over budget it evicts one entry at a time, least recently read first, never everything")
    func evictsLeastRecentlyRead() {
        let cache = FeedCache(ttlMilliseconds: 60_000, maxBytes: 10 * 1160)
        for i in 0..<10 { cache.store(tenantID: "t\(i)", body: Array(repeating: 1, count: 1000), etag: nil, gzip: false) }
        #expect(cache.count == 10)
        // t0…t4 read again: the next five stores evict t5…t9 and keep every one of them.
        for i in 0..<5 { #expect(cache.feed(for: "t\(i)") != nil) }
        for i in 10..<15 { cache.store(tenantID: "t\(i)", body: Array(repeating: 1, count: 1000), etag: nil, gzip: false) }
        #expect(cache.count == 10)
        #expect((0..<5).allSatisfy { cache.feed(for: "t\($0)") != nil })
        #expect((5..<10).allSatisfy { cache.feed(for: "t\($0)") == nil })
        #expect(cache.evictions == 5)
    }

    @Test("an identity-only client never pays for gzip; the first gzip client makes it once")
    func lazyGzip() throws {
        let cache = FeedCache(ttlMilliseconds: 60_000)
        let body = GzipTests.feedEnvelope()
        let identity = cache.store(tenantID: "t", body: body, etag: "\"v\"", gzip: false)
        #expect(identity.gzip == nil && identity.gzipPending)
        #expect(cache.storedBytes == body.count + ClockCache<ReadyFeed>.entryOverheadBytes)
        let cached = try #require(cache.feed(for: "t"))
        let upgraded = cache.withGzip(tenantID: "t", cached)
        #expect(upgraded.gzip?.etag == "\"v-gz\"")
        #expect(cache.feed(for: "t")?.gzip != nil)
        #expect(cache.feed(for: "t")?.gzipPending == false)
    }

    @Test("while the change stream is followed entries live for the max age; when the lease lapses, for the TTL")
    func followedFreshness() {
        let clock = ManualClock()
        let freshness = CacheFreshness(ttlMilliseconds: 1000, followedMaxAgeMilliseconds: 60_000)
        let cache = FeedCache(ttlMilliseconds: 1000, clock: clock, freshness: freshness)
        freshness.renewFollowing(until: clock.monotonicNanoseconds() + 30_000_000_000)
        cache.store(tenantID: "t", body: [1], etag: nil)
        clock.advance(seconds: 20)
        #expect(cache.feed(for: "t") != nil)
        clock.advance(seconds: 11)
        // Lease over: the 31 s old entry is past the 1 s TTL.
        #expect(cache.feed(for: "t") == nil)
        freshness.renewFollowing(until: clock.monotonicNanoseconds() + 30_000_000_000)
        #expect(cache.feed(for: "t") != nil)
        clock.advance(seconds: 30)
        #expect(cache.feed(for: "t") == nil)
    }
}

@Suite("Change follower")
struct ChangeFollowerTests {
    @Test("a feed or token changed by any process leaves this process's caches at the next poll")
    func appliesChanges() throws {
        let fixture = try SyncFixture(media: InMemoryInstagram.sampleMedia(count: 2))
        let clock = ManualClock()
        let freshness = CacheFreshness(ttlMilliseconds: 1000, followedMaxAgeMilliseconds: 60_000)
        let feeds = FeedCache(ttlMilliseconds: 1000, clock: clock, freshness: freshness)
        let tokens = AuthTokenCache(
            ttlSeconds: 1, clock: clock, freshness: CacheFreshness(ttlMilliseconds: 1000, followedMaxAgeMilliseconds: 60_000))
        let follower = ChangeFollower(
            store: fixture.store, keys: fixture.repository.keys, feedCache: feeds, authCache: tokens, intervalMilliseconds: 100,
            clock: clock, logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))
        let id = try fixture.register()
        #expect(try follower.poll() == 0)
        feeds.store(tenantID: id, body: [1], etag: nil)
        tokens.store(id, for: "some-token")
        // Past the 1 s TTL, kept: every poll renews the lease.
        for _ in 0..<6 {
            clock.advance(seconds: 0.5)
            try follower.poll()
        }
        #expect(feeds.feed(for: id) != nil)
        // Another process syncs the tenant: its commit appends to the change stream.
        _ = try fixture.engine.sync(tenantID: id)
        #expect(feeds.feed(for: id) != nil)
        #expect(try follower.poll() == 1)
        #expect(feeds.feed(for: id) == nil)
        _ = try fixture.store.run(fixture.repository.changeRecord(tokens: ["some-token"]))
        #expect(tokens.tenantID(for: "some-token") == id)
        #expect(try follower.poll() == 1)
        #expect(tokens.tenantID(for: "some-token") == nil)
        // A lapsed lease (no poll for 3 intervals, at least 1 s) clears everything on the next poll.
        feeds.store(tenantID: "other", body: [2], etag: nil)
        clock.advance(seconds: 5)
        #expect(feeds.feed(for: "other") == nil)
        #expect(try follower.poll() == 0)
        #expect(feeds.count == 0)
    }
}
