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

    /// A synced tenant, a handler with the feed cache on, and a request builder.
    private struct GzipFixture {
        let fixture: SyncFixture
        let handler: PhotosHandler
        let token: String
        let identityBody: [UInt8]

        init(feedCacheMilliseconds: Int = 60_000, media: Int = 50) throws {
            fixture = try SyncFixture(media: InMemoryInstagram.sampleMedia(count: media))
            let id = try fixture.register()
            _ = try fixture.engine.sync(tenantID: id)
            token = try #require(try fixture.repository.load(id)?.authToken)
            handler = PhotosHandler(
                authenticator: TenantAuthenticator(repository: fixture.repository), repository: fixture.repository,
                feedCache: FeedCache(ttlMilliseconds: feedCacheMilliseconds))
            let stored = try #require(try fixture.repository.readFeed(id).photosJSON)
            identityBody = Array("{\"success\":true,\"data\":{\"photos\":".utf8) + stored + Array("}}".utf8)
        }

        func get(_ headers: [(String, String)] = []) throws -> Response {
            try handler.handle(Request(
                method: "GET", path: "/photos", headers: HTTPHeaders([("Authorization", "Bearer \(token)")] + headers)))
        }
    }

    @Test("sends the pre-compressed gzip body to a client that accepts it, identity otherwise")
    func gzipNegotiation() throws {
        let f = try GzipFixture()
        let identity = try f.get()
        #expect(identity.body == f.identityBody)
        #expect(identity.headers["Content-Encoding"] == nil)
        #expect(identity.headers["Vary"] == "Accept-Encoding")
        let etag = try #require(identity.headers["ETag"])

        let gzip = try f.get([("Accept-Encoding", "gzip, deflate, br")])
        #expect(gzip.status == .ok)
        #expect(gzip.headers["Content-Encoding"] == "gzip")
        #expect(gzip.headers["Content-Type"] == Response.jsonContentType)
        #expect(gzip.headers["Vary"] == "Accept-Encoding")
        #expect(gzip.headers["ETag"] == String(etag.dropLast()) + "-gz\"")
        #expect(Gunzip.decompress(gzip.body) == f.identityBody)
        #expect(gzip.body.count < f.identityBody.count / 2)

        for refused in ["gzip;q=0", "identity", "br", "*;q=0", "gzip;q=zero", "gzip;q=0.5, identity"] {
            let response = try f.get([("Accept-Encoding", refused)])
            #expect(response.status == .ok, "\(refused)")
            #expect(response.headers["Content-Encoding"] == nil, "\(refused)")
            #expect(response.body == f.identityBody, "\(refused)")
            #expect(response.headers["ETag"] == etag, "\(refused)")
        }
        #expect(try f.get([("Accept-Encoding", "*")]).headers["Content-Encoding"] == "gzip")
        #expect(try f.get([("Accept-Encoding", "X-GZIP;q=0.3")]).headers["Content-Encoding"] == "gzip")
    }

    @Test("If-None-Match is checked against the ETag of the representation that would be sent")
    func conditionalPerRepresentation() throws {
        let f = try GzipFixture()
        let etag = try #require(try f.get().headers["ETag"])
        let gzipETag = String(etag.dropLast()) + "-gz\""
        let acceptGzip = ("Accept-Encoding", "gzip")

        let notModified = try f.get([acceptGzip, ("If-None-Match", gzipETag)])
        #expect(notModified.status == .notModified)
        #expect(notModified.body.isEmpty)
        #expect(notModified.headers["ETag"] == gzipETag)
        #expect(notModified.headers["Vary"] == "Accept-Encoding")
        #expect(notModified.headers["Content-Encoding"] == nil)
        #expect(try f.get([acceptGzip, ("If-None-Match", "W/\(gzipETag)")]).status == .notModified)
        #expect(try f.get([acceptGzip, ("If-None-Match", "\"x\", \(gzipETag)")]).status == .notModified)

        // The identity tag does not validate the gzip representation, nor the other way round.
        let gzipAgain = try f.get([acceptGzip, ("If-None-Match", etag)])
        #expect(gzipAgain.status == .ok)
        #expect(gzipAgain.headers["Content-Encoding"] == "gzip")
        let identityAgain = try f.get([("If-None-Match", gzipETag)])
        #expect(identityAgain.status == .ok)
        #expect(identityAgain.headers["Content-Encoding"] == nil)

        let identity304 = try f.get([("If-None-Match", etag)])
        #expect(identity304.status == .notModified)
        #expect(identity304.headers["ETag"] == etag)
        #expect(identity304.headers["Vary"] == "Accept-Encoding")
        for accept in ["gzip", "identity"] {
            let any = try f.get([("Accept-Encoding", accept), ("If-None-Match", "*")])
            #expect(any.status == .notModified)
            #expect(any.headers["ETag"] == (accept == "gzip" ? gzipETag : etag))
        }
    }

    @Test("with the feed cache off, and for a feed gzip cannot shrink, every answer is identity")
    func identityOnly() throws {
        let off = try GzipFixture(feedCacheMilliseconds: 0)
        let uncached = try off.get([("Accept-Encoding", "gzip")])
        #expect(uncached.headers["Content-Encoding"] == nil)
        #expect(uncached.body == off.identityBody)
        #expect(uncached.headers["Vary"] == "Accept-Encoding")

        let empty = try GzipFixture(media: 0)
        let response = try empty.get([("Accept-Encoding", "gzip")])
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"success":true,"data":{"photos":[]}}"#)
        #expect(response.headers["Content-Encoding"] == nil)
        #expect(response.headers["Vary"] == "Accept-Encoding")
    }
}
