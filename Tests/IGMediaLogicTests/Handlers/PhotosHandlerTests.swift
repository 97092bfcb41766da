import Foundation
import Testing

@testable import IGMediaLogic

@Suite("GET /photos", .serialized)
struct PhotosHandlerTests {
    @Test("serves the stored feed with its ETag and answers If-None-Match with 304")
    func etag() throws {
        let fixture = try SyncFixture(media: InMemoryInstagram.sampleMedia(count: 3))
        let id = try fixture.register()
        _ = try fixture.engine.sync(tenantID: id)
        let token = try #require(try fixture.repository.load(id)?.authToken)
        let handler = PhotosHandler(
            authenticator: TenantAuthenticator(repository: fixture.repository), repository: fixture.repository,
            cacheControl: "private, max-age=5")
        let request = Request(method: "GET", path: "/photos", headers: HTTPHeaders([("Authorization", "Bearer \(token)")]))
        let response = try handler.handle(request)
        let etag = try #require(response.headers["ETag"])
        #expect(response.headers["Cache-Control"] == "private, max-age=5")
        let stored = try #require(try fixture.repository.readFeed(id).photosJSON)
        #expect(response.body == Array("{\"success\":true,\"data\":{\"photos\":".utf8) + stored + Array("}}".utf8))

        var conditional = request
        conditional.headers.add("If-None-Match", "W/\"nope\", \(etag)")
        let notModified = try handler.handle(conditional)
        #expect(notModified.status == .notModified)
        #expect(notModified.body.isEmpty)
        #expect(notModified.headers["ETag"] == etag)

        var stale = request
        stale.headers.add("If-None-Match", "\"other\"")
        #expect(try handler.handle(stale).status == .ok)
    }

    @Test("an empty feed has no ETag, and a corrupt stored feed is never spliced")
    func emptyAndCorrupt() throws {
        let fixture = try SyncFixture(media: [])
        let id = try fixture.register()
        let token = try #require(try fixture.repository.load(id)?.authToken)
        let handler = PhotosHandler(authenticator: TenantAuthenticator(repository: fixture.repository), repository: fixture.repository)
        let request = Request(method: "GET", path: "/photos", headers: HTTPHeaders([("Authorization", "Bearer \(token)")]))
        let empty = try handler.handle(request)
        #expect(String(decoding: empty.body, as: UTF8.self) == #"{"success":true,"data":{"photos":[]}}"#)
        #expect(empty.headers["ETag"] == nil)
        _ = try fixture.store.run(RedisCommand("SET", RedisArgument(KeySpace(prefix: "t:").photos(id)), "{\"broken\":"))
        let corrupt = try handler.handle(request)
        #expect(String(decoding: corrupt.body, as: UTF8.self) == #"{"success":true,"data":{"photos":[]}}"#)
    }
}
