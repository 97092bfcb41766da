import Logging
import Synchronization
import Testing

@testable import IGMediaLogic

/// What the edge decides on the accepting thread, before a request waits for a pool.
@Suite("CGIEdge admission")
struct CGIEdgeTests {
    /// Counts the requests it handles; `admit` refuses any without the header `X-Key: right`.
    final class Gated: RequestHandler {
        let handled = Atomic<Int>(0)
        func admit(_ request: Request) throws(HTTPError) {
            guard request.headers["X-Key"] == "right" else { throw HTTPError.unauthorized("Wrong key") }
        }
        func handle(_ request: Request) throws -> Response {
            handled.add(1, ordering: .relaxed)
            return Envelope.success(.object([]))
        }
    }

    struct Plain: RequestHandler {
        func handle(_ request: Request) throws -> Response { Envelope.success(.object([])) }
    }

    static func edge(_ gated: Gated) -> CGIEdge {
        let router = Router(routes: [
            Route("GET", "/photos", Plain()),
            Route("POST", "/register", Plain(), lane: .outbound),
            Route("POST", "/sync/process/:tenantId", gated, lane: .outbound, maxBodyBytes: 64),
        ])
        let application = Application(router: router, logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))
        return CGIEdge(application: application, maxBodyBytes: 1024)
    }

    static func params(_ method: String, _ uri: String, document: String? = nil, length: Int = 0, key: String? = nil)
        -> [(String, String)] {
        var params = [("REQUEST_METHOD", method), ("REQUEST_URI", uri), ("DOCUMENT_URI", document ?? uri),
                      ("CONTENT_LENGTH", length == 0 ? "" : "\(length)"), ("CONTENT_TYPE", "application/json")]
        if let key { params.append(("HTTP_X_KEY", key)) }
        return params
    }

    @Test("a route's own body limit applies before the body is read; others get MAX_BODY_BYTES")
    func bodyLimits() {
        let edge = Self.edge(Gated())
        #expect(edge.bodyPlan(params: Self.params("POST", "/sync/process/t1", length: 64)) == .read(64))
        #expect(edge.bodyPlan(params: Self.params("POST", "/sync/process/t1", length: 65)) == .tooLarge)
        #expect(edge.bodyPlan(params: Self.params("POST", "/sync/process/t%31", length: 65)) == .tooLarge)
        #expect(edge.bodyPlan(params: Self.params("POST", "/register", length: 1024)) == .read(1024))
        #expect(edge.bodyPlan(params: Self.params("POST", "/register", length: 1025)) == .tooLarge)
        let refusal = edge.reject(params: Self.params("POST", "/sync/process/t1", length: 65), .bodyTooLarge)
        #expect(refusal.status == .payloadTooLarge)
        #expect(String(decoding: refusal.body, as: UTF8.self).contains("exceeds 64 bytes"))
    }

    @Test("a request its route's admit check refuses is answered on the accepting thread, never handled")
    func refusedAtTheEdge() throws {
        let gated = Gated()
        let edge = Self.edge(gated)
        guard case .answer(let response) = edge.admit(params: Self.params("POST", "/sync/process/t1", key: "wrong"), body: [])
        else { Issue.record("a refused request was admitted"); return }
        #expect(response.status == .unauthorized)
        #expect(response.headers["X-Request-Id"] != nil)
        #expect(gated.handled.load(ordering: .relaxed) == 0)
        guard case .serve(let request, let lane) = edge.admit(params: Self.params("POST", "/sync/process/t1", key: "right"), body: [])
        else { Issue.record("a good request was refused"); return }
        #expect(lane == .outbound)
        #expect(edge.respond(to: request).status == .ok)
        #expect(gated.handled.load(ordering: .relaxed) == 1)
    }

    @Test("the lane is chosen from the decoded request URI, as routing is, not from DOCUMENT_URI")
    func laneFromDecodedPath() {
        let edge = Self.edge(Gated())
        // nginx resolves "." and merges slashes in DOCUMENT_URI; the route table never matches them.
        for uri in ["/sync/./process/t1", "/sync//process/t1"] {
            guard case .serve(let request, let lane) = edge.admit(
                params: Self.params("POST", uri, document: "/sync/process/t1", key: "wrong"), body: [])
            else { Issue.record("\(uri) was answered at the edge"); continue }
            #expect(lane == .quick, "\(uri)")
            #expect(edge.respond(to: request).status == .notFound, "\(uri)")
        }
        // And an encoded letter is the same route, laned and checked as such.
        guard case .answer(let response) = edge.admit(
            params: Self.params("POST", "/sync/process/t%31", document: "/elsewhere", key: "wrong"), body: [])
        else { Issue.record("an encoded path skipped the check"); return }
        #expect(response.status == .unauthorized)
        guard case .serve(_, let lane) = edge.admit(params: Self.params("GET", "/photos"), body: []) else { return }
        #expect(lane == .quick)
    }
}
