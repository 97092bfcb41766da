import Testing

@testable import IGMediaLogic

@Suite("CloudinaryClient destroy and delete by tag")
struct CloudinaryClientDeletionTests {
    typealias Fixture = CloudinaryFixture

    static func result(_ text: String) -> Result<HTTPClientResponse, TransportError> {
        .success(RecordingTransport.response(200, #"{"result":"\#(text)"}"#))
    }

    @Test("destroy signs public_id, invalidate and timestamp")
    func destroySigned() throws {
        let transport = RecordingTransport { _ in Self.result("ok") }
        let results = Fixture.client(transport).destroy([(publicID: "instagram-media/t1/9", resourceType: "video")])
        try results[0].get()
        let call = try #require(transport.recorded.first)
        #expect(call.request.method == "POST")
        #expect(call.request.url == "https://api.example.test/v1_1/demo-cloud/video/destroy")
        #expect(call.fields.map(\.0).sorted() == ["api_key", "invalidate", "public_id", "signature", "timestamp"])
        let stringToSign = "invalidate=true&public_id=instagram-media/t1/9&timestamp=1700000000"
        #expect(call.field("signature") == CloudinarySigner.sign(stringToSign: stringToSign, secret: Fixture.apiSecret))
    }

    @Test("destroy counts ok and not found as success", arguments: ["ok", "not found"])
    func destroySuccess(result: String) throws {
        let transport = RecordingTransport { _ in Self.result(result) }
        try Fixture.client(transport).destroy([(publicID: "x", resourceType: "image")])[0].get()
        #expect(transport.recorded.count == 1)
    }

    @Test("destroy reports an unexpected result as malformed and HTTP errors by status")
    func destroyFailures() {
        let transport = RecordingTransport { call in
            call.field("public_id") == "odd" ? Self.result("error") : Fixture.error(401, "Invalid api_key 1")
        }
        let results = Fixture.client(transport).destroy([
            (publicID: "odd", resourceType: "image"), (publicID: "denied", resourceType: "image"),
        ])
        #expect(Fixture.failure(results[0])?.kind == .malformed)
        #expect(Fixture.failure(results[1])?.kind == .auth)
    }

    @Test("destroys in parallel through one sendAll and retries transient failures once")
    func destroyParallel() {
        let transport = RecordingTransport(holdMilliseconds: 20) { call in
            call.field("public_id") == "p3" && call.attempt == 1 ? Fixture.error(503, "General Error") : Self.result("ok")
        }
        let assets = (0..<12).map { (publicID: "p\($0)", resourceType: "image") }
        let results = Fixture.client(transport, concurrency: 6).destroy(assets)
        #expect(results.allSatisfy { (try? $0.get()) != nil })
        #expect(transport.sendAllCalls.map(\.count) == [12, 1])
        #expect(transport.sendAllCalls.allSatisfy { $0.concurrency == 6 })
        #expect(transport.maxConcurrentRequests <= 6)
    }

    // MARK: delete by tag

    static func page(partial: Bool, cursor: String? = nil) -> Result<HTTPClientResponse, TransportError> {
        let next = cursor.map { #","next_cursor":"\#($0)""# } ?? ""
        return .success(RecordingTransport.response(
            200, #"{"deleted":{"a":"deleted"},"deleted_counts":{"a":{"original":1,"derived":0}},"#
                + #""partial":\#(partial)\#(next)}"#))
    }

    @Test("deletes images then videos with Basic auth and the tag percent-encoded in the path")
    func deleteByTagRequests() throws {
        let transport = RecordingTransport { _ in Self.page(partial: false) }
        try Fixture.client(transport).deleteByTag("tenant 7/ig&x")
        let calls = transport.recorded
        #expect(calls.map(\.request.method) == ["DELETE", "DELETE"])
        #expect(calls.map(\.request.url) == [
            "https://api.example.test/v1_1/demo-cloud/resources/image/tags/tenant%207%2Fig%26x",
            "https://api.example.test/v1_1/demo-cloud/resources/video/tags/tenant%207%2Fig%26x",
        ])
        let credentials = Base64.encode(Array("\(Fixture.apiKey):\(Fixture.apiSecret)".utf8))
        for call in calls {
            #expect(call.request.headers.contains { $0.0 == "Authorization" && $0.1 == "Basic \(credentials)" })
        }
    }

    @Test("follows next_cursor as a query parameter until Cloudinary stops reporting partial")
    func deleteByTagPaging() throws {
        let transport = RecordingTransport { call in
            guard call.request.url.contains("/image/") else { return Self.page(partial: false) }
            if call.request.url.hasSuffix("next_cursor=c2") { return Self.page(partial: false) }
            if call.request.url.hasSuffix("next_cursor=c1") { return Self.page(partial: true, cursor: "c2") }
            return Self.page(partial: true, cursor: "c1")
        }
        try Fixture.client(transport).deleteByTag("tenant_t1")
        #expect(transport.recorded.map(\.request.url) == [
            "https://api.example.test/v1_1/demo-cloud/resources/image/tags/tenant_t1",
            "https://api.example.test/v1_1/demo-cloud/resources/image/tags/tenant_t1?next_cursor=c1",
            "https://api.example.test/v1_1/demo-cloud/resources/image/tags/tenant_t1?next_cursor=c2",
            "https://api.example.test/v1_1/demo-cloud/resources/video/tags/tenant_t1",
        ])
    }

    @Test("a partial answer without a cursor is asked again, a bounded number of times")
    func deleteByTagBounded() throws {
        let transport = RecordingTransport { _ in Self.page(partial: true) }
        #expect {
            try Fixture.client(transport).deleteByTag("tenant_t1")
        } throws: { error in
            (error as? UpstreamError)?.kind == .server
        }
        #expect(transport.recorded.count == CloudinaryClient.maxDeleteRounds)
        #expect(transport.recorded.allSatisfy { !$0.request.url.contains("next_cursor") })
    }

    @Test("the Admin rate limit is reported at once, not retried", arguments: [420, 429])
    func deleteByTagRateLimited(status: Int) {
        let transport = RecordingTransport { _ in Fixture.error(status, "Rate Limit Exceeded") }
        let limited = UpstreamError(service: "cloudinary", kind: .rateLimited, status: status, message: "Rate Limit Exceeded")
        #expect(throws: limited) {
            try Fixture.client(transport).deleteByTag("tenant_t1")
        }
        #expect(transport.recorded.count == 1)
    }

    @Test("a server error is retried once; a wrong secret is not")
    func deleteByTagRetry() throws {
        let flaky = RecordingTransport { call in
            call.attempt == 1 ? Fixture.error(500, "General Error") : Self.page(partial: false)
        }
        try Fixture.client(flaky).deleteByTag("tenant_t1")
        #expect(flaky.recorded.count == 4)

        let denied = RecordingTransport { _ in
            .success(RecordingTransport.response(401, "<html>Unauthorized</html>", contentType: "text/html"))
        }
        #expect {
            try Fixture.client(denied).deleteByTag("tenant_t1")
        } throws: { error in
            (error as? UpstreamError)?.kind == .auth
        }
        #expect(denied.recorded.count == 1)
    }

    @Test("an empty tag is refused without a request")
    func emptyTag() {
        let transport = RecordingTransport { _ in Self.page(partial: false) }
        #expect(throws: UpstreamError.self) { try Fixture.client(transport).deleteByTag("") }
        #expect(transport.recorded.isEmpty)
    }
}
