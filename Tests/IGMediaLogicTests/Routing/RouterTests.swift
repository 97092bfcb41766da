import Logging
import Testing

@testable import IGMediaLogic

@Suite("Route table")
struct RouterTests {
    static let app = Application(
        router: Router(routes: Routes.table(Routes.Handlers())),
        logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))

    @Test(
        "answers each method and path with the documented status",
        arguments: [
            ("GET", "/health", 200),
            ("HEAD", "/health", 200),
            ("POST", "/health", 405),
            ("DELETE", "/health", 405),
            ("GET", "/health/", 404),
            ("GET", "/healthz", 404),
            ("GET", "/", 404),
            ("GET", "/instagram-callback", 400),
            ("PUT", "/instagram-callback", 405),
            ("GET", "/nope/deeper", 404),
        ])
    func status(method: String, path: String, expected: Int) {
        let response = Self.app.respond(to: Request(method: method, path: path))
        #expect(response.status.code == expected)
        #expect(response.headers["Content-Type"] == Response.jsonContentType)
    }

    @Test("lists the allowed methods on 405")
    func allowHeader() throws {
        let response = Self.app.respond(to: Request(method: "POST", path: "/health"))
        #expect(response.headers["Allow"] == "GET, HEAD")
        let body = try JSONParser.parse(response.body)
        #expect(body["code"] == .string("METHOD_NOT_ALLOWED"))
        #expect(body["success"] == .bool(false))
    }

    @Test("extracts path parameters")
    func parameters() {
        let router = Router(routes: [Route("POST", "/sync/process/:tenantId", HealthHandler())])
        guard case .found(_, let parameters, _) = router.match(method: "POST", path: "/sync/process/abc") else {
            Issue.record("no match")
            return
        }
        #expect(parameters == ["tenantId": "abc"])
        guard case .notFound = router.match(method: "POST", path: "/sync/process/") else {
            Issue.record("empty parameter matched")
            return
        }
    }

    @Test("adds a request id to every response")
    func requestID() {
        let response = Self.app.respond(to: Request(method: "GET", path: "/health", requestID: "abc123"))
        #expect(response.headers["X-Request-Id"] == "abc123")
        let generated = Self.app.respond(to: Request(method: "GET", path: "/health"))
        #expect(generated.headers["X-Request-Id"]?.count == 16)
    }

    struct Stub: RequestHandler {
        func handle(_ request: Request) throws -> Response { Response(status: .ok) }
    }

    static let everyRoute: Router = {
        var handlers = Routes.Handlers()
        handlers.register = Stub()
        handlers.photos = Stub()
        handlers.obtainToken = Stub()
        handlers.refreshToken = Stub()
        handlers.syncAll = Stub()
        handlers.syncProcess = Stub()
        return Router(routes: Routes.table(handlers))
    }()

    @Test(
        "routes that call other services run on the outbound lane; everything else, unrouted included, is quick",
        arguments: [
            ("GET", "/photos", Lane.quick), ("HEAD", "/photos", .quick), ("GET", "/health", .quick),
            ("GET", "/instagram-callback", .quick), ("GET", "/nope", .quick), ("POST", "/photos", .quick),
            ("POST", "/nope", .quick), ("POST", "/sync/process", .quick), ("POST", "/sync/process/a/b", .quick),
            ("GET", "/sync", .quick),
            ("POST", "/register", .outbound), ("POST", "/auth/obtain-token", .outbound),
            ("POST", "/auth/refresh-token", .outbound), ("POST", "/sync", .outbound),
            ("POST", "/sync/process/tenant-1", .outbound),
        ])
    func lanes(method: String, path: String, lane: Lane) {
        #expect(Self.everyRoute.lane(method: method, path: path) == lane)
    }
}
