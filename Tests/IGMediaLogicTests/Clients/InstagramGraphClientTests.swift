import Testing

@testable import IGMediaLogic

/// A client on scripted hosts `api.test`, `graph.test` and `fb.test`, retrying without real waits.
struct InstagramClientFixture {
    static let token = "IGAAsecretLongLivedToken123"
    static let appSecret = "app-secret-0123456789"

    let transport = ScriptedTransport()
    let client: InstagramGraphClient

    init(attempts: Int = 3) {
        let config = AppConfig.Instagram(
            apiURL: "https://api.test", graphURL: "https://graph.test/", facebookGraphURL: "https://fb.test",
            graphVersion: "v23.0", timeoutMilliseconds: 2500, mediaLimit: 100, tokenRefreshAfterHours: 24, redirectURI: nil)
        client = InstagramGraphClient(config: config, transport: transport, retryAttempts: attempts, retryBaseDelayMilliseconds: 1)
    }

    /// A media page whose items are `{"id":"<id>","media_type":"IMAGE"}`; `after` adds cursors
    /// and a `next` link on another host (which must never be followed).
    static func page(_ ids: [String], after: String?) -> ScriptedTransport.Reply {
        let data = ids.map { #"{"id":"\#($0)","media_type":"IMAGE","media_url":"https://cdn.test/\#($0).jpg"}"# }
        var paging = ""
        if let after {
            paging = #","paging":{"cursors":{"before":"B","after":"\#(after)"},"#
                + #""next":"https://evil.test/v23.0/1/media?access_token=\#(token)&after=\#(after)"}"#
        }
        return .json(#"{"data":[\#(data.joined(separator: ","))]\#(paging)}"#)
    }
}

@Suite("Instagram Graph client: media and tokens")
struct InstagramGraphClientTests {
    typealias Fixture = InstagramClientFixture

    @Test("follows paging across three pages up to the limit, against the configured host")
    func pagingUpToLimit() throws {
        let fixture = Fixture()
        fixture.transport.on(
            "GET", "graph.test/v23.0/me/media", Fixture.page(["1", "2"], after: "c1"), Fixture.page(["3", "4"], after: "c2"),
            Fixture.page(["5", "6"], after: "c3"))
        let media = try fixture.client.fetchMedia(apiType: .instagramLogin, accountID: "", accessToken: Fixture.token, limit: 5)
        #expect(media.map(\.id) == ["1", "2", "3", "4", "5"])
        let requests = fixture.transport.requests
        #expect(requests.map(\.target) == Array(repeating: "graph.test/v23.0/me/media", count: 3))
        #expect(requests.map { $0.query("after") } == [nil, "c1", "c2"])
        #expect(requests.map { $0.query("limit") } == ["5", "3", "1"])
        #expect(requests.allSatisfy { $0.query("access_token") == Fixture.token && $0.query("fields") == InstagramGraphClient.mediaFields })
    }

    @Test("stops when a cursor repeats or a page brings nothing new")
    func repeatedCursor() throws {
        let fixture = Fixture()
        fixture.transport.on("GET", "graph.test/", Fixture.page(["1", "2"], after: "same"), Fixture.page(["3", "4"], after: "same"))
        let media = try fixture.client.fetchMedia(apiType: .instagramLogin, accountID: "", accessToken: Fixture.token, limit: 100)
        #expect(media.map(\.id) == ["1", "2", "3", "4"])
        #expect(fixture.transport.requests.count == 2)

        let stuck = Fixture()
        stuck.transport.on("GET", "graph.test/", Fixture.page(["1"], after: "a"), Fixture.page(["1"], after: "b"), Fixture.page(["2"], after: nil))
        #expect(try stuck.client.fetchMedia(apiType: .instagramLogin, accountID: "", accessToken: "t", limit: 10).map(\.id) == ["1"])
        #expect(stuck.transport.requests.count == 2)
    }

    @Test("stops on a page without paging.next, and on an empty page")
    func lastPage() throws {
        let fixture = Fixture()
        fixture.transport.on(
            "GET", "graph.test/", .json(#"{"data":[{"id":"1","media_type":"IMAGE"}],"paging":{"cursors":{"after":"x"}}}"#))
        #expect(try fixture.client.fetchMedia(apiType: .instagramLogin, accountID: "", accessToken: "t", limit: 10).count == 1)

        let empty = Fixture()
        empty.transport.on("GET", "graph.test/", Fixture.page([], after: "loop"))
        #expect(try empty.client.fetchMedia(apiType: .instagramLogin, accountID: "", accessToken: "t", limit: 10).isEmpty)
        #expect(empty.transport.requests.count == 1)
    }

    @Test(
        "reads each login type's media from its own host and path",
        arguments: [
            (APIType.instagramLogin, "graph.test/v23.0/me/media"),
            (APIType.facebookLogin, "fb.test/v23.0/17841400000000001/media"),
        ])
    func hostsAndPaths(apiType: APIType, target: String) throws {
        let fixture = Fixture()
        fixture.transport.on("GET", target, Fixture.page(["9"], after: nil))
        let media = try fixture.client.fetchMedia(
            apiType: apiType, accountID: "17841400000000001", accessToken: Fixture.token, limit: 100)
        #expect(media.map(\.id) == ["9"])
        #expect(fixture.transport.requests.map(\.target) == [target])
        #expect(fixture.transport.requests.first?.query("limit") == "50")
    }

    @Test("rejects a FACEBOOK_LOGIN account id that is not plain digits", arguments: ["", "me", "1784/../x", "12?x=1", "１２"])
    func badAccountID(accountID: String) {
        let fixture = Fixture()
        let error = #expect(throws: UpstreamError.self) {
            try fixture.client.fetchMedia(apiType: .facebookLogin, accountID: accountID, accessToken: "t", limit: 10)
        }
        #expect(error?.kind == .rejected)
        #expect(fixture.transport.requests.isEmpty)
    }

    @Test("decodes carousel children, a missing caption and a missing media_url")
    func decoding() throws {
        let fixture = Fixture()
        fixture.transport.on(
            "GET", "graph.test/",
            .json(
                #"""
                {"data":[
                  {"id":"1","media_type":"CAROUSEL_ALBUM","media_url":"https:\/\/cdn.test\/a.jpg","caption":"Été ☀️",
                   "permalink":"https://www.instagram.com/p/x/","timestamp":"2024-05-01T10:00:00+0000","like_count":3,
                   "children":{"data":[{"id":"11","media_type":"IMAGE","media_url":"https://cdn.test/11.jpg"},
                                       {"id":"12","media_type":"VIDEO","media_url":"https://cdn.test/12.mp4","thumbnail_url":"https://cdn.test/12.jpg"},
                                       {"media_type":"IMAGE"}]}},
                  {"id":"2","media_type":"VIDEO","thumbnail_url":"https://cdn.test/2.jpg","timestamp":"2024-04-30T10:00:00+0000"},
                  {"media_type":"IMAGE","caption":"no id: skipped"}
                ]}
                """#))
        let media = try fixture.client.fetchMedia(apiType: .instagramLogin, accountID: "", accessToken: "t", limit: 10)
        #expect(
            media == [
                InstagramMedia(
                    id: "1", mediaType: .carouselAlbum, mediaURL: "https://cdn.test/a.jpg", permalink: "https://www.instagram.com/p/x/",
                    caption: "Été ☀️", timestamp: "2024-05-01T10:00:00+0000",
                    children: [
                        InstagramMediaChild(id: "11", mediaType: .image, mediaURL: "https://cdn.test/11.jpg"),
                        InstagramMediaChild(
                            id: "12", mediaType: .video, mediaURL: "https://cdn.test/12.mp4", thumbnailURL: "https://cdn.test/12.jpg"),
                    ]),
                InstagramMedia(id: "2", mediaType: .video, thumbnailURL: "https://cdn.test/2.jpg", timestamp: "2024-04-30T10:00:00+0000"),
            ])
    }

    @Test("keeps ids beyond 2^53 exactly, whether strings or JSON numbers")
    func bigIDs() throws {
        let fixture = Fixture()
        fixture.transport.on(
            "GET", "graph.test/",
            .json(
                #"{"data":[{"id":18150997342277977,"media_type":"CAROUSEL_ALBUM","children":{"data":[{"id":17895695668004551,"media_type":"IMAGE"}]}},"#
                    + #"{"id":"17895695668004550123","media_type":"IMAGE"}]}"#))
        let media = try fixture.client.fetchMedia(apiType: .instagramLogin, accountID: "", accessToken: "t", limit: 10)
        #expect(media.map(\.id) == ["18150997342277977", "17895695668004550123"])
        #expect(media.first?.children.map(\.id) == ["17895695668004551"])
    }

    @Test("takes the next cursor from the next link when cursors are missing")
    func cursorFromNextLink() throws {
        let fixture = Fixture()
        fixture.transport.on(
            "GET", "graph.test/",
            .json(#"{"data":[{"id":"1","media_type":"IMAGE"}],"paging":{"next":"https://x.test/me/media?limit=1&after=QVF%3D%3D"}}"#),
            Fixture.page(["2"], after: nil))
        _ = try fixture.client.fetchMedia(apiType: .instagramLogin, accountID: "", accessToken: "t", limit: 10)
        #expect(fixture.transport.requests.map { $0.query("after") } == [nil, "QVF=="])
    }

    @Test("fetches nothing for a limit of zero")
    func zeroLimit() throws {
        let fixture = Fixture()
        #expect(try fixture.client.fetchMedia(apiType: .instagramLogin, accountID: "", accessToken: "t", limit: 0).isEmpty)
        #expect(fixture.transport.requests.isEmpty)
    }

    @Test("returns the first media page as JSON without paging links")
    func testData() throws {
        let fixture = Fixture()
        fixture.transport.on(
            "GET", "graph.test/v23.0/me/media",
            .json(
                #"{"data":[{"id":18150997342277977,"caption":"a\/b"}],"paging":{"cursors":{"before":"B","after":"A"},"#
                    + #""next":"https://graph.test/v23.0/1/media?access_token=\#(Fixture.token)&after=A","previous":"https://graph.test/p?access_token=\#(Fixture.token)"}}"#
            ))
        let json = try fixture.client.firstMediaPageJSON(accessToken: Fixture.token, limit: 5)
        #expect(json == #"{"data":[{"id":18150997342277977,"caption":"a/b"}],"paging":{"cursors":{"before":"B","after":"A"}}}"#)
        #expect(!json.contains(Fixture.token))
        let request = try #require(fixture.transport.requests.first)
        #expect(request.query("fields") == InstagramGraphClient.testDataFields)
        #expect(request.query("limit") == "5")
        #expect(request.query("access_token") == Fixture.token)
    }

    @Test(
        "exchanges a code given either token response shape",
        arguments: [
            #"{"data":[{"access_token":"SHORT-TOKEN","user_id":"17841400774391234","permissions":"instagram_business_basic"}]}"#,
            #"{"access_token":"SHORT-TOKEN","user_id":17841400774391234,"permissions":["instagram_business_basic"]}"#,
        ])
    func exchangeCode(shape: String) throws {
        let fixture = Fixture()
        fixture.transport.on("POST", "api.test/oauth/access_token", .json(shape))
        fixture.transport.on("GET", "graph.test/access_token", .json(#"{"access_token":"LONG-TOKEN","token_type":"bearer","expires_in":5184000}"#))
        let token = try fixture.client.exchangeCode(
            code: "AQ-code", appID: "1234567890123456", appSecret: Fixture.appSecret, redirectURI: "https://app.test/cb?x=1")
        #expect(token == InstagramToken(accessToken: "LONG-TOKEN", expiresIn: 5_184_000, userID: "17841400774391234"))

        let requests = fixture.transport.requests
        #expect(requests.map(\.method) == ["POST", "GET"])
        let post = requests[0]
        #expect(post.headers.contains { $0.0 == "Content-Type" && $0.1 == "application/x-www-form-urlencoded" })
        #expect(post.form.map(\.0) == ["client_id", "client_secret", "grant_type", "redirect_uri", "code"])
        #expect(post.form("grant_type") == "authorization_code")
        #expect(post.form("redirect_uri") == "https://app.test/cb?x=1")
        #expect(post.form("code") == "AQ-code")
        #expect(post.query.isEmpty)
        let get = requests[1]
        #expect(get.query("grant_type") == "ig_exchange_token")
        #expect(get.query("client_secret") == Fixture.appSecret)
        #expect(get.query("access_token") == "SHORT-TOKEN")
    }

    @Test(
        "reads permissions given as CSV or as an array",
        arguments: [
            #"{"data":[{"access_token":"t","permissions":"a, b,,c"}]}"#, #"{"access_token":"t","permissions":["a","b","c"]}"#,
        ])
    func permissions(body: String) throws {
        let token = try InstagramGraphClient.shortLivedToken(JSONParser.parse(body))
        #expect(token.permissions == ["a", "b", "c"])
        #expect(token.userID == nil)
    }

    @Test("sends the code exchange once, even after a server error")
    func exchangeNotRetried() {
        let fixture = Fixture()
        fixture.transport.on("POST", "api.test/", .text("<html>oops</html>", status: 502))
        let error = #expect(throws: UpstreamError.self) {
            try fixture.client.exchangeCode(code: "c0de", appID: "1", appSecret: Fixture.appSecret, redirectURI: "https://app.test/")
        }
        #expect(error?.kind == .server)
        #expect(fixture.transport.requests.count == 1)
    }

    @Test("refreshes an INSTAGRAM_LOGIN token with ig_refresh_token on graph.instagram.com")
    func refreshInstagram() throws {
        let fixture = Fixture()
        fixture.transport.on("GET", "graph.test/refresh_access_token", .json(#"{"access_token":"NEW","token_type":"bearer","expires_in":5183828}"#))
        let token = try fixture.client.refreshToken(apiType: .instagramLogin, accessToken: Fixture.token, appID: nil, appSecret: "s")
        #expect(token == InstagramToken(accessToken: "NEW", expiresIn: 5_183_828))
        let request = try #require(fixture.transport.requests.first)
        #expect(request.query.map(\.0) == ["grant_type", "access_token"])
        #expect(request.query("grant_type") == "ig_refresh_token")
        #expect(request.query("access_token") == Fixture.token)
    }

    @Test("refreshes a FACEBOOK_LOGIN token with fb_exchange_token, expires_in optional")
    func refreshFacebook() throws {
        let fixture = Fixture()
        fixture.transport.on("GET", "fb.test/v23.0/oauth/access_token", .json(#"{"access_token":"NEW","token_type":"bearer"}"#))
        let token = try fixture.client.refreshToken(
            apiType: .facebookLogin, accessToken: Fixture.token, appID: "6543210987654321", appSecret: Fixture.appSecret)
        #expect(token == InstagramToken(accessToken: "NEW", expiresIn: nil))
        let request = try #require(fixture.transport.requests.first)
        #expect(request.query("grant_type") == "fb_exchange_token")
        #expect(request.query("client_id") == "6543210987654321")
        #expect(request.query("client_secret") == Fixture.appSecret)
        #expect(request.query("fb_exchange_token") == Fixture.token)
    }

    @Test("refuses a FACEBOOK_LOGIN refresh without an app id", arguments: [nil, ""] as [String?])
    func refreshWithoutAppID(appID: String?) {
        let fixture = Fixture()
        let error = #expect(throws: UpstreamError.self) {
            try fixture.client.refreshToken(apiType: .facebookLogin, accessToken: "t", appID: appID, appSecret: "s")
        }
        #expect(error?.kind == .rejected)
        #expect(error?.message == "FACEBOOK_LOGIN token refresh needs instagramAppId")
        #expect(fixture.transport.requests.isEmpty)
    }

    @Test("reports a token answer without access_token as malformed")
    func malformedToken() {
        let fixture = Fixture()
        fixture.transport.on("GET", "graph.test/", .json(#"{"token_type":"bearer"}"#))
        let error = #expect(throws: UpstreamError.self) {
            try fixture.client.refreshToken(apiType: .instagramLogin, accessToken: "t", appID: nil, appSecret: "s")
        }
        #expect(error?.kind == .malformed)
    }
}
