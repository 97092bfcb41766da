import Testing

@testable import IGMediaLogic

/// Each vendor's documented errors (reference §2.2, §3.7, §4.6) → the one `UpstreamFailure`.
@Suite("Upstream error classification, every vendor")
struct UpstreamClassifierTests {
    static func response(_ status: Int, _ body: String = "", headers: [(String, String)] = []) -> HTTPClientResponse {
        HTTPClientResponse(status: status, headers: HTTPHeaders(headers), body: Array(body.utf8))
    }

    static func graph(_ code: Int, subcode: Int? = nil, status: Int = 400) -> HTTPClientResponse {
        let sub = subcode.map { #","error_subcode":\#($0)"# } ?? ""
        return response(status, #"{"error":{"message":"m","type":"OAuthException","code":\#(code)\#(sub),"fbtrace_id":"A1"}}"#)
    }

    static func instagram(_ response: HTTPClientResponse) -> UpstreamError? {
        if case .failure(let error) = InstagramErrorClassifier.check(response, secrets: []) { return error }
        return nil
    }

    @Test("Graph error codes", arguments: [
        (190, nil, UpstreamFailure.credentialsInvalid), (190, 458, .credentialsInvalid), (190, 460, .credentialsInvalid),
        (190, 463, .credentialsInvalid), (190, 467, .credentialsInvalid), (102, nil, .credentialsInvalid),
        (10, nil, .credentialsInvalid), (200, nil, .credentialsInvalid), (230, nil, .credentialsInvalid),
        (4, nil, .rateLimited(afterSeconds: nil)), (17, nil, .rateLimited(afterSeconds: nil)),
        (32, nil, .rateLimited(afterSeconds: nil)), (613, nil, .rateLimited(afterSeconds: nil)),
        (341, nil, .rateLimited(afterSeconds: nil)), (368, nil, .rateLimited(afterSeconds: nil)),
        (80002, nil, .rateLimited(afterSeconds: nil)), (1, nil, .retry), (2, nil, .retry), (100, nil, .giveUp),
    ] as [(Int, Int?, UpstreamFailure)])
    func graphCodes(code: Int, subcode: Int?, expected: UpstreamFailure) throws {
        let error = try #require(Self.instagram(Self.graph(code, subcode: subcode)))
        #expect(error.failure == expected)
        #expect(error.code == code)
    }

    @Test("Instagram without a Graph body: the HTTP status decides; an error inside a 200 is still one")
    func instagramStatuses() throws {
        #expect(Self.instagram(Self.response(401, "<html>"))?.failure == .credentialsInvalid)
        #expect(Self.instagram(Self.response(404, "{}"))?.failure == .giveUp)
        #expect(Self.instagram(Self.response(429, ""))?.failure == .rateLimited(afterSeconds: nil))
        #expect(Self.instagram(Self.response(400, "nope"))?.failure == .giveUp)
        #expect(Self.instagram(Self.response(502, ""))?.failure == .retry)
        #expect(Self.instagram(Self.graph(190, status: 200))?.failure == .credentialsInvalid)
        let shape = Self.response(400, #"{"error_type":"OAuthException","code":400,"error_message":"Invalid code"}"#)
        #expect(Self.instagram(shape)?.failure == .giveUp)
        #expect(Self.instagram(Self.response(200, #"{"data":[]}"#)) == nil)
    }

    @Test("a throttled business use case says how long: estimated_time_to_regain_access, in minutes")
    func businessUseCase() throws {
        let usage = #"{"17841405822304914":[{"type":"instagram","call_count":100,"total_cputime":31,"total_time":40,"estimated_time_to_regain_access":19}]}"#
        let response = Self.response(
            400, #"{"error":{"message":"limit","code":80002}}"#, headers: [("X-Business-Use-Case-Usage", usage)])
        #expect(Self.instagram(response)?.failure == .rateLimited(afterSeconds: 19 * 60))
        let notBlocked = usage.replacingOccurrences(of: "19", with: "0")
        #expect(InstagramErrorClassifier.regainAccessSeconds(HTTPHeaders([("X-Business-Use-Case-Usage", notBlocked)])) == nil)
        #expect(InstagramErrorClassifier.regainAccessSeconds(HTTPHeaders([("X-Business-Use-Case-Usage", "[garbage")])) == nil)
    }

    @Test("Cloudinary statuses", arguments: [
        (400, UpstreamFailure.giveUp), (401, .credentialsInvalid), (403, .credentialsInvalid), (404, .giveUp),
        (409, .giveUp), (420, .rateLimited(afterSeconds: nil)), (423, .retry), (429, .rateLimited(afterSeconds: nil)),
        (500, .retry), (503, .retry),
    ] as [(Int, UpstreamFailure)])
    func cloudinary(status: Int, expected: UpstreamFailure) throws {
        let error = try #require(CloudinaryErrorClassifier.error(
            Self.response(status, #"{"error":{"message":"Invalid Signature cld-secret-0123456789"}}"#, headers: [("X-Request-Id", "req-1")]),
            secrets: ["cld-secret-0123456789"]))
        #expect(error.failure == expected)
        #expect(error.message.hasPrefix("Invalid Signature ") && error.message.hasSuffix(" [x-request-id req-1]"))
        #expect(!error.message.contains("cld-secret-0123456789"))
        #expect(CloudinaryErrorClassifier.error(Self.response(200, "{}"), secrets: []) == nil)
    }

    @Test("Cloudinary's Retry-After is kept for the policy")
    func cloudinaryRetryAfter() {
        let error = CloudinaryErrorClassifier.error(Self.response(429, "{}", headers: [("Retry-After", "3")]), secrets: [])
        #expect(error?.failure == .rateLimited(afterSeconds: 3))
    }

    @Test("QStash statuses", arguments: [
        (400, UpstreamFailure.giveUp), (401, .credentialsInvalid), (403, .credentialsInvalid), (404, .giveUp),
        (412, .giveUp), (429, .rateLimited(afterSeconds: nil)), (500, .retry), (502, .retry),
    ] as [(Int, UpstreamFailure)])
    func qstash(status: Int, expected: UpstreamFailure) throws {
        let error = try #require(QStashErrorClassifier.error(
            Self.response(status, #"{"error":"token qstash-secret is not valid"}"#), token: "qstash-secret", now: 1_000))
        #expect(error.failure == expected)
        #expect(!error.message.contains("qstash-secret"))
        #expect(QStashErrorClassifier.error(Self.response(201, "{}"), token: "t", now: 0) == nil)
    }

    @Test("QStash 429: Retry-After, else the burst or daily reset (a unix time)")
    func qstashRateLimitHeaders() {
        func wait(_ headers: [(String, String)]) -> UpstreamFailure? {
            QStashErrorClassifier.error(Self.response(429, #"{"error":"rate limit"}"#, headers: headers), token: "t", now: 1_000)?.failure
        }
        #expect(wait([("Retry-After", "7")]) == .rateLimited(afterSeconds: 7))
        #expect(wait([("Burst-RateLimit-Reset", "1004")]) == .rateLimited(afterSeconds: 4))
        #expect(wait([("RateLimit-Limit", "500"), ("RateLimit-Remaining", "0"), ("RateLimit-Reset", "4600")])
            == .rateLimited(afterSeconds: 3600))
        #expect(wait([("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")]) == .rateLimited(afterSeconds: nil))
    }

    @Test("transport failures: timeouts and connection failures retry, an oversized answer does not")
    func transport() {
        func failure(_ error: TransportError) -> UpstreamFailure {
            TransportErrorClassifier.error(error, service: "x", timeoutMilliseconds: 10).failure
        }
        #expect(failure(.timeout) == .retry)
        #expect(failure(.connectionFailed("refused")) == .retry)
        #expect(failure(.failed("TLS")) == .retry)
        #expect(failure(.responseTooLarge) == .giveUp)
    }
}
