import Testing

@testable import IGMediaLogic

/// One row of the §4.6 table: what Instagram answers and what the client must make of it.
struct InstagramErrorCase: CustomTestStringConvertible, Sendable {
    let status: Int
    let body: String
    let kind: UpstreamError.Kind
    let code: Int?
    /// Requests sent by a media fetch with 3 attempts.
    let attempts: Int

    var testDescription: String { "HTTP \(status), code \(code.map(String.init) ?? "-") → \(kind.rawValue)" }

    static func graph(_ status: Int, _ code: Int, subcode: Int? = nil, _ kind: UpstreamError.Kind, attempts: Int = 1) -> Self {
        let sub = subcode.map { #","error_subcode":\#($0)"# } ?? ""
        let body = #"{"error":{"message":"Graph says \#(code)","type":"OAuthException","code":\#(code)\#(sub),"fbtrace_id":"AOl1gSq"}}"#
        return Self(status: status, body: body, kind: kind, code: code, attempts: attempts)
    }

    static let table: [Self] =
        [
            graph(400, 190, .auth), graph(400, 190, subcode: 460, .auth), graph(401, 190, subcode: 463, .auth),
            graph(400, 102, .auth), graph(403, 10, .auth), graph(400, 200, .auth), graph(400, 299, .auth),
            graph(400, 100, .rejected), graph(400, 100, subcode: 33, .rejected),
            graph(500, 1, .server, attempts: 3), graph(500, 2, .server, attempts: 3), graph(400, 2, .server, attempts: 3),
            graph(400, 341, .rateLimited), graph(400, 80002, .rateLimited), graph(400, 368, .rateLimited),
            // A code the table does not know falls back to the status.
            graph(400, 2500, .rejected), graph(503, 9999, .server, attempts: 3),
        ]
        + [4, 17, 32, 613].flatMap { code in [400, 403, 429].map { graph($0, code, .rateLimited) } }
        + [
            Self(status: 502, body: "<html><body><h1>502 Bad Gateway</h1></body></html>", kind: .server, code: nil, attempts: 3),
            Self(status: 429, body: "Too Many Requests", kind: .rateLimited, code: nil, attempts: 1),
            Self(status: 404, body: "Not Found", kind: .notFound, code: nil, attempts: 1),
            Self(status: 401, body: "", kind: .auth, code: nil, attempts: 1),
            Self(status: 200, body: "<html>captive portal</html>", kind: .malformed, code: nil, attempts: 1),
            Self(status: 200, body: #"{"error":{"message":"expired","code":190}}"#, kind: .auth, code: 190, attempts: 1),
            Self(
                status: 400, body: #"{"error_type":"OAuthException","code":400,"error_message":"This authorization code has been used"}"#,
                kind: .rejected, code: 400, attempts: 1),
        ]
}

@Suite("Instagram Graph client: errors")
struct InstagramGraphClientErrorTests {
    typealias Fixture = InstagramClientFixture

    @Test("classifies every error of the table and retries only transient ones", arguments: InstagramErrorCase.table)
    func classification(row: InstagramErrorCase) {
        let fixture = Fixture()
        fixture.transport.on("GET", "graph.test/", .text(row.body, status: row.status, contentType: "application/json"))
        let error = #expect(throws: UpstreamError.self) {
            try fixture.client.fetchMedia(apiType: .instagramLogin, accountID: "", accessToken: Fixture.token, limit: 10)
        }
        #expect(error?.kind == row.kind)
        #expect(error?.code == row.code)
        #expect(error?.status == row.status)
        #expect(error?.service == "instagram")
        #expect(fixture.transport.requests.count == row.attempts)
    }

    @Test("keeps Instagram's message, type, subcode and trace id")
    func message() {
        let fixture = Fixture()
        fixture.transport.on(
            "GET", "graph.test/",
            .json(
                #"{"error":{"message":"Error validating access token: The session has been invalidated because the user changed their password.","type":"OAuthException","code":190,"error_subcode":460,"fbtrace_id":"AOl1gSqZRMyPzEMw9OJXzYh"}}"#,
                status: 400))
        let error = #expect(throws: UpstreamError.self) {
            try fixture.client.fetchMedia(apiType: .instagramLogin, accountID: "", accessToken: Fixture.token, limit: 10)
        }
        #expect(
            error?.message
                == "Error validating access token: The session has been invalidated because the user changed their password. (OAuthException, subcode 460, fbtrace_id AOl1gSqZRMyPzEMw9OJXzYh)"
        )
    }

    @Test("retries timeouts, then reports a timeout")
    func timeouts() {
        let fixture = Fixture()
        fixture.transport.on("GET", "graph.test/", .failure(.timeout))
        let error = #expect(throws: UpstreamError.self) {
            try fixture.client.fetchMedia(apiType: .instagramLogin, accountID: "", accessToken: Fixture.token, limit: 10)
        }
        #expect(error?.kind == .timeout)
        #expect(error?.message == "no answer within 2500 ms")
        #expect(fixture.transport.requests.count == 3)
        #expect(fixture.transport.requests.allSatisfy { $0.target == "graph.test/v23.0/me/media" })
    }

    @Test("recovers when a retry succeeds, mid-paging too")
    func retryRecovers() throws {
        let fixture = Fixture()
        fixture.transport.on(
            "GET", "graph.test/", Fixture.page(["1"], after: "c1"), .failure(.connectionFailed("reset")),
            .json(#"{"error":{"message":"An unexpected error has occurred.","code":2,"is_transient":true}}"#, status: 500),
            Fixture.page(["2"], after: nil))
        let media = try fixture.client.fetchMedia(apiType: .instagramLogin, accountID: "", accessToken: Fixture.token, limit: 10)
        #expect(media.map(\.id) == ["1", "2"])
        #expect(fixture.transport.requests.map { $0.query("after") } == [nil, "c1", "c1", "c1"])
    }

    @Test("reports a failure on a later page without returning partial media")
    func laterPageFails() {
        let fixture = Fixture()
        fixture.transport.on(
            "GET", "graph.test/", Fixture.page(["1"], after: "c1"),
            .json(#"{"error":{"message":"Session has expired","type":"OAuthException","code":190}}"#, status: 400))
        let error = #expect(throws: UpstreamError.self) {
            try fixture.client.fetchMedia(apiType: .instagramLogin, accountID: "", accessToken: Fixture.token, limit: 10)
        }
        #expect(error?.kind == .auth)
        #expect(fixture.transport.requests.count == 2)
    }

    @Test("never puts a token, the app secret, the code or a URL query into an error")
    func redaction() {
        let code = "AQ-auth-code-1234"
        // Instagram's texts never hold these, but a hostile or buggy upstream must not leak them.
        let hostile =
            #"{"error":{"message":"bad token \#(Fixture.token) for secret \#(Fixture.appSecret) code \#(code) see https://graph.test/me?access_token=\#(Fixture.token)&x=1 now","type":"OAuthException","code":190,"fbtrace_id":"\#(Fixture.token)"}}"#
        var errors: [(UpstreamError, [String])] = []

        let refresh = Fixture()
        refresh.transport.on("GET", "fb.test/", .json(hostile, status: 400))
        do {
            _ = try refresh.client.refreshToken(apiType: .facebookLogin, accessToken: Fixture.token, appID: "1", appSecret: Fixture.appSecret)
        } catch { errors.append((error, [Fixture.token, Fixture.appSecret])) }

        let media = Fixture()
        media.transport.on("GET", "graph.test/", .json(hostile, status: 400))
        do {
            _ = try media.client.fetchMedia(apiType: .instagramLogin, accountID: "", accessToken: Fixture.token, limit: 10)
        } catch { errors.append((error, [Fixture.token])) }

        let transport = Fixture()
        transport.transport.on("GET", "graph.test/", .failure(.failed("could not send \(Fixture.token)")))
        do {
            _ = try transport.client.refreshToken(apiType: .instagramLogin, accessToken: Fixture.token, appID: nil, appSecret: "s")
        } catch { errors.append((error, [Fixture.token])) }

        let exchange = Fixture()
        exchange.transport.on("POST", "api.test/", .json(hostile, status: 400))
        do {
            _ = try exchange.client.exchangeCode(code: code, appID: "1", appSecret: Fixture.appSecret, redirectURI: "https://a.test/")
        } catch { errors.append((error, [code, Fixture.appSecret])) }

        let longExchange = Fixture()
        longExchange.transport.on("POST", "api.test/", .json(#"{"access_token":"SHORT-0123","user_id":"1"}"#))
        longExchange.transport.on("GET", "graph.test/", .json(#"{"error":{"message":"short SHORT-0123 expired","code":190}}"#, status: 400))
        do {
            _ = try longExchange.client.exchangeCode(code: code, appID: "1", appSecret: Fixture.appSecret, redirectURI: "https://a.test/")
        } catch { errors.append((error, [code, Fixture.appSecret, "SHORT-0123"])) }

        #expect(errors.count == 5)
        for (error, secrets) in errors {
            let text = String(describing: error)
            for secret in secrets { #expect(!text.contains(secret), "\(text)") }
            #expect(!text.contains("access_token="), "\(text)")
        }
        #expect(errors.first?.0.message.contains("see https://graph.test/me?[query removed] now") == true)
    }

    @Test("clips long messages")
    func clipping() {
        let text = InstagramErrorClassifier.redact(String(repeating: "é", count: 1000), secrets: [])
        #expect(text.count == InstagramErrorClassifier.maxMessageLength + 1)
        #expect(text.hasSuffix("…"))
    }

    @Test(
        "drops queries from URLs in messages",
        arguments: [
            ("see http://a.test/p?access_token=x&y=1, ok", "see http://a.test/p?[query removed] ok"),
            ("no url here?", "no url here?"),
            ("\"https://b.test/?q\" and https://c.test/path", "\"https://b.test/?[query removed]\" and https://c.test/path"),
        ])
    func dropQueries(input: String, expected: String) {
        #expect(InstagramErrorClassifier.redact(input, secrets: []) == expected)
    }
}
