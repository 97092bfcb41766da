import Testing

@testable import IGMediaLogic

@Suite("POST /sync")
struct SyncAllHandlerTests {
    static let secret = "sync-internal-secret-0123456789"
    static let webhookBase = "https://media.example.com"

    func sync(
        _ fixture: HandlerFixture, _ body: String = #"{"secret":"sync-internal-secret-0123456789"}"#,
        qstash: ScriptedTransport? = nil, contentType: String? = "application/json"
    ) -> Response {
        let publisher = qstash.map {
            SyncAllHandler.Publisher(
                client: QStashClient(baseURL: "https://qstash.test", token: "qstash-token", transport: $0), webhookBaseURL: Self.webhookBase)
        }
        return fixture.application {
            $0.syncAll = SyncAllHandler(
                repository: fixture.repository, runner: SyncRunner(engine: fixture.engine, logger: HandlerFixture.quiet),
                publisher: publisher, secret: Self.secret, clock: fixture.clock)
        }.respond(to: HandlerFixture.post("/sync", body, contentType: contentType))
    }

    static func error(_ tenantID: String, _ reason: String) -> JSONValue {
        .object([("tenantId", .string(tenantID)), ("error", .string(reason))])
    }

    static func synced(_ tenantID: String, photos: Int, uploaded: Int) -> JSONValue {
        .object([
            ("tenantId", .string(tenantID)), ("photosCount", .int(photos)), ("uploaded", .int(uploaded)), ("deleted", .int(0)),
            ("kept", .int(0)), ("failed", .int(0)),
        ])
    }

    @Test("without QStash, syncs every tenant here and reports each one, in tenant id order")
    func direct() throws {
        let fixture = try HandlerFixture()
        let first = try fixture.tenant()
        let second = try fixture.tenant()
        let tokenless = try fixture.tenant(token: nil, tokenUpdate: nil)
        let data = try sync(fixture).successData()
        let synced = [first.id, second.id].sorted().map { Self.synced($0, photos: 3, uploaded: 3) }
        var expected: [(String, [JSONValue])] = [(first.id, []), (second.id, []), (tokenless.id, [])]
        expected.sort { $0.0 < $1.0 }
        #expect(data == .object([("summary", .object([
            ("totalTenants", .int(3)), ("queuedTasks", .array([])),
            ("errors", .array([Self.error(tokenless.id, "tenant has no Instagram access token")])),
            ("results", .array(synced)),
        ]))]))
        #expect(fixture.instagram.fetchCalls == 2)
        for tenant in [first, second] {
            #expect(try fixture.repository.readFeed(tenant.id).photosJSON != nil)
            #expect(try fixture.repository.load(tenant.id)?.lastSync == HandlerFixture.startISO)
        }
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

    @Test(
        "a missing or wrong secret is a 401 and nothing is synced",
        arguments: ["{}", #"{"secret":""}"#, #"{"secret":"SYNC-INTERNAL-SECRET-0123456789"}"#, #"{"secret":12345}"#,
                    #"{"secret":"sync-internal-secret-012345678"}"#])
    func wrongSecret(body: String) throws {
        let fixture = try HandlerFixture()
        try fixture.tenant()
        let response = sync(fixture, body)
        response.expectFailure(.unauthorized, "Invalid sync secret")
        #expect(response.headers["WWW-Authenticate"] == "Bearer")
        #expect(fixture.instagram.fetchCalls == 0)
    }

    @Test(
        "a body that is not a JSON object is a 400",
        arguments: [
            ("", "Request body is required"), ("[\"secret\"]", "Request body must be a JSON object"),
            ("secret=x", "Request body is not valid JSON: unexpected character"),
        ])
    func badBody(body: String, message: String) throws {
        let fixture = try HandlerFixture()
        sync(fixture, body).expectFailure(.validationFailed, message)
        sync(fixture, contentType: "text/plain").expectFailure(.validationFailed, "Content-Type must be application/json")
        #expect(fixture.instagram.fetchCalls == 0)
    }

    @Test("storage down: 503 before any tenant is touched")
    func storeOutage() throws {
        let fixture = try HandlerFixture()
        try fixture.tenant()
        fixture.store.isDown = true
        sync(fixture).expectFailure(.serviceUnavailable, "Storage is unavailable, try again shortly")
        let qstash = ScriptedTransport()
        sync(fixture, qstash: qstash).expectFailure(.serviceUnavailable, "Storage is unavailable, try again shortly")
        #expect(fixture.instagram.fetchCalls == 0 && qstash.requests.isEmpty)
    }

    @Test("Instagram failing is reported per tenant with 200, and the feeds stay as they were")
    func upstreamFails() throws {
        let fixture = try HandlerFixture()
        let tenant = try fixture.tenant()
        fixture.instagram.failure = UpstreamError(service: "instagram", kind: .server, status: 500, message: "oops")
        let data = try sync(fixture).successData()
        #expect(data["summary"]?["errors"] == .array([
            Self.error(tenant.id, "fetching media failed: instagram server (HTTP 500): oops"),
        ]))
        #expect(data["summary"]?["results"] == .array([]))
        #expect(try fixture.repository.readFeed(tenant.id).photosJSON == nil)
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
        let requests = qstash.requests
        #expect(requests.map(\.url) == ids.map { "https://qstash.test/v2/publish/\(Self.webhookBase)/sync/process/\($0)" })
        #expect(requests.map(\.body) == ids.map { #"{"tenantId":"\#($0)"}"# })
        for (request, id) in zip(requests, ids) {
            let headers = HTTPHeaders(request.headers)
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
        qstash.on(
            "POST", "qstash.test/v2/publish/", .json(#"{"messageId":"msg_1"}"#),
            .json(#"{"error":"invalid destination url"}"#, status: 400), .failure(.connectionFailed("refused")))
        let data = try sync(fixture, qstash: qstash).successData()
        #expect(data == .object([("summary", .object([
            ("totalTenants", .int(3)), ("queuedTasks", .array([.string("msg_1")])),
            ("errors", .array([
                Self.error(ids[1], "qstash rejected (HTTP 400): invalid destination url"),
                Self.error(ids[2], "qstash transport: connection failed: refused"),
            ])),
        ]))]))
    }
}
