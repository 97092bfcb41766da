import Testing

@testable import IGMediaLogic

@Suite("Sync engine", .serialized)
struct SyncEngineTests {
    @Test("a cold sync mirrors every asset and writes the feed with the new fields")
    func coldSync() throws {
        let fixture = try SyncFixture(media: InMemoryInstagram.sampleMedia(count: 50))
        let id = try fixture.register()
        let result = try fixture.engine.sync(tenantID: id)
        #expect(result.photosCount == 50)
        #expect(result.failed == 0 && result.deleted == 0 && result.kept == 0)
        #expect(result.uploaded == fixture.mirror.uploads.count)
        // 50 media: 10 videos (video + poster), carousels add two children (one a video with poster).
        #expect(result.uploaded > 50)
        #expect(result.refreshTokenResult == .notDue)
        let feed = try fixture.feed(id)
        let items = try #require(feed.arrayValue)
        #expect(items.count == 50)
        let video = try #require(items.first(where: { $0["mediaType"] == .string("VIDEO") }))
        #expect(video["mediaUrl"]?.stringValue?.contains("/video/upload/") == true)
        #expect(video["thumbnailUrl"]?.stringValue?.contains("/image/upload/") == true)
        let carousel = try #require(items.first(where: { $0["mediaType"] == .string("CAROUSEL_ALBUM") }))
        #expect(carousel["children"]?.arrayValue?.count == 2)
        #expect(items.allSatisfy { $0["caption"]?.stringValue != nil && $0["permalink"] != nil && $0["timestamp"] != nil })
        let uploadTags = Set(fixture.mirror.uploads.flatMap(\.tags))
        #expect(uploadTags == [id, "instagram-media"])
        #expect(fixture.mirror.uploads.allSatisfy { $0.publicID.hasPrefix("instagram-media/\(id)/") })
        #expect(try fixture.repository.readFeed(id).etag?.hasPrefix("\"") == true)
    }

    @Test("an unchanged re-sync uploads and deletes nothing and keeps the CDN URLs")
    func unchanged() throws {
        let fixture = try SyncFixture(media: InMemoryInstagram.sampleMedia(count: 20))
        let id = try fixture.register()
        let first = try fixture.engine.sync(tenantID: id)
        let before = try fixture.feed(id)
        fixture.mirror.reset()
        let second = try fixture.engine.sync(tenantID: id)
        #expect(second.uploaded == 0 && second.deleted == 0)
        #expect(second.kept == first.uploaded)
        #expect(fixture.mirror.uploads.isEmpty && fixture.mirror.destroyed.isEmpty)
        #expect(try fixture.feed(id) == before)
    }

    @Test("a post deleted on Instagram disappears and its assets are destroyed")
    func deletedPost() throws {
        let media = InMemoryInstagram.sampleMedia(count: 10)
        let fixture = try SyncFixture(media: media)
        let id = try fixture.register()
        _ = try fixture.engine.sync(tenantID: id)
        let gone = media[4]  // a VIDEO: video + poster
        fixture.instagram.media = media.filter { $0.id != gone.id }
        let result = try fixture.engine.sync(tenantID: id)
        #expect(result.deleted == 2)
        #expect(Set(fixture.mirror.destroyed) == ["video:instagram-media/\(id)/\(gone.id)", "image:instagram-media/\(id)/\(gone.id)"])
        #expect(try fixture.feed(id).arrayValue?.count == 9)
        #expect(try fixture.repository.mirroredAssets(id).keys.contains { $0.publicID.hasSuffix(gone.id) } == false)
    }

    @Test("an Instagram failure leaves the stored feed exactly as it was and records the error",
          arguments: [UpstreamError.Kind.server, .rateLimited, .auth, .timeout])
    func fetchFailure(kind: UpstreamError.Kind) throws {
        let fixture = try SyncFixture(media: InMemoryInstagram.sampleMedia(count: 5))
        let id = try fixture.register()
        _ = try fixture.engine.sync(tenantID: id)
        let before = try fixture.repository.readFeed(id)
        fixture.instagram.failure = UpstreamError(service: "instagram", kind: kind, status: 500, message: "boom")
        #expect(throws: SyncError.self) { try fixture.engine.sync(tenantID: id) }
        let after = try fixture.repository.readFeed(id)
        #expect(after.photosJSON == before.photosJSON)
        #expect(after.etag == before.etag)
        let hash = try fixture.store.run(RedisCommand("HGET", RedisArgument("t:tenant:\(id)"), "last_error")).stringValue
        #expect(hash?.contains("boom") == true)
    }

    @Test("a failed upload keeps Instagram's URL and is retried next sync")
    func uploadFailure() throws {
        let media = InMemoryInstagram.sampleMedia(count: 3)
        let fixture = try SyncFixture(media: media)
        let id = try fixture.register()
        fixture.mirror.failingSources = [media[0].mediaURL!]
        let first = try fixture.engine.sync(tenantID: id)
        #expect(first.failed == 1)
        #expect(try fixture.feed(id).arrayValue?.first?["mediaUrl"]?.stringValue == media[0].mediaURL)
        fixture.mirror.failingSources = []
        fixture.mirror.reset()
        let second = try fixture.engine.sync(tenantID: id)
        #expect(second.uploaded == 1 && second.failed == 0)
        #expect(try fixture.feed(id).arrayValue?.first?["mediaUrl"]?.stringValue?.hasPrefix("https://res.cloudinary.test/") == true)
    }

    @Test("without a mirror the feed serves Instagram's URLs")
    func noMirror() throws {
        let media = InMemoryInstagram.sampleMedia(count: 4)
        let fixture = try SyncFixture(media: media, withMirror: false)
        let id = try fixture.register()
        let result = try fixture.engine.sync(tenantID: id)
        #expect(result.uploaded == 0)
        #expect(try fixture.feed(id).arrayValue?.first?["mediaUrl"]?.stringValue == media[0].mediaURL)
    }

    @Test("a token older than the policy is refreshed before fetching, and stored sealed")
    func refresh() throws {
        let fixture = try SyncFixture(media: InMemoryInstagram.sampleMedia(count: 1))
        let id = try fixture.register(tokenUpdate: "2020-01-01T00:00:00.000Z")
        let result = try fixture.engine.sync(tenantID: id)
        #expect(result.refreshTokenResult == .refreshed)
        #expect(fixture.instagram.tokensSeen == ["IGAA-token-refreshed"])
        #expect(try fixture.repository.load(id)?.instagramAccessToken == "IGAA-token-refreshed")
        let stored = try fixture.store.run(RedisCommand("HGET", RedisArgument("t:tenant:\(id)"), "instagramAccessToken")).stringValue
        #expect(stored?.hasPrefix("v1:") == true)
    }

    @Test("a failed refresh is reported and the sync goes on with the current token")
    func refreshFailure() throws {
        let fixture = try SyncFixture(media: InMemoryInstagram.sampleMedia(count: 2))
        let id = try fixture.register(tokenUpdate: nil)
        fixture.instagram.refreshFailure = UpstreamError(service: "instagram", kind: .rejected, status: 400, message: "too young")
        let result = try fixture.engine.sync(tenantID: id)
        #expect(result.refreshTokenResult == .failed("\(UpstreamError(service: "instagram", kind: .rejected, status: 400, message: "too young"))"))
        #expect(result.photosCount == 2)
    }

    @Test("a second sync of the same tenant while the first holds the lock reports the lock")
    func lock() throws {
        let fixture = try SyncFixture(media: InMemoryInstagram.sampleMedia(count: 1))
        let id = try fixture.register()
        let lock = SyncLock(store: fixture.store, keys: KeySpace(prefix: "t:"), ttlSeconds: 30)
        let owner = try #require(try lock.acquire(id))
        #expect(throws: SyncError.locked) { try fixture.engine.sync(tenantID: id) }
        #expect(try lock.release(id, owner: "someone-else") == false)
        #expect(try lock.release(id, owner: owner))
        #expect(try fixture.engine.sync(tenantID: id).photosCount == 1)
    }

    @Test("a tenant without a token or without a record fails permanently")
    func permanentFailures() throws {
        let fixture = try SyncFixture(media: [])
        let id = try fixture.register(token: nil)
        #expect(throws: SyncError.noAccessToken) { try fixture.engine.sync(tenantID: id) }
        #expect(throws: SyncError.tenantNotFound) { try fixture.engine.sync(tenantID: UUIDv4.make()) }
        #expect(!SyncError.noAccessToken.isTransient)
    }
}
