import Foundation
import Testing

@testable import IGMediaLogic

/// The client on the real curl transport against the Cloudinary fake, which fetches the media from
/// the Instagram fake's CDN. Serialized: the timing test needs the machine to itself.
@Suite("CloudinaryClient against the loopback fakes", .serialized)
struct CloudinaryClientIntegrationTests {
    let cdn: CDNFakeProcess
    let cloudinary: CloudinaryFakeProcess

    init() throws {
        cdn = try CDNFakeProcess()
        cloudinary = try CloudinaryFakeProcess(deletePageSize: 2)
    }

    func uploads(images: Int, videos: Int, tag: String = "tenant_t1") throws -> [MirrorUpload] {
        try cdn.media(images: images, videos: videos).map {
            MirrorUpload(
                publicID: "instagram-media/\(tag)/\($0.id)", resourceType: $0.resourceType, sourceURL: $0.url,
                tags: [tag, "ig"])
        }
    }

    func milliseconds(_ body: () -> Void) -> Int {
        let clock = SystemClock()
        let start = clock.monotonicNanoseconds()
        body()
        return Int((clock.monotonicNanoseconds() - start) / 1_000_000)
    }

    @Test("uploads 20 images and 2 videos in parallel, 8 at a time")
    func parallelUpload() throws {
        let uploads = try uploads(images: 20, videos: 2)
        try #require(uploads.count == 22)
        try cloudinary.setLatency(milliseconds: 100)

        var results: [Result<MirroredAsset, UpstreamError>] = []
        let parallel = milliseconds { results = cloudinary.client(concurrency: 8).upload(uploads) }
        let assets = try results.map { try $0.get() }
        #expect(assets.map(\.publicID) == uploads.map(\.publicID))
        #expect(assets.map(\.resourceType) == uploads.map(\.resourceType))
        #expect(assets.allSatisfy { $0.secureURL.hasPrefix(cloudinary.fake.baseURL + "/res/igmedia-test/") })
        #expect(try cloudinary.fake.counters()["uploads"] == 22)
        #expect(try cloudinary.assets(tag: "tenant_t1").count == 22)
        #expect(try cloudinary.assets(resourceType: "video").count == 2)
        let delivery = HTTPClientRequest(method: "GET", url: assets[0].secureURL, timeoutMilliseconds: 5000)
        let delivered = try CurlTransport().send(delivery)
        #expect(delivered.status == 200 && !delivered.body.isEmpty)

        let serial = milliseconds { _ = cloudinary.client(concurrency: 1).upload(uploads) }
        print("Cloudinary fake at 100 ms latency: 22 uploads took \(parallel) ms at concurrency 8 "
            + "(ideal ceil(22/8) × 100 = 300 ms) and \(serial) ms one at a time")
        #expect(parallel < serial / 2)
        #expect(parallel < 1500)
    }

    @Test("uploading again overwrites the same public ids")
    func idempotentReupload() throws {
        let uploads = try uploads(images: 2, videos: 1)
        let first = try cloudinary.client().upload(uploads).map { try $0.get() }
        let second = try cloudinary.client().upload(uploads).map { try $0.get() }
        #expect(first.map(\.publicID) == second.map(\.publicID))
        #expect(first.map(\.secureURL) != second.map(\.secureURL))  // the version in the URL moves on
        let counters = try cloudinary.fake.counters()
        #expect(counters["uploads"] == 6)
        #expect(counters["overwrites"] == 3)
        #expect(counters["assets"] == 3)
    }

    @Test("an expired Instagram CDN link is rejected, once, without its signed query in the message")
    func expiredSource() throws {
        let uploads = try uploads(images: 1, videos: 0)
        try cdn.expireLinks()
        let error = try #require(CloudinaryFixture.failure(cloudinary.client().upload(uploads)[0]))
        #expect(error.kind == .rejected)
        #expect(error.status == 400)
        #expect(error.message.hasPrefix("Resource not found - "))
        #expect(!error.description.contains("oh=") && !error.description.contains("oe="))
        #expect(try cloudinary.requests(pathPrefix: "/v1_1/").count == 1)
    }

    @Test("a 500 is retried and the upload then succeeds")
    func retriedServerError() throws {
        let uploads = try uploads(images: 1, videos: 0)
        try cloudinary.fault(pathPrefix: "/v1_1/igmedia-test/image/upload", [("preset", .string("general_error"))])
        let asset = try cloudinary.client().upload(uploads)[0].get()
        #expect(asset.publicID == uploads[0].publicID)
        let statuses = try cloudinary.requests(pathPrefix: "/v1_1/").compactMap { $0["status"]?.intValue }
        #expect(statuses == [500, 200])
    }

    @Test("a timeout after Cloudinary stored the asset is retried into an overwrite")
    func retriedTimeout() throws {
        let uploads = try uploads(images: 1, videos: 0)
        try cloudinary.fault(pathPrefix: "/v1_1/", [("action", .string("delay_after")), ("delay_after_ms", .int(1500))])
        let asset = try cloudinary.client(timeoutMilliseconds: 700).upload(uploads)[0].get()
        #expect(asset.publicID == uploads[0].publicID)
        let counters = try cloudinary.fake.counters()
        #expect(counters["uploads"] == 2)
        #expect(counters["overwrites"] == 1)
        #expect(counters["assets"] == 1)
    }

    @Test("a wrong API secret is an auth error that never shows the secret or a signature")
    func wrongSecret() throws {
        let uploads = try uploads(images: 1, videos: 0)
        let wrong = "not-the-secret-0xDEAD"
        let client = cloudinary.client(apiSecret: wrong)
        let error = try #require(CloudinaryFixture.failure(client.upload(uploads)[0]))
        #expect(error.kind == .auth)
        #expect(error.status == 401)
        #expect(error.message.hasPrefix("Invalid Signature [redacted]"))
        let destroyError = try #require(CloudinaryFixture.failure(client.destroy([(uploads[0].publicID, "image")])[0]))
        #expect(destroyError.kind == .auth)
        #expect {
            try client.deleteByTag("tenant_t1")
        } throws: { error in
            (error as? UpstreamError)?.kind == .auth && !String(describing: error).contains(wrong)
        }
        for text in [error.description, destroyError.description] {
            #expect(!text.contains(wrong))
            #expect(!text.contains(cloudinary.apiSecret))
            #expect(text.firstRange(of: /[0-9a-f]{32}/) == nil)
        }
        #expect(try cloudinary.fake.counters()["uploads"] == 0)
    }

    @Test("destroys assets, counting an unknown public id as success")
    func destroy() throws {
        let uploads = try uploads(images: 1, videos: 1)
        _ = try cloudinary.client().upload(uploads).map { try $0.get() }
        let targets = uploads.map { (publicID: $0.publicID, resourceType: $0.resourceType) }
            + [(publicID: "instagram-media/tenant_t1/never-uploaded", resourceType: "image")]
        let results = cloudinary.client().destroy(targets)
        #expect(results.allSatisfy { (try? $0.get()) != nil })
        let counters = try cloudinary.fake.counters()
        #expect(counters["destroys"] == 3)
        #expect(counters["destroy_not_found"] == 1)
        #expect(counters["assets"] == 0)
    }

    @Test("deletes by tag across images and videos, following the cursor through small pages")
    func deleteByTag() throws {
        let doomed = try uploads(images: 5, videos: 2, tag: "tenant_t9")
        let kept = try uploads(images: 1, videos: 0, tag: "tenant_t8")
        _ = try cloudinary.client().upload(doomed + kept).map { try $0.get() }

        try cloudinary.client().deleteByTag("tenant_t9")
        #expect(try cloudinary.assets(tag: "tenant_t9").isEmpty)
        #expect(try cloudinary.assets().compactMap { $0["public_id"]?.stringValue } == kept.map(\.publicID))
        let calls = try cloudinary.requests(pathPrefix: "/v1_1/igmedia-test/resources/")
        // Page size 2: images 2 + 2 + 1 (three calls), videos 2 (one call).
        #expect(calls.compactMap { $0["path"]?.stringValue } == [
            "/v1_1/igmedia-test/resources/image/tags/tenant_t9", "/v1_1/igmedia-test/resources/image/tags/tenant_t9",
            "/v1_1/igmedia-test/resources/image/tags/tenant_t9", "/v1_1/igmedia-test/resources/video/tags/tenant_t9",
        ])
        #expect(calls.map { $0["query"]?["next_cursor"] != nil } == [false, true, true, false])
        #expect(try cloudinary.fake.counters()["deleted_by_tag"] == 7)
    }
}
