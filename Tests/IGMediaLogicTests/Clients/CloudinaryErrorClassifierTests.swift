import Testing

@testable import IGMediaLogic

/// Every Cloudinary error of external-apis §3.6-3.7 and next-capabilities §6.7 → the one `UpstreamFailure`.
@Suite("CloudinaryErrorClassifier")
struct CloudinaryErrorClassifierTests {
    typealias Fixture = UpstreamClassifierFixture
    static let secret = "cld-secret-0123456789"

    @Test("statuses", arguments: [
        (400, UpstreamFailure.giveUp), (401, .credentialsInvalid), (403, .credentialsInvalid), (404, .giveUp),
        (409, .giveUp), (420, .rateLimited(afterSeconds: nil)), (423, .retry), (429, .rateLimited(afterSeconds: nil)),
        (500, .retry), (502, .retry), (503, .retry),
    ] as [(Int, UpstreamFailure)])
    func statuses(status: Int, expected: UpstreamFailure) throws {
        let error = try #require(CloudinaryErrorClassifier.error(
            Fixture.response(status, #"{"error":{"message":"Invalid Signature \#(Self.secret)"}}"#, headers: [("X-Request-Id", "req-1")]),
            secrets: [Self.secret]))
        #expect(error.failure == expected && error.status == status && error.service == "cloudinary")
        #expect(error.message == "Invalid Signature [redacted] [x-request-id req-1]")
    }

    @Test("a 2xx is no error")
    func success() {
        for status in [200, 201, 204] { #expect(CloudinaryErrorClassifier.error(Fixture.response(status, "{}"), secrets: []) == nil) }
    }

    @Test("Retry-After is kept for the policy; the Admin API's X-FeatureRateLimit-Reset date is not a wait")
    func retryAfter() {
        #expect(CloudinaryErrorClassifier.error(Fixture.response(429, "{}", headers: [("Retry-After", "3")]), secrets: [])?.failure
            == .rateLimited(afterSeconds: 3))
        let admin = Fixture.response(
            420, #"{"error":{"message":"Rate Limit Exceeded"}}"#,
            headers: [("X-FeatureRateLimit-Limit", "500"), ("X-FeatureRateLimit-Reset", "Wed, 21 Oct 2026 07:00:00 GMT")])
        #expect(CloudinaryErrorClassifier.error(admin, secrets: [])?.failure == .rateLimited(afterSeconds: nil))
    }

    @Test("without a JSON error, X-Cld-Error explains, else the content type is named")
    func xCldError() {
        let explained = Fixture.response(404, "Resource not found", headers: [("Content-Type", "text/plain"), ("X-Cld-Error", "Resource not found")])
        let error = CloudinaryErrorClassifier.error(explained, secrets: [])
        #expect(error?.message == "Resource not found" && error?.failure == .giveUp)
        let leaky = Fixture.response(401, "", headers: [("X-Cld-Error", "bad key \(Self.secret) for https://x.test/a?sig=1")])
        #expect(CloudinaryErrorClassifier.error(leaky, secrets: [Self.secret])?.message == "bad key [redacted] for https://x.test/a?[query removed]")
        let json = Fixture.response(400, #"{"error":{"message":"from the body"}}"#, headers: [("X-Cld-Error", "from the header")])
        #expect(CloudinaryErrorClassifier.error(json, secrets: [])?.message == "from the body")
        let html = Fixture.response(502, "<html>", headers: [("Content-Type", "text/html")])
        #expect(CloudinaryErrorClassifier.error(html, secrets: [])?.message == "answer is not a JSON error (text/html)")
    }
}
