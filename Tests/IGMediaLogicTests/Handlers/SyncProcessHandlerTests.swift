import Foundation
import Logging
import Testing

@testable import IGMediaLogic

/// A fixed clock for signature checks.
struct FixedClock: IGMediaLogic.Clock {
    let seconds: Double
    func now() -> Double { seconds }
    func monotonicNanoseconds() -> UInt64 { SystemClock().monotonicNanoseconds() }
}

@Suite("QStash webhook POST /sync/process/:tenantId", .serialized)
struct SyncProcessHandlerTests {
    static let current = "sig_current_test_key"
    static let next = "sig_next_test_key"
    static let base = "https://media.example.com"
    static let now = 1_800_000_000

    struct Fixture {
        let sync: SyncFixture
        let handler: SyncProcessHandler
        let tenantID: String

        init() throws {
            sync = try SyncFixture(media: InMemoryInstagram.sampleMedia(count: 3))
            tenantID = try sync.register()
            handler = SyncProcessHandler(
                verifier: QStashSignatureVerifier(currentKey: current, nextKey: next, clockToleranceSeconds: 30),
                webhookBaseURL: base, engine: sync.engine, store: sync.store, keys: KeySpace(prefix: "t:"),
                clock: FixedClock(seconds: Double(now)), logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))
        }

        func request(signature: String?, body: [UInt8], messageID: String? = nil, tenant: String? = nil) -> Request {
            var headers = HTTPHeaders([("Content-Type", "application/json")])
            if let signature { headers.add("Upstash-Signature", signature) }
            if let messageID { headers.add("Upstash-Message-Id", messageID) }
            let id = tenant ?? tenantID
            var request = Request(method: "POST", path: "/sync/process/\(id)", headers: headers, body: body)
            request.pathParameters = ["tenantId": id]
            return request
        }

        func respond(_ request: Request) -> Response {
            do { return try handler.handle(request) } catch let error as HTTPError { return Envelope.failure(error) } catch {
                return Envelope.failure(.internalError())
            }
        }
    }

    static func claims(
        sub: String, body: [UInt8], iss: String = "Upstash", exp: Int = now + 300, nbf: Int = now, pad: Bool = false,
        drop: String? = nil, jti: String = "jwt_1"
    ) -> String {
        var hash = Base64.encode(Digest.sha256(body), urlSafe: true, padding: pad)
        if !pad { hash = Base64.encodeURL(Digest.sha256(body)) }
        let members: [(String, String)] = [
            ("iss", TestJWT.quoted(iss)), ("sub", TestJWT.quoted(sub)), ("exp", "\(exp)"), ("nbf", "\(nbf)"),
            ("iat", "\(now)"), ("jti", TestJWT.quoted(jti)), ("body", TestJWT.quoted(hash)),
        ]
        return TestJWT.object(members.filter { $0.0 != drop })
    }

    @Test("a valid delivery syncs the tenant and answers the seed's shape")
    func valid() throws {
        let fixture = try Fixture()
        let body = Array("{\"tenantId\":\"\(fixture.tenantID)\"}".utf8)
        let token = TestJWT.sign(payload: Self.claims(sub: Self.base + "/sync/process/\(fixture.tenantID)", body: body), key: Self.current)
        let response = fixture.respond(fixture.request(signature: token, body: body, messageID: "msg_1"))
        #expect(response.status == .ok)
        let json = try JSONParser.parse(response.body)
        #expect(json["data"]?["result"]?["photosCount"] == .int(3))
        #expect(json["data"]?["refreshTokenResult"] == .string("not_due"))
        #expect(fixture.sync.instagram.fetchCalls == 1)
        // The same message again: answered, no second sync.
        let again = fixture.respond(fixture.request(signature: token, body: body, messageID: "msg_1"))
        #expect(again.status == .ok)
        #expect(fixture.sync.instagram.fetchCalls == 1)
    }

    @Test("the next signing key is accepted (key rotation)")
    func nextKey() throws {
        let fixture = try Fixture()
        let body = Array("{}".utf8)
        let token = TestJWT.sign(payload: Self.claims(sub: Self.base + "/sync/process/\(fixture.tenantID)", body: body, pad: true), key: Self.next)
        #expect(fixture.respond(fixture.request(signature: token, body: body)).status == .ok)
    }

    static func forgeries(tenant: String) -> [(String, String?, [UInt8])] {
        let body = Array("{\"tenantId\":\"x\"}".utf8)
        let sub = base + "/sync/process/\(tenant)"
        let good = claims(sub: sub, body: body)
        func b64(_ s: String) -> String { Base64.encodeURL(Array(s.utf8)) }
        let valid = TestJWT.sign(payload: good, key: current)
        let parts = valid.split(separator: ".").map(String.init)
        return [
            ("missing header", nil, body),
            ("empty header", "", body),
            ("wrong key", TestJWT.sign(payload: good, key: "sig_wrong"), body),
            ("expired", TestJWT.sign(payload: claims(sub: sub, body: body, exp: now - 31, nbf: now - 400), key: current), body),
            ("not yet valid", TestJWT.sign(payload: claims(sub: sub, body: body, nbf: now + 31), key: current), body),
            ("wrong issuer", TestJWT.sign(payload: claims(sub: sub, body: body, iss: "Evil"), key: current), body),
            ("wrong subject", TestJWT.sign(payload: claims(sub: base + "/sync/process/other", body: body), key: current), body),
            ("subject from another host", TestJWT.sign(payload: claims(sub: "https://evil.example/sync/process/\(tenant)", body: body), key: current), body),
            ("other body", valid, Array("{\"tenantId\":\"y\"}".utf8)),
            ("missing exp", TestJWT.sign(payload: claims(sub: sub, body: body, drop: "exp"), key: current), body),
            ("missing body claim", TestJWT.sign(payload: claims(sub: sub, body: body, drop: "body"), key: current), body),
            ("alg none", b64(#"{"alg":"none","typ":"JWT"}"#) + "." + parts[1] + ".", body),
            ("alg HS512", TestJWT.sign(header: #"{"alg":"HS512","typ":"JWT"}"#, payload: good, key: current), body),
            ("two parts", parts[0] + "." + parts[1], body),
            ("four parts", valid + ".x", body),
            ("bad base64url", parts[0] + "." + parts[1] + "." + parts[2].replacingOccurrences(of: parts[2].prefix(1), with: "*"), body),
            ("signature of another token", parts[0] + "." + b64(claims(sub: sub, body: body, exp: now + 9999)) + "." + parts[2], body),
        ]
    }

    @Test("every forged or broken delivery is refused with 401 and nothing is done")
    func forged() throws {
        let fixture = try Fixture()
        let cases = Self.forgeries(tenant: fixture.tenantID)
        #expect(cases.count >= 15)
        for (name, signature, body) in cases {
            let response = fixture.respond(fixture.request(signature: signature, body: body, messageID: "msg_\(name)"))
            #expect(response.status == .unauthorized, "\(name)")
        }
        #expect(fixture.sync.instagram.fetchCalls == 0)
        #expect(fixture.sync.mirror.uploads.isEmpty)
        #expect(try fixture.sync.repository.readFeed(fixture.tenantID).photosJSON == nil)
    }

    @Test("an unknown tenant is answered 489 non-retryable")
    func unknownTenant() throws {
        let fixture = try Fixture()
        let other = UUIDv4.make()
        let body = Array("{}".utf8)
        let token = TestJWT.sign(payload: Self.claims(sub: Self.base + "/sync/process/\(other)", body: body), key: Self.current)
        let response = fixture.respond(fixture.request(signature: token, body: body, tenant: other))
        #expect(response.status.code == 489)
        #expect(response.headers["Upstash-NonRetryable-Error"] == "true")
    }

    @Test("a transient Instagram failure answers 503 so QStash retries, and the retry is not taken for a duplicate")
    func transient() throws {
        let fixture = try Fixture()
        let body = Array("{}".utf8)
        let token = TestJWT.sign(payload: Self.claims(sub: Self.base + "/sync/process/\(fixture.tenantID)", body: body), key: Self.current)
        fixture.sync.instagram.failure = UpstreamError(service: "instagram", kind: .server, status: 500, message: "oops")
        #expect(fixture.respond(fixture.request(signature: token, body: body, messageID: "msg_t")).status == .serviceUnavailable)
        fixture.sync.instagram.failure = nil
        // QStash signs every attempt anew: the retry carries another jti.
        let retry = TestJWT.sign(
            payload: Self.claims(sub: Self.base + "/sync/process/\(fixture.tenantID)", body: body, jti: "jwt_2"), key: Self.current)
        #expect(fixture.respond(fixture.request(signature: retry, body: body, messageID: "msg_t")).status == .ok)
        #expect(fixture.sync.instagram.fetchCalls == 2)
    }

    @Test("a captured token replayed under a fresh message id is a duplicate and syncs nothing")
    func replayedToken() throws {
        let fixture = try Fixture()
        let body = Array("{}".utf8)
        let token = TestJWT.sign(payload: Self.claims(sub: Self.base + "/sync/process/\(fixture.tenantID)", body: body), key: Self.current)
        #expect(fixture.respond(fixture.request(signature: token, body: body, messageID: "msg_a")).status == .ok)
        let replay = fixture.respond(fixture.request(signature: token, body: body, messageID: "msg_fresh"))
        #expect(replay.status == .ok)
        #expect(try JSONParser.parse(replay.body)["data"]?["result"]?["duplicate"] == .bool(true))
        #expect(fixture.sync.instagram.fetchCalls == 1)
        // The jti is kept until the token could no longer verify (exp + tolerance), no longer.
        let ttl = try fixture.sync.store.run(RedisCommand("TTL", RedisArgument(KeySpace(prefix: "t:").qstashToken("jwt_1"))))
        #expect(ttl == .integer(300 + 30 + 1) || ttl == .integer(300 + 30))
        // The message id record is the tenant's: another tenant's delivery with msg_fresh is not a duplicate.
        let seen = KeySpace(prefix: "t:").qstashSeen(tenantID: fixture.tenantID, messageID: "msg_a")
        #expect(try fixture.sync.store.run(RedisCommand("GET", RedisArgument(seen))) == .bytes(Array("done".utf8)))
        let other = KeySpace(prefix: "t:").qstashSeen(tenantID: UUIDv4.make(), messageID: "msg_fresh")
        #expect(try fixture.sync.store.run(RedisCommand("EXISTS", RedisArgument(other))) == .integer(0))
    }

    @Test("a signed token without a jti is refused: it could be replayed")
    func missingJTI() throws {
        let fixture = try Fixture()
        let body = Array("{}".utf8)
        let token = TestJWT.sign(
            payload: Self.claims(sub: Self.base + "/sync/process/\(fixture.tenantID)", body: body, drop: "jti"), key: Self.current)
        #expect(fixture.respond(fixture.request(signature: token, body: body, messageID: "msg_j")).status == .unauthorized)
        #expect(fixture.sync.instagram.fetchCalls == 0)
    }

    @Test("admit, on the accepting thread, refuses every forgery and lets a signed delivery through without touching the store")
    func admit() throws {
        let fixture = try Fixture()
        for (name, signature, body) in Self.forgeries(tenant: fixture.tenantID) {
            #expect(throws: HTTPError.unauthorized("Invalid QStash signature"), "\(name)") {
                try fixture.handler.admit(fixture.request(signature: signature, body: body))
            }
        }
        let body = Array("{}".utf8)
        let token = TestJWT.sign(payload: Self.claims(sub: Self.base + "/sync/process/\(fixture.tenantID)", body: body), key: Self.current)
        try fixture.handler.admit(fixture.request(signature: token, body: body, messageID: "msg_admit"))
        let seen = KeySpace(prefix: "t:").qstashSeen(tenantID: fixture.tenantID, messageID: "msg_admit")
        #expect(try fixture.sync.store.run(RedisCommand("EXISTS", RedisArgument(seen))) == .integer(0))
        #expect(fixture.sync.instagram.fetchCalls == 0)
    }

    @Test("a revoked token is recorded and answered 489 so QStash stops retrying")
    func permanent() throws {
        let fixture = try Fixture()
        let body = Array("{}".utf8)
        let token = TestJWT.sign(payload: Self.claims(sub: Self.base + "/sync/process/\(fixture.tenantID)", body: body), key: Self.current)
        fixture.sync.instagram.failure = UpstreamError(service: "instagram", kind: .auth, status: 400, message: "Error validating access token", code: 190)
        let response = fixture.respond(fixture.request(signature: token, body: body, messageID: "msg_p"))
        #expect(response.status.code == 489)
        #expect(response.headers["Upstash-NonRetryable-Error"] == "true")
        #expect(try JSONParser.parse(response.body)["code"] == .string("SYNC_FAILED"))
    }
}
