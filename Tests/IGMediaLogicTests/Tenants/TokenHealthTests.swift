import Testing

@testable import IGMediaLogic

/// Our stable codes come from the Graph error object (code, subcode), never from message text;
/// the derived state follows next-capabilities §2.2.
@Suite("Token health: classification and derived state")
struct TokenHealthTests {
    static func graph(_ code: Int?, _ subcode: Int? = nil, kind: UpstreamError.Kind = .auth, message: String = "x") -> UpstreamError {
        UpstreamError(service: "instagram", kind: kind, status: 400, message: message, code: code, subcode: subcode)
    }

    @Test("Graph errors map to our codes", arguments: [
        (graph(190, 463), HealthErrorCode.tokenExpired),
        (graph(190, 460), .tokenRevoked),
        (graph(190, 458), .tokenRevoked),
        (graph(190, 467), .tokenRevoked),
        (graph(190, 466), .tokenRevoked),
        (graph(190), .tokenRevoked),
        (graph(102), .tokenRevoked),
        (graph(190, 459), .userActionRequired),
        (graph(190, 464), .userActionRequired),
        (graph(10), .permissionMissing),
        (graph(200), .permissionMissing),
        (graph(299), .permissionMissing),
        (graph(80002, kind: .rateLimited), .rateLimited),
        (graph(4, kind: .rateLimited), .rateLimited),
        (graph(nil, kind: .transport), .upstreamUnavailable),
        (graph(nil, kind: .timeout), .upstreamUnavailable),
        (graph(2, kind: .server), .upstreamUnavailable),
        (graph(100, kind: .rejected), .upstreamRejected),
        // An HTTP 401 without a Graph error object says nothing about the token's fate.
        (graph(nil, kind: .auth), .upstreamRejected),
    ])
    func classify(error: UpstreamError, code: HealthErrorCode) {
        #expect(HealthErrorCode.classify(error) == code)
    }

    @Test("the message text never decides: an 'expired' message with a throttle code is a rate limit")
    func messageIgnored() {
        let error = Self.graph(17, kind: .rateLimited, message: "Error validating access token: Session has expired")
        #expect(HealthErrorCode.classify(error) == .rateLimited)
        #expect(!HealthErrorCode.classify(error).invalidatesToken)
    }

    @Test("only a dead token invalidates", arguments: HealthErrorCode.allCases)
    func invalidates(code: HealthErrorCode) {
        #expect(code.invalidatesToken == (code == .tokenExpired || code == .tokenRevoked))
    }

    static let now = 1_800_000_000.0

    @Test("derived state: missing, invalid, expired, expiring only when a refresh failed or cannot work")
    func state() {
        var health = TokenHealth()
        #expect(health.state(now: Self.now, hasToken: false, apiType: .instagramLogin, expiringDays: 7) == .missing)
        #expect(health.state(now: Self.now, hasToken: true, apiType: .instagramLogin, expiringDays: 7) == .ok)
        health.tokenExpiresAt = Self.now + 3 * 86_400
        // Instagram Login refreshes itself: three days left is fine until a refresh fails.
        #expect(health.state(now: Self.now, hasToken: true, apiType: .instagramLogin, expiringDays: 7) == .ok)
        #expect(health.state(now: Self.now, hasToken: true, apiType: .facebookLogin, expiringDays: 7) == .expiring)
        #expect(health.state(now: Self.now, hasToken: true, apiType: .facebookLogin, expiringDays: 2) == .ok)
        health.refreshFailedAt = "2027-01-15T08:00:00.000Z"
        #expect(health.state(now: Self.now, hasToken: true, apiType: .instagramLogin, expiringDays: 7) == .expiring)
        health.tokenExpiresAt = Self.now - 1
        #expect(health.state(now: Self.now, hasToken: true, apiType: .instagramLogin, expiringDays: 7) == .invalid)
        health = TokenHealth(invalidReason: .tokenRevoked)
        #expect(health.state(now: Self.now, hasToken: true, apiType: .instagramLogin, expiringDays: 7) == .invalid)
    }
}
