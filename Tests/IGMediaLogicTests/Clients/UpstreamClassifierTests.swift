import Testing

@testable import IGMediaLogic

/// Cloudinary's, QStash's and curl's documented errors (reference §2.2, §3.7) → the one `UpstreamFailure`.
@Suite("Upstream error classification, every vendor")
struct UpstreamClassifierTests {
    static func response(_ status: Int, _ body: String = "", headers: [(String, String)] = []) -> HTTPClientResponse {
        HTTPClientResponse(status: status, headers: HTTPHeaders(headers), body: Array(body.utf8))
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
