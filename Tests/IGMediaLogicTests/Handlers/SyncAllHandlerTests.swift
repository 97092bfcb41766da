import Testing

@testable import IGMediaLogic

@Suite("POST /sync")
struct SyncAllHandlerTests {
    static let secret = "sync-internal-secret-0123456789"
    static let validBody = #"{"secret":"sync-internal-secret-0123456789"}"#
    static let webhookBase = "https://media.example.com"

    func handler(_ fixture: HandlerFixture, qstash: ScriptedTransport? = nil) -> SyncAllHandler {
        let publisher = qstash.map {
            SyncAllHandler.Publisher(
                client: QStashClient(baseURL: "https://qstash.test", token: "qstash-token", transport: $0), webhookBaseURL: Self.webhookBase,
                flowControl: .init(key: "igmedia-sync", parallelism: 16))
        }
        let background = BackgroundSync(
            runs: SyncRuns(store: fixture.store, keys: fixture.keys, clock: fixture.clock), repository: fixture.repository,
            engine: fixture.engine, parallelism: 2, consumer: "test", logger: HandlerFixture.quiet)
        return SyncAllHandler(
            repository: fixture.repository, background: background, publisher: publisher, secret: Self.secret, clock: fixture.clock)
    }

    func sync(
        _ fixture: HandlerFixture, _ body: String = SyncAllHandlerTests.validBody, qstash: ScriptedTransport? = nil,
        contentType: String? = "application/json"
    ) -> Response {
        let handler = handler(fixture, qstash: qstash)
        return fixture.application { $0.syncAll = handler }.respond(to: HandlerFixture.post("/sync", body, contentType: contentType))
    }

    static func error(_ tenantID: String, _ reason: String) -> JSONValue {
        .object([("tenantId", .string(tenantID)), ("error", .string(reason))])
    }

    static func synced(_ tenantID: String, photos: Int, uploaded: Int = 0, kept: Int = 0, failed: Int = 0) -> JSONValue {
        .object([
            ("tenantId", .string(tenantID)), ("photosCount", .int(photos)), ("uploaded", .int(uploaded)), ("deleted", .int(0)),
            ("kept", .int(kept)), ("failed", .int(failed)),
        ])
    }

    /// The `mediaUrl` of every item of a tenant's stored feed.
    static func feedURLs(_ fixture: HandlerFixture, _ tenantID: String) throws -> [String] {
        let feed = try JSONParser.parse(try #require(try fixture.repository.readFeed(tenantID).photosJSON))
        return try #require(feed.arrayValue).compactMap { $0["mediaUrl"]?.stringValue }
    }

    static let wrongSecrets = [
        "{}", #"{"secret":""}"#, #"{"secret":null}"#, #"{"secret":12345}"#, #"{"secret":["sync-internal-secret-0123456789"]}"#,
        #"{"secret":"SYNC-INTERNAL-SECRET-0123456789"}"#, #"{"secret":"sync-internal-secret-012345678"}"#,
        #"{"secret":"sync-internal-secret-0123456789 "}"#, #"{"Secret":"sync-internal-secret-0123456789"}"#,
    ]

    @Test("a missing or wrong secret is a 401 with the exact envelope, and nothing is synced or stored", arguments: wrongSecrets)
    func wrongSecret(body: String) throws {
        let fixture = try HandlerFixture()
        let tenant = try fixture.tenant()
        let before = try fixture.storedKeys()
        let response = sync(fixture, body)
        #expect(String(decoding: response.body, as: UTF8.self)
            == #"{"success":false,"code":"UNAUTHORIZED","errorMessage":"Invalid sync secret"}"#)
        response.expectFailure(.unauthorized, "Invalid sync secret")
        #expect(response.headers["WWW-Authenticate"] == "Bearer")
        #expect(fixture.instagram.fetchCalls == 0)
        #expect(try fixture.storedKeys() == before)
        #expect(try fixture.repository.load(tenant.id)?.lastSync == nil)
    }

    @Test("admit, on the accepting thread, checks the secret and the body without touching the store")
    func admit() throws {
        let fixture = try HandlerFixture()
        try fixture.tenant()
        fixture.store.isDown = true
        let handler = handler(fixture)
        for body in Self.wrongSecrets {
            #expect(throws: HTTPError.unauthorized("Invalid sync secret"), "\(body)") {
                try handler.admit(HandlerFixture.post("/sync", body))
            }
        }
        #expect(throws: HTTPError.validation("Request body is required")) { try handler.admit(HandlerFixture.post("/sync", "")) }
        #expect(throws: HTTPError.validation("Content-Type must be application/json")) {
            try handler.admit(HandlerFixture.post("/sync", Self.validBody, contentType: "text/plain"))
        }
        // The store is down: had admit read it, the right secret would fail here too.
        try handler.admit(HandlerFixture.post("/sync", Self.validBody))
        #expect(fixture.instagram.fetchCalls == 0)
    }

    @Test(
        "a body that is not a JSON object is a 400, before the secret is looked at",
        arguments: [
            ("", "Request body is required"), (#"["secret"]"#, "Request body must be a JSON object"),
            (#""sync-internal-secret-0123456789""#, "Request body must be a JSON object"),
            ("secret=x", "Request body is not valid JSON: unexpected character"),
            (#"{"secret":"sync-internal-secret-0123456789""#, "Request body is not valid JSON: unexpected end of input"),
        ])
    func badBody(body: String, message: String) throws {
        let fixture = try HandlerFixture()
        try fixture.tenant()
        sync(fixture, body).expectFailure(.validationFailed, message)
        #expect(fixture.instagram.fetchCalls == 0)
    }

    @Test("a body not sent as JSON is a 400, even with the right secret", arguments: [nil, "text/plain", "application/x-www-form-urlencoded"])
    func contentType(contentType: String?) throws {
        let fixture = try HandlerFixture()
        try fixture.tenant()
        sync(fixture, contentType: contentType).expectFailure(.validationFailed, "Content-Type must be application/json")
        #expect(fixture.instagram.fetchCalls == 0)
    }

    @Test("storage down: 503 before any tenant is touched or published, with or without QStash")
    func storeOutage() throws {
        let fixture = try HandlerFixture()
        let tenant = try fixture.tenant()
        fixture.store.isDown = true
        sync(fixture).expectFailure(.serviceUnavailable, "Storage is unavailable, try again shortly")
        let qstash = ScriptedTransport()
        qstash.on("POST", "qstash.test/v2/publish/", .json(#"{"messageId":"msg_1"}"#))
        sync(fixture, qstash: qstash).expectFailure(.serviceUnavailable, "Storage is unavailable, try again shortly")
        #expect(fixture.instagram.fetchCalls == 0 && qstash.requests.isEmpty)
        fixture.store.isDown = false
        #expect(try fixture.repository.load(tenant.id)?.lastSync == nil)
    }

    static func batchReply(_ ids: [String]) -> String {
        "[" + ids.map { #"{"messageId":"\#($0)"}"# }.joined(separator: ",") + "]"
    }

    @Test("with QStash, publishes one batch call per 100 tenants, with flow control and one dedup id per tenant and hour")
    func publishes() throws {
        let fixture = try HandlerFixture()
        let ids = try (0..<150).map { _ in try fixture.tenant().id }
        let invalid = try fixture.tenant()
        try fixture.repository.markTokenInvalid(tenantID: invalid.id, code: .tokenRevoked, at: HandlerFixture.startISO)
        let qstash = ScriptedTransport()
        qstash.on("POST", "qstash.test/v2/batch", .json(Self.batchReply((0..<100).map { "msg_\($0)" })),
                  .json(Self.batchReply((100..<150).map { "msg_\($0)" })))
        let data = try sync(fixture, qstash: qstash).successData()
        let summary = try #require(data["summary"])
        #expect(summary["totalTenants"] == .int(150) && summary["queuedCount"] == .int(150) && summary["errorCount"] == .int(0))
        #expect(summary["queuedTasks"]?.arrayValue?.count == 150 && summary["errors"] == .array([]))
        #expect(fixture.instagram.fetchCalls == 0)
        let requests = qstash.requests
        #expect(requests.count == 2 && requests.allSatisfy { $0.url == "https://qstash.test/v2/batch" })
        var destinations: [String] = []
        for request in requests {
            #expect(HTTPHeaders(request.headers)["Authorization"] == "Bearer qstash-token")
            let items = try #require(try JSONParser.parse(Array(request.body.utf8)).arrayValue)
            for item in items {
                let destination = try #require(item["destination"]?.stringValue)
                let id = String(destination.split(separator: "/").last ?? "")
                destinations.append(id)
                #expect(item["body"] == .string(#"{"tenantId":"\#(id)"}"#))
                #expect(item["headers"]?["Upstash-Deduplication-Id"] == .string("sync-\(id)-2027-01-15T08"))
                #expect(item["headers"]?["Upstash-Flow-Control-Key"] == .string("igmedia-sync"))
                #expect(item["headers"]?["Upstash-Flow-Control-Value"] == .string("parallelism=16"))
                #expect(item["headers"]?["Upstash-Retries"] == .string("3") && item["headers"]?["Upstash-Method"] == .string("POST"))
            }
        }
        #expect(destinations.sorted() == ids.sorted())
    }

    @Test("a batch call that fails reports its tenants; an item QStash refuses is reported alone; the rest go out")
    func publishFails() throws {
        let fixture = try HandlerFixture()
        _ = try (0..<150).map { _ in try fixture.tenant().id }
        let qstash = ScriptedTransport()
        let second = (100..<150).map { $0 == 120 ? "" : "msg_\($0)" }
        let reply = "[" + second.map { $0.isEmpty ? #"{"error":"invalid destination url"}"# : #"{"messageId":"\#($0)"}"# }.joined(separator: ",") + "]"
        qstash.on("POST", "qstash.test/v2/batch", .json(#"{"error":"internal server error"}"#, status: 500), .json(reply))
        let summary = try #require(try sync(fixture, qstash: qstash).successData()["summary"])
        #expect(summary["totalTenants"] == .int(150) && summary["queuedCount"] == .int(49) && summary["errorCount"] == .int(101))
        let errors = try #require(summary["errors"]?.arrayValue)
        #expect(errors.filter { $0["error"]?.stringValue?.contains("HTTP 500") == true }.count == 100)
        #expect(errors.filter { $0["error"]?.stringValue == "qstash rejected (HTTP 200): invalid destination url" }.count == 1)
        // Publishing is never retried here: one call per batch.
        #expect(qstash.requests.count == 2)
    }
}
