import Testing

@testable import IGMediaLogic

@Suite("CloudinaryClient uploads")
struct CloudinaryClientTests {
    typealias Fixture = CloudinaryFixture

    @Test("signs public_id, tags, overwrite, invalidate and timestamp, and nothing else")
    func signedUpload() throws {
        let transport = RecordingTransport(respond: Fixture.uploaded)
        let upload = Fixture.upload("17895695668004550")
        let results = Fixture.client(transport).upload([upload])

        _ = try results[0].get()
        let call = try #require(transport.recorded.first)
        #expect(call.request.method == "POST")
        #expect(call.request.url == "https://api.example.test/v1_1/demo-cloud/image/upload")
        #expect(call.request.headers.contains { $0.0 == "Content-Type" && $0.1.hasPrefix("multipart/form-data; boundary=") })
        #expect(call.fields.map(\.0).sorted() == [
            "api_key", "file", "invalidate", "overwrite", "public_id", "signature", "tags", "timestamp",
        ])
        #expect(call.field("file") == upload.sourceURL)
        #expect(call.field("public_id") == "instagram-media/t1/17895695668004550")
        #expect(call.field("tags") == "tenant_t1,ig")
        #expect(call.field("overwrite") == "true")
        #expect(call.field("invalidate") == "true")
        #expect(call.field("timestamp") == Fixture.timestamp)
        #expect(call.field("api_key") == Fixture.apiKey)
        let stringToSign = "invalidate=true&overwrite=true&public_id=instagram-media/t1/17895695668004550"
            + "&tags=tenant_t1,ig&timestamp=1700000000"
        #expect(call.field("signature") == CloudinarySigner.sign(stringToSign: stringToSign, secret: Fixture.apiSecret))
        #expect(call.field("signature")?.count == 40)
    }

    @Test("the signature is what CloudinarySigner computes over the fields actually sent")
    func signatureMatchesFields() throws {
        let transport = RecordingTransport(respond: Fixture.uploaded)
        _ = Fixture.client(transport).upload([Fixture.upload("1", tags: ["a&b", "tenant_x"])])
        let call = try #require(transport.recorded.first)
        let signed = call.fields.filter { $0.0 != "signature" }
        #expect(call.field("signature") == CloudinarySigner.sign(signed, secret: Fixture.apiSecret))
        #expect(call.field("tags") == "a&b,tenant_x")
    }

    @Test("puts the resource type in the upload URL", arguments: ["image", "video"])
    func resourceTypeInURL(type: String) throws {
        let transport = RecordingTransport(respond: Fixture.uploaded)
        let asset = try Fixture.client(transport).upload([Fixture.upload("42", type)])[0].get()
        #expect(transport.recorded.first?.request.url == "https://api.example.test/v1_1/demo-cloud/\(type)/upload")
        #expect(asset.resourceType == type)
    }

    @Test("returns one MirroredAsset per upload, in order, from secure_url and public_id")
    func assetsInOrder() throws {
        let transport = RecordingTransport(holdMilliseconds: 5, respond: Fixture.uploaded)
        let uploads = (0..<10).map { Fixture.upload("\($0)", $0 % 3 == 0 ? "video" : "image") }
        let assets = try Fixture.client(transport).upload(uploads).map { try $0.get() }
        #expect(assets.map(\.publicID) == uploads.map(\.publicID))
        #expect(assets.map(\.resourceType) == uploads.map(\.resourceType))
        #expect(assets[1] == MirroredAsset(
            publicID: "instagram-media/t1/1", resourceType: "image",
            secureURL: "https://res.example.test/demo-cloud/image/upload/v1700000123/instagram-media/t1/1.jpg"))
    }

    @Test("sends the whole batch through one sendAll bounded by the configured concurrency")
    func parallelWithBound() {
        let transport = RecordingTransport(holdMilliseconds: 30, respond: Fixture.uploaded)
        let results = Fixture.client(transport, concurrency: 3).upload((0..<20).map { Fixture.upload("\($0)") })
        #expect(results.allSatisfy { (try? $0.get()) != nil })
        #expect(transport.sendAllCalls.map(\.count) == [20])
        #expect(transport.sendAllCalls.map(\.concurrency) == [3])
        #expect(transport.maxConcurrentRequests <= 3)
        #expect(transport.maxConcurrentRequests >= 2)
    }

    @Test("an empty batch sends nothing")
    func emptyBatch() {
        let transport = RecordingTransport(respond: Fixture.uploaded)
        #expect(Fixture.client(transport).upload([]).isEmpty)
        #expect(transport.sendAllCalls.isEmpty)
    }

    @Test("refuses what it cannot send correctly, without sending it", arguments: [
        MirrorUpload(publicID: "p", resourceType: "document", sourceURL: "https://cdn/x.jpg", tags: []),
        MirrorUpload(publicID: "p", resourceType: "image", sourceURL: "https://cdn/x.jpg", tags: ["a,b"]),
        MirrorUpload(publicID: "", resourceType: "image", sourceURL: "https://cdn/x.jpg", tags: []),
        MirrorUpload(publicID: "p", resourceType: "image", sourceURL: "file:///etc/passwd", tags: []),
    ])
    func refusesInvalid(upload: MirrorUpload) {
        let transport = RecordingTransport(respond: Fixture.uploaded)
        let results = Fixture.client(transport).upload([upload, Fixture.upload("ok")])
        #expect(Fixture.failure(results[0])?.kind == .rejected)
        #expect((try? results[1].get()) != nil)
        #expect(transport.recorded.count == 1)
    }

    @Test("retries transient failures once, in a second sendAll holding only those")
    func retriesTransientOnly() throws {
        let transport = RecordingTransport { call in
            switch call.field("public_id") {
            case "instagram-media/t1/flaky":
                return call.attempt == 1 ? Fixture.error(500, "General Error") : Fixture.uploaded(call)
            case "instagram-media/t1/timeout": return call.attempt == 1 ? .failure(.timeout) : Fixture.uploaded(call)
            case "instagram-media/t1/gone": return Fixture.error(404, "Resource not found")
            default: return Fixture.uploaded(call)
            }
        }
        let uploads = ["flaky", "gone", "fine", "timeout"].map { Fixture.upload($0) }
        let results = Fixture.client(transport).upload(uploads)

        #expect(try results[0].get().publicID == "instagram-media/t1/flaky")
        #expect(Fixture.failure(results[1])?.kind == .rejected)
        #expect(try results[2].get().publicID == "instagram-media/t1/fine")
        #expect(try results[3].get().publicID == "instagram-media/t1/timeout")
        #expect(transport.sendAllCalls.map(\.count) == [4, 2])
        #expect(transport.recorded.filter { $0.field("public_id") == "instagram-media/t1/gone" }.count == 1)
    }

    @Test("gives up after the one retry", arguments: [423, 429, 503])
    func retriesOnlyOnce(status: Int) {
        let transport = RecordingTransport { _ in Fixture.error(status, "busy") }
        let results = Fixture.client(transport).upload([Fixture.upload("x")])
        #expect(Fixture.failure(results[0])?.status == status)
        #expect(transport.recorded.count == 2)
        #expect(transport.sendAllCalls.count == 2)
    }
}
