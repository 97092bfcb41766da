import Foundation
import Logging
import Testing

@testable import IGMediaLogic

/// The handlers' world without a socket or a network: an `InMemoryRedisStore`, a repository on
/// it, `InMemoryInstagram`, a `RecordingMirror`, a sync engine, and a clock that stands still.
/// Requests go through `Application`, so failures meet the real error boundary.
struct HandlerFixture {
    /// 2027-01-15T08:00:00Z, and as the service writes it.
    static let start = 1_800_000_000.0
    static let startISO = "2027-01-15T08:00:00.000Z"
    static let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    let clock = ManualClock(seconds: start)
    let keys = KeySpace(prefix: "t:")
    let store: InMemoryRedisStore
    let repository: TenantRepository
    let instagram: InMemoryInstagram
    let mirror: RecordingMirror
    let engine: SyncEngine

    init(media: [InstagramMedia] = InMemoryInstagram.sampleMedia(count: 3)) throws {
        store = InMemoryRedisStore(clock: clock)
        repository = TenantRepository(store: store, keys: keys, secrets: try SecretBox(key: Array(repeating: 7, count: 32)))
        instagram = InMemoryInstagram(media: media)
        mirror = RecordingMirror()
        engine = SyncEngine(
            repository: repository, instagram: instagram, mirror: mirror,
            lock: SyncLock(store: store, keys: keys, ttlSeconds: 30), clock: clock, logger: Self.quiet,
            mediaLimit: 50, photosTTLSeconds: 3600, tokenRefreshAfterHours: 24)
    }

    /// The application with only the handlers `configure` sets.
    func application(_ configure: (inout Routes.Handlers) -> Void) -> Application {
        var handlers = Routes.Handlers()
        configure(&handlers)
        return Application(router: Router(routes: Routes.table(handlers)), logger: Self.quiet, clock: clock)
    }

    /// A tenant written straight to the store, as `/register` would have.
    @discardableResult
    func tenant(
        token: String? = "IGAA-token", apiType: APIType = .instagramLogin, appID: String? = nil,
        tokenUpdate: String? = startISO
    ) throws -> Tenant {
        let tenant = Tenant(
            id: UUIDv4.make(), name: "tenant", authToken: UUIDv4.make(), apiType: apiType, instagramAccountID: "1784",
            instagramAccountSecret: "app-secret", instagramAccessToken: token, instagramAppID: appID, tokenUpdate: tokenUpdate)
        try repository.create(tenant)
        return tenant
    }

    /// Every key in the store, to show what a request wrote (or that it wrote nothing).
    func storedKeys() throws -> [String] {
        let reply = try store.run(RedisCommand("SCAN", "0", "COUNT", 10_000))
        return (reply.arrayValue?[1].arrayValue ?? []).compactMap(\.stringValue).sorted()
    }

    /// A JSON object from raw member values, with members replaced, added or removed (nil).
    static func jsonObject(_ members: [(String, String)], changing changes: [(String, String?)] = []) -> String {
        var result = members.map { ($0.0, Optional($0.1)) }
        for (name, value) in changes {
            if let index = result.firstIndex(where: { $0.0 == name }) { result[index].1 = value } else { result.append((name, value)) }
        }
        return "{" + result.compactMap { name, value in value.map { "\"\(name)\":\($0)" } }.joined(separator: ",") + "}"
    }

    static func post(_ path: String, _ body: String, bearer: String? = nil, contentType: String? = "application/json") -> Request {
        var headers = HTTPHeaders()
        if let contentType { headers.add("Content-Type", contentType) }
        if let bearer { headers.add("Authorization", "Bearer \(bearer)") }
        return Request(method: "POST", path: path, headers: headers, body: Array(body.utf8))
    }
}

extension Response {
    /// The body as JSON; an issue when it is not.
    func json(sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONValue {
        do {
            return try JSONParser.parse(body)
        } catch {
            Issue.record("body is not JSON: \(String(decoding: body, as: UTF8.self))", sourceLocation: sourceLocation)
            throw error
        }
    }

    /// The `data` of a success envelope, after checking the envelope has exactly `success` and `data`.
    func successData(_ status: HTTPStatus = .ok, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONValue {
        #expect(self.status == status, sourceLocation: sourceLocation)
        #expect(headers["Content-Type"] == Response.jsonContentType, sourceLocation: sourceLocation)
        let envelope = try json(sourceLocation: sourceLocation)
        guard case .object(let members) = envelope, members.count == 2, members[0] == ("success", .bool(true)),
              members[1].0 == "data" else {
            Issue.record("not a success envelope: \(String(decoding: body, as: UTF8.self))", sourceLocation: sourceLocation)
            return .null
        }
        return members[1].1
    }

    /// Checks the failure envelope exactly: `{"success":false,"code":…,"errorMessage":…}` and its status.
    func expectFailure(
        _ code: ErrorCode, _ message: String, status: HTTPStatus? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(self.status == (status ?? code.status), sourceLocation: sourceLocation)
        #expect(headers["Content-Type"] == Response.jsonContentType, sourceLocation: sourceLocation)
        let expected = JSONValue.object([("success", .bool(false)), ("code", .string(code.rawValue)), ("errorMessage", .string(message))])
        #expect((try? JSONParser.parse(body)) == expected, sourceLocation: sourceLocation)
    }
}
