import Testing

@testable import IGMediaLogic

/// Every QStash API error of external-apis §2.2 and next-capabilities §7 → the one `UpstreamFailure`.
@Suite("QStashErrorClassifier")
struct QStashErrorClassifierTests {
    typealias Fixture = UpstreamClassifierFixture

    static func classify(_ response: HTTPClientResponse, now: Double = 1_000) -> UpstreamError? {
        QStashErrorClassifier.error(response, token: "qstash-secret", now: now)
    }

    @Test("statuses", arguments: [
        (400, UpstreamFailure.giveUp), (401, .credentialsInvalid), (403, .credentialsInvalid), (404, .giveUp),
        (412, .giveUp), (429, .rateLimited(afterSeconds: nil)), (500, .retry), (502, .retry), (503, .retry),
    ] as [(Int, UpstreamFailure)])
    func statuses(status: Int, expected: UpstreamFailure) throws {
        let error = try #require(Self.classify(Fixture.response(status, #"{"error":"token qstash-secret is not valid"}"#)))
        #expect(error.failure == expected && error.status == status && error.service == "qstash")
        #expect(error.message == "token [redacted] is not valid")
    }

    @Test("every 2xx is a success: 200 published, 201, 202 a duplicate accepted")
    func success() {
        for status in [200, 201, 202] { #expect(Self.classify(Fixture.response(status, #"{"messageId":"msg_1"}"#)) == nil) }
    }

    @Test("an answer without an error field names the status")
    func bareStatus() {
        #expect(Self.classify(Fixture.response(503, "<html>"))?.message == "HTTP 503")
    }

    @Test("429: Retry-After, else the burst or the daily reset (a unix time)")
    func rateLimitHeaders() {
        func wait(_ headers: [(String, String)]) -> UpstreamFailure? {
            Self.classify(Fixture.response(429, #"{"error":"rate limit"}"#, headers: headers))?.failure
        }
        #expect(wait([("Retry-After", "7")]) == .rateLimited(afterSeconds: 7))
        #expect(wait([("Burst-RateLimit-Limit", "100"), ("Burst-RateLimit-Remaining", "0"), ("Burst-RateLimit-Reset", "1004")])
            == .rateLimited(afterSeconds: 4))
        #expect(wait([("RateLimit-Limit", "500"), ("RateLimit-Remaining", "0"), ("RateLimit-Reset", "4600")])
            == .rateLimited(afterSeconds: 3600))
        #expect(wait([("RateLimit-Reset", "900")]) == .rateLimited(afterSeconds: 0), "a reset in the past: no wait")
        #expect(wait([("RateLimit-Reset", "999999999")]) == .rateLimited(afterSeconds: 86_400), "at most a day")
        #expect(wait([("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")]) == .rateLimited(afterSeconds: nil))
        #expect(Self.classify(Fixture.response(500, "{}", headers: [("Retry-After", "7")]))?.retryAfterSeconds == nil)
    }
}
