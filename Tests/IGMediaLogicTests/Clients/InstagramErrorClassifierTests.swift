import Testing

@testable import IGMediaLogic

/// Every Graph error of external-apis §4.6 and next-capabilities §2 → the one `UpstreamFailure`.
@Suite("InstagramErrorClassifier")
struct InstagramErrorClassifierTests {
    typealias Fixture = UpstreamClassifierFixture

    static func graph(
        _ code: Int, subcode: Int? = nil, transient: Bool? = nil, status: Int = 400, type: String = "OAuthException",
        headers: [(String, String)] = []
    ) -> HTTPClientResponse {
        let sub = subcode.map { #","error_subcode":\#($0)"# } ?? ""
        let hint = transient.map { #","is_transient":\#($0)"# } ?? ""
        return Fixture.response(
            status, #"{"error":{"message":"m","type":"\#(type)","code":\#(code)\#(sub)\#(hint),"fbtrace_id":"A1"}}"#,
            headers: headers)
    }

    static func classify(_ response: HTTPClientResponse) -> UpstreamError? {
        if case .failure(let error) = InstagramErrorClassifier.check(response, secrets: []) { return error }
        return nil
    }

    static let tokenDead: [(Int, Int?)] =
        [(190, nil)] + [458, 459, 460, 463, 464, 466, 467, 492].map { (190, $0) } + [(102, nil), (102, 460)]
    static let permissions = [10, 200, 230, 299]
    static let throttles = [4, 17, 32, 341, 368, 613, 80000, 80001, 80002, 80004, 80006, 80014]

    @Test("190 with or without a subcode, and 102, mean the token is dead", arguments: tokenDead)
    func tokenInvalid(code: Int, subcode: Int?) throws {
        let error = try #require(Self.classify(Self.graph(code, subcode: subcode)))
        #expect(error.failure == .credentialsInvalid && error.kind == .auth)
        #expect(error.code == code && error.status == 400 && error.service == "instagram")
    }

    @Test("10 and 200-299: a missing permission only the tenant can grant", arguments: permissions)
    func permission(code: Int) throws {
        #expect(Self.classify(Self.graph(code, status: 403, type: "IGApiException"))?.failure == .credentialsInvalid)
    }

    @Test("4, 17, 32, 613, 341, 368 and the Business-Use-Case codes are rate limits, whatever the status", arguments: throttles)
    func throttle(code: Int) throws {
        for status in [400, 403, 429] {
            #expect(Self.classify(Self.graph(code, status: status))?.failure == .rateLimited(afterSeconds: nil))
        }
        #expect(Self.classify(Self.graph(code, transient: true))?.failure == .rateLimited(afterSeconds: nil))
    }

    @Test("1 and 2 are temporary; 100 (with subcode 33 too) and unknown codes are not")
    func transientAndPermanent() {
        #expect(Self.classify(Self.graph(1, status: 500))?.failure == .retry)
        #expect(Self.classify(Self.graph(2, status: 400))?.failure == .retry)
        #expect(Self.classify(Self.graph(100))?.failure == .giveUp)
        #expect(Self.classify(Self.graph(100, subcode: 33, type: "IGApiException"))?.failure == .giveUp)
        #expect(Self.classify(Self.graph(2500))?.failure == .giveUp, "an unknown code falls back to the status")
        #expect(Self.classify(Self.graph(9999, status: 503))?.failure == .retry)
    }

    @Test("is_transient makes a retry of what no table decides, never of a dead token or a throttle")
    func isTransient() {
        #expect(Self.classify(Self.graph(100, transient: true))?.failure == .retry)
        #expect(Self.classify(Self.graph(2500, transient: true))?.failure == .retry)
        #expect(Self.classify(Self.graph(2500, transient: false))?.failure == .giveUp)
        #expect(Self.classify(Self.graph(190, transient: true))?.failure == .credentialsInvalid)
        #expect(Self.classify(Self.graph(10, transient: true))?.failure == .credentialsInvalid)
    }

    @Test("without a Graph body the HTTP status decides; an error inside a 200 is still one")
    func statuses() {
        #expect(Self.classify(Fixture.response(401, "<html>"))?.failure == .credentialsInvalid)
        #expect(Self.classify(Fixture.response(404, "{}"))?.failure == .giveUp)
        #expect(Self.classify(Fixture.response(429, ""))?.failure == .rateLimited(afterSeconds: nil))
        #expect(Self.classify(Fixture.response(400, "nope"))?.failure == .giveUp)
        #expect(Self.classify(Fixture.response(502, "<html>Bad Gateway</html>"))?.failure == .retry)
        #expect(Self.classify(Fixture.response(200, "<html>captive portal</html>"))?.failure == .giveUp)
        #expect(Self.classify(Self.graph(190, status: 200))?.failure == .credentialsInvalid)
        #expect(Self.classify(Fixture.response(200, #"{"data":[]}"#)) == nil)
    }

    @Test("api.instagram.com's shape: error_type, code, error_message")
    func apiShape() {
        let used = Fixture.response(400, #"{"error_type":"OAuthException","code":400,"error_message":"This authorization code has been used"}"#)
        let error = Self.classify(used)
        #expect(error?.failure == .giveUp && error?.code == 400)
        #expect(error?.message == "This authorization code has been used (OAuthException)")
    }

    @Test("a throttled business use case says how long: estimated_time_to_regain_access, in minutes")
    func businessUseCase() {
        let usage = #"{"17841405822304914":[{"type":"instagram","call_count":100,"total_cputime":31,"total_time":40,"estimated_time_to_regain_access":19}]}"#
        let header = [("X-Business-Use-Case-Usage", usage)]
        #expect(Self.classify(Self.graph(80002, headers: header))?.failure == .rateLimited(afterSeconds: 19 * 60))
        #expect(Self.classify(Fixture.response(429, "", headers: header))?.failure == .rateLimited(afterSeconds: 19 * 60))
        #expect(Self.classify(Self.graph(190, headers: header))?.retryAfterSeconds == nil, "only a rate limit waits")
        let notBlocked = usage.replacingOccurrences(of: "19", with: "0")
        #expect(InstagramErrorClassifier.regainAccessSeconds(HTTPHeaders([("X-Business-Use-Case-Usage", notBlocked)])) == nil)
        #expect(InstagramErrorClassifier.regainAccessSeconds(HTTPHeaders([("X-Business-Use-Case-Usage", "[garbage")])) == nil)
        let appUsage = [("X-App-Usage", #"{"call_count":100,"total_cputime":25,"total_time":25}"#)]
        #expect(Self.classify(Self.graph(4, headers: appUsage))?.failure == .rateLimited(afterSeconds: nil), "X-App-Usage names no wait")
    }
}
