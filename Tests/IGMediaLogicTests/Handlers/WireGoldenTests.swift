import Foundation
import Logging
import Testing

@testable import IGMediaLogic

/// The exact bytes of `GET /photos` and of the webhook's answers for a feed with every kind of
/// media, recorded from the service before its sync domain got types (issue [1/6], part 3). Any
/// change to the wire JSON, by one byte, fails here. To record anew after an intended change:
/// `IGMEDIA_RECORD_GOLDEN=1 swift test --filter WireGolden`, and review the diff.
@Suite("Wire JSON golden files", .serialized)
struct WireGoldenTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    static let signingKey = "sig_golden_current_key"
    static let webhookBase = "https://media.example.com"

    static let media: [InstagramMedia] = [
        InstagramMedia(
            id: "17900000000000001", mediaType: .image, mediaURL: "https://scontent.cdninstagram.test/1.jpg",
            permalink: "https://www.instagram.com/p/A1/", caption: "café ☕ — \"quoted\" \\ back\nline \u{2028} 🚀",
            timestamp: "2026-11-01T10:00:00+0000"),
        InstagramMedia(
            id: "17900000000000002", mediaType: .image, mediaURL: "https://scontent.cdninstagram.test/2.jpg"),
        InstagramMedia(
            id: "17900000000000003", mediaType: .video, mediaURL: "https://scontent.cdninstagram.test/3.mp4",
            thumbnailURL: "https://scontent.cdninstagram.test/3.jpg", permalink: "https://www.instagram.com/reel/A3/",
            caption: "a reel", timestamp: "2026-11-02T10:00:00+0000"),
        InstagramMedia(id: "17900000000000004", mediaType: .video, mediaURL: "https://scontent.cdninstagram.test/4.mp4"),
        InstagramMedia(
            id: "17900000000000005", mediaType: .carouselAlbum, mediaURL: "https://scontent.cdninstagram.test/5.jpg",
            permalink: "https://www.instagram.com/p/A5/", caption: "album, image first",
            children: [
                InstagramMediaChild(id: "17900000000000051", mediaType: .image, mediaURL: "https://scontent.cdninstagram.test/51.jpg"),
                InstagramMediaChild(
                    id: "17900000000000052", mediaType: .video, mediaURL: "https://scontent.cdninstagram.test/52.mp4",
                    thumbnailURL: "https://scontent.cdninstagram.test/52.jpg"),
                InstagramMediaChild(id: "17900000000000053", mediaType: .image),
            ]),
        InstagramMedia(
            id: "17900000000000006", mediaType: .carouselAlbum, mediaURL: "https://scontent.cdninstagram.test/61.mp4",
            children: [
                InstagramMediaChild(
                    id: "17900000000000061", mediaType: .video, mediaURL: "https://scontent.cdninstagram.test/61.mp4",
                    thumbnailURL: "https://scontent.cdninstagram.test/61.jpg"),
                InstagramMediaChild(id: "17900000000000062", mediaType: .image, mediaURL: "https://scontent.cdninstagram.test/62.jpg"),
            ]),
        InstagramMedia(id: "17900000000000007", mediaType: .carouselAlbum, mediaURL: "https://scontent.cdninstagram.test/7.jpg"),
        // Copyright-withheld: no media_url at all, left out of the feed.
        InstagramMedia(id: "17900000000000008", mediaType: .image, permalink: "https://www.instagram.com/p/A8/"),
        // A type this service does not know yet keeps its name and is served as an image.
        InstagramMedia(id: "17900000000000009", mediaType: .other("STORY_FRAME"), mediaURL: "https://scontent.cdninstagram.test/9.jpg"),
    ]

    /// A fixture whose tenant has fixed ids, so CDN URLs in the feed are stable.
    static func fixture(tokenUpdate: String? = HandlerFixture.startISO) throws -> (HandlerFixture, Tenant) {
        let fixture = try HandlerFixture(media: media)
        let tenant = Tenant(
            id: "0c4a1f3e-golden-tenant", name: "golden", authToken: "golden-auth-token-0001", apiType: .instagramLogin,
            instagramAccountID: "1784", instagramAccountSecret: "app-secret", instagramAccessToken: "IGAA-token",
            instagramAppID: nil, tokenUpdate: tokenUpdate)
        try fixture.repository.create(tenant)
        return (fixture, tenant)
    }

    static func webhook(_ fixture: HandlerFixture) -> SyncProcessHandler {
        SyncProcessHandler(
            verifier: QStashSignatureVerifier(currentKey: signingKey, nextKey: "", clockToleranceSeconds: 30),
            webhookBaseURL: webhookBase, engine: fixture.engine, store: fixture.store, keys: fixture.keys,
            clock: fixture.clock, logger: HandlerFixture.quiet)
    }

    static func delivery(_ tenantID: String, jti: String) -> Request {
        let body = Array("{\"tenantId\":\"\(tenantID)\"}".utf8)
        let now = Int(HandlerFixture.start)
        let claims = TestJWT.object([
            ("iss", TestJWT.quoted("Upstash")), ("sub", TestJWT.quoted(webhookBase + "/sync/process/\(tenantID)")),
            ("exp", "\(now + 300)"), ("nbf", "\(now)"), ("iat", "\(now)"), ("jti", TestJWT.quoted(jti)),
            ("body", TestJWT.quoted(Base64.encodeURL(Digest.sha256(body)))),
        ])
        var request = Request(
            method: "POST", path: "/sync/process/\(tenantID)",
            headers: HTTPHeaders([
                ("Content-Type", "application/json"), ("Upstash-Signature", TestJWT.sign(payload: claims, key: signingKey)),
                ("Upstash-Message-Id", "msg_\(jti)"),
            ]), body: body)
        request.pathParameters = ["tenantId": tenantID]
        return request
    }

    static func answer(_ handler: SyncProcessHandler, _ request: Request) -> Response {
        do { return try handler.handle(request) } catch let error as HTTPError { return Envelope.failure(error) } catch {
            return Envelope.failure(.internalError())
        }
    }

    /// Compares with (or records) `name` in `Golden/` beside this file.
    static func check(_ bytes: [UInt8], _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let url = directory.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["IGMEDIA_RECORD_GOLDEN"] == "1" {
            try Data(bytes).write(to: url)
            return
        }
        let golden = try [UInt8](Data(contentsOf: url))
        #expect(bytes == golden, "\(name) differs from its golden file", sourceLocation: sourceLocation)
    }

    @Test("GET /photos after a sync with mirrored, failed and unmirrorable media")
    func photos() throws {
        let (fixture, tenant) = try Self.fixture()
        fixture.mirror.failingSources = ["https://scontent.cdninstagram.test/4.mp4", "https://scontent.cdninstagram.test/62.jpg"]
        let synced = Self.answer(Self.webhook(fixture), Self.delivery(tenant.id, jti: "jwt_photos"))
        #expect(synced.status == .ok)
        let application = fixture.application {
            $0.photos = PhotosHandler(authenticator: TenantAuthenticator(repository: fixture.repository), repository: fixture.repository)
        }
        var request = Request(method: "GET", path: "/photos", headers: HTTPHeaders([("Authorization", "Bearer \(tenant.authToken)")]))
        request.requestID = "golden"
        let response = application.respond(to: request)
        #expect(response.status == .ok)
        try Self.check(response.body, "photos.json")
    }

    @Test("the webhook's answers: synced (token not due, refreshed, refresh failed), a repeat, skipped while locked")
    func webhookAnswers() throws {
        var bodies: [UInt8] = []
        func add(_ response: Response) {
            bodies += Array("\(response.status.code) ".utf8) + response.body + [0x0A]
        }
        let (fixture, tenant) = try Self.fixture()
        let handler = Self.webhook(fixture)
        add(Self.answer(handler, Self.delivery(tenant.id, jti: "jwt_1")))
        add(Self.answer(handler, Self.delivery(tenant.id, jti: "jwt_1")))

        let (due, dueTenant) = try Self.fixture(tokenUpdate: "2026-01-01T00:00:00.000Z")
        add(Self.answer(Self.webhook(due), Self.delivery(dueTenant.id, jti: "jwt_2")))

        let (failing, failingTenant) = try Self.fixture(tokenUpdate: nil)
        failing.instagram.refreshFailure = UpstreamError(
            service: "instagram", kind: .auth, status: 400, message: "Error validating access token", code: 190)
        add(Self.answer(Self.webhook(failing), Self.delivery(failingTenant.id, jti: "jwt_3")))

        let (locked, lockedTenant) = try Self.fixture()
        _ = try SyncLock(store: locked.store, keys: locked.keys, ttlSeconds: 30).acquire(lockedTenant.id)
        add(Self.answer(Self.webhook(locked), Self.delivery(lockedTenant.id, jti: "jwt_4")))
        try Self.check(bodies, "webhook-answers.txt")
    }
}
