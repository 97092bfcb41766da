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
                client: QStashClient(baseURL: "https://qstash.test", token: "qstash-token", transport: $0), webhookBaseURL: Self.webhookBase)
        }
        return SyncAllHandler(
            repository: fixture.repository, runner: SyncRunner(engine: fixture.engine, logger: HandlerFixture.quiet),
            publisher: publisher, secret: Self.secret, clock: fixture.clock)
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

    @Test("without QStash, syncs every tenant here and reports each one, in tenant id order")
    func direct() throws {
        let fixture = try HandlerFixture()
        let first = try fixture.tenant()
        let second = try fixture.tenant(token: "IGAA-second")
        let tokenless = try fixture.tenant(token: nil, tokenUpdate: nil)
        fixture.instagram.mediaByToken = ["IGAA-second": InMemoryInstagram.sampleMedia(count: 2, idBase: 18_000_000_000_000_000)]
        let data = try sync(fixture).successData()
        let synced = [(first.id, 3), (second.id, 2)].sorted { $0.0 < $1.0 }.map { Self.synced($0.0, photos: $0.1, uploaded: $0.1) }
        #expect(data == .object([("summary", .object([
            ("totalTenants", .int(3)), ("queuedTasks", .array([])),
            ("errors", .array([Self.error(tokenless.id, "tenant has no Instagram access token")])),
            ("results", .array(synced)),
        ]))]))
        #expect(fixture.instagram.tokensSeen.sorted() == ["IGAA-second", "IGAA-token"])
        #expect(fixture.mirror.uploads.count == 5)
        #expect(try Self.feedURLs(fixture, first.id).count == 3)
        #expect(try Self.feedURLs(fixture, second.id).count == 2)
        for tenant in [first, second] {
            #expect(try fixture.repository.load(tenant.id)?.lastSync == HandlerFixture.startISO)
        }
        #expect(try fixture.repository.readFeed(tokenless.id).photosJSON == nil)
    }

    @Test("finds tenants the seed service wrote without the index, and answers an empty store too")
    func seedTenantsAndNone() throws {
        let fixture = try HandlerFixture()
        let empty = try sync(fixture).successData()
        #expect(empty == .object([("summary", .object([
            ("totalTenants", .int(0)), ("queuedTasks", .array([])), ("errors", .array([])), ("results", .array([])),
        ]))]))
        let seed = try fixture.tenant()
        _ = try fixture.store.run(RedisCommand("DEL", RedisArgument(fixture.keys.tenantIndex)))
        let data = try sync(fixture).successData()
        #expect(data["summary"]?["totalTenants"] == .int(1))
        #expect(data["summary"]?["results"] == .array([Self.synced(seed.id, photos: 3, uploaded: 3)]))
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

    @Test("Instagram failing for one tenant is reported for it alone: 200, the others sync, its feed stays as it was")
    func instagramFailsForOne() throws {
        let fixture = try HandlerFixture()
        let healthy = try fixture.tenant()
        let failing = try fixture.tenant(token: "IGAA-failing")
        let other = try fixture.tenant()
        _ = try sync(fixture).successData()
        let feedBefore = try #require(try fixture.repository.readFeed(failing.id).photosJSON)

        fixture.clock.advance(seconds: 60)
        fixture.instagram.failureByToken = ["IGAA-failing": UpstreamError(service: "instagram", kind: .server, status: 500, message: "oops")]
        let data = try sync(fixture).successData()
        let kept = [healthy.id, other.id].sorted().map { Self.synced($0, photos: 3, kept: 3) }
        #expect(data == .object([("summary", .object([
            ("totalTenants", .int(3)), ("queuedTasks", .array([])),
            ("errors", .array([Self.error(failing.id, "fetching media failed: instagram server (HTTP 500): oops")])),
            ("results", .array(kept)),
        ]))]))
        #expect(try fixture.repository.readFeed(failing.id).photosJSON == feedBefore)
        let stored = try #require(try fixture.repository.load(failing.id))
        #expect(stored.lastSync == HandlerFixture.startISO)
        #expect(stored.lastError == "2027-01-15T08:01:00.000Z instagram server (HTTP 500): oops")
        #expect(try fixture.repository.load(healthy.id)?.lastSync == "2027-01-15T08:01:00.000Z")
    }

    @Test("the CDN refusing one tenant's media leaves that tenant on Instagram's URLs; the others are mirrored")
    func cdnFailsForOne() throws {
        let fixture = try HandlerFixture()
        let mirrored = try fixture.tenant()
        let unmirrored = try fixture.tenant(token: "IGAA-unmirrored")
        let media = InMemoryInstagram.sampleMedia(count: 2, idBase: 18_000_000_000_000_000)
        fixture.instagram.mediaByToken = ["IGAA-unmirrored": media]
        fixture.mirror.failingSources = Set(media.compactMap(\.mediaURL))
        let data = try sync(fixture).successData()
        let results = [
            (mirrored.id, Self.synced(mirrored.id, photos: 3, uploaded: 3)),
            (unmirrored.id, Self.synced(unmirrored.id, photos: 2, failed: 2)),
        ].sorted { $0.0 < $1.0 }.map(\.1)
        #expect(data == .object([("summary", .object([
            ("totalTenants", .int(2)), ("queuedTasks", .array([])), ("errors", .array([])), ("results", .array(results)),
        ]))]))
        #expect(try Self.feedURLs(fixture, unmirrored.id) == media.compactMap(\.mediaURL))
        let cdn = try Self.feedURLs(fixture, mirrored.id)
        #expect(cdn.count == 3 && cdn.allSatisfy { $0.hasPrefix("https://res.cloudinary.test/demo/image/upload/v1/") })
    }

    @Test("with QStash, publishes one message per tenant to its webhook, deduplicated per hour, and syncs nothing here")
    func publishes() throws {
        let fixture = try HandlerFixture()
        let ids = try [fixture.tenant(), fixture.tenant()].map(\.id).sorted()
        let qstash = ScriptedTransport()
        qstash.on("POST", "qstash.test/v2/publish/", .json(#"{"messageId":"msg_1"}"#), .json(#"{"messageId":"msg_2"}"#))
        let data = try sync(fixture, qstash: qstash).successData()
        #expect(data == .object([("summary", .object([
            ("totalTenants", .int(2)), ("queuedTasks", .array([.string("msg_1"), .string("msg_2")])), ("errors", .array([])),
        ]))]))
        #expect(fixture.instagram.fetchCalls == 0)
        #expect(try fixture.repository.load(ids[0])?.lastSync == nil)
        let requests = qstash.requests
        #expect(requests.map(\.url) == ids.map { "https://qstash.test/v2/publish/\(Self.webhookBase)/sync/process/\($0)" })
        #expect(requests.map(\.body) == ids.map { #"{"tenantId":"\#($0)"}"# })
        for (request, id) in zip(requests, ids) {
            let headers = HTTPHeaders(request.headers)
            #expect(request.method == "POST")
            #expect(headers["Authorization"] == "Bearer qstash-token")
            #expect(headers["Upstash-Deduplication-Id"] == "sync-\(id)-2027-01-15T08")
            #expect(headers["Upstash-Method"] == "POST" && headers["Upstash-Retries"] == "3")
        }

        fixture.clock.advance(seconds: 59 * 60)
        _ = try sync(fixture, qstash: qstash).successData()
        fixture.clock.advance(seconds: 60)
        _ = try sync(fixture, qstash: qstash).successData()
        let dedup = qstash.requests.dropFirst(2).map { HTTPHeaders($0.headers)["Upstash-Deduplication-Id"] }
        #expect(dedup == ids.map { "sync-\($0)-2027-01-15T08" } + ids.map { "sync-\($0)-2027-01-15T09" })
    }

    @Test("a message QStash refuses or never receives is reported for its tenant; the others are queued")
    func publishFails() throws {
        let fixture = try HandlerFixture()
        let ids = try [fixture.tenant(), fixture.tenant(), fixture.tenant()].map(\.id).sorted()
        let qstash = ScriptedTransport()
        let publish = "qstash.test/v2/publish/\(Self.webhookBase)/sync/process/"
        qstash.on("POST", publish + ids[0], .json(#"{"messageId":"msg_1"}"#))
        qstash.on("POST", publish + ids[1], .json(#"{"error":"invalid destination url"}"#, status: 400))
        qstash.on("POST", publish + ids[2], .failure(.connectionFailed("refused")))
        let data = try sync(fixture, qstash: qstash).successData()
        #expect(data == .object([("summary", .object([
            ("totalTenants", .int(3)), ("queuedTasks", .array([.string("msg_1")])),
            ("errors", .array([
                Self.error(ids[1], "qstash rejected (HTTP 400): invalid destination url"),
                Self.error(ids[2], "qstash transport: connection failed: refused"),
            ])),
        ]))]))
        // Publishing is never retried here: one request per tenant.
        #expect(qstash.requests.count == 3)
    }
}
