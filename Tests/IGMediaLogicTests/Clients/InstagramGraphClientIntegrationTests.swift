import Testing

@testable import IGMediaLogic

/// The client over the real `CurlTransport` against the loopback Instagram fake (Tests/fakes).
@Suite("Instagram Graph client against the loopback fake")
struct InstagramGraphClientIntegrationTests {
    static let redirectURI = "https://app.test/instagram-callback"

    func client(_ fake: InstagramFakeProcess, timeoutMilliseconds: Int = 5000, attempts: Int = 3) -> InstagramGraphClient {
        InstagramGraphClient(
            config: fake.config(timeoutMilliseconds: timeoutMilliseconds), transport: CurlTransport(), retryAttempts: attempts,
            retryBaseDelayMilliseconds: 20)
    }

    @Test(
        "fetches 60 media across pages from each login type's host",
        arguments: [(APIType.instagramLogin, "/graph/v23.0/me/media"), (APIType.facebookLogin, "/facebook/v23.0/")])
    func fetchesAcrossPages(apiType: APIType, pathPrefix: String) throws {
        let fake = try InstagramFakeProcess()
        let account = try fake.createAccount(mediaCount: 70)
        let token =
            apiType == .instagramLogin
            ? try fake.mintToken(user: account.igUserID, product: "instagram")
            : try fake.mintToken(user: account.fbUserID, product: "facebook")

        let media = try client(fake).fetchMedia(apiType: apiType, accountID: account.igUserID, accessToken: token, limit: 60)

        #expect(media.map(\.id) == Array(account.mediaIDs.prefix(60)))
        #expect(media.allSatisfy { $0.timestamp?.hasSuffix("+0000") == true && $0.permalink != nil })
        let carousel = try #require(media.first { $0.mediaType == .carouselAlbum })
        #expect(carousel.children.map(\.mediaType) == [.image, .video, .image])
        #expect(carousel.children.allSatisfy { $0.mediaURL != nil })
        #expect(media.contains { $0.caption == nil })
        #expect(media.filter { $0.mediaType == .video }.allSatisfy { $0.thumbnailURL != nil })
        let paths = try fake.requestPaths(prefix: pathPrefix)
        #expect(paths.count == 2)
        #expect(paths.allSatisfy { $0.hasSuffix("/media") })
    }

    @Test("exchanges an authorization code for a long-lived token", arguments: ["data", "flat"])
    func exchangesCode(tokenStyle: String) throws {
        let fake = try InstagramFakeProcess(tokenStyle: tokenStyle)
        let account = try fake.createAccount(mediaCount: 3)
        let code = try fake.mintCode(user: account.igUserID, redirectURI: Self.redirectURI)
        let client = client(fake)

        let token = try client.exchangeCode(
            code: code, appID: InstagramFakeProcess.instagramAppID, appSecret: InstagramFakeProcess.instagramAppSecret,
            redirectURI: Self.redirectURI)

        #expect(token.userID == account.igUserID)
        #expect(token.expiresIn == 5_184_000)
        #expect(try fake.tokenInfo(token.accessToken)["kind"]?.stringValue == "long")
        #expect(try client.fetchMedia(apiType: .instagramLogin, accountID: "", accessToken: token.accessToken, limit: 10).count == 3)

        let reused = #expect(throws: UpstreamError.self) {
            try client.exchangeCode(
                code: code, appID: InstagramFakeProcess.instagramAppID, appSecret: InstagramFakeProcess.instagramAppSecret,
                redirectURI: Self.redirectURI)
        }
        #expect(reused?.kind == .rejected)
        #expect(reused?.message.hasPrefix("This authorization code has been used") == true)
        #expect(reused?.message.contains(code) == false)
    }

    @Test("refreshes an Instagram token only once it is 24 hours old")
    func refreshesInstagramToken() throws {
        let fake = try InstagramFakeProcess()
        let account = try fake.createAccount(mediaCount: 1)
        let token = try fake.mintToken(user: account.igUserID)
        let client = client(fake)

        let tooYoung = #expect(throws: UpstreamError.self) {
            try client.refreshToken(apiType: .instagramLogin, accessToken: token, appID: nil, appSecret: "unused")
        }
        #expect(tooYoung?.kind == .rejected)
        #expect(tooYoung?.code == 100)

        try fake.advanceClock(seconds: 25 * 3600)
        let refreshed = try client.refreshToken(apiType: .instagramLogin, accessToken: token, appID: nil, appSecret: "unused")
        #expect(refreshed.accessToken != token)
        #expect(refreshed.expiresIn == 5_184_000)
        #expect(try fake.tokenInfo(refreshed.accessToken)["kind"]?.stringValue == "long")
    }

    @Test("extends a Facebook token with fb_exchange_token")
    func refreshesFacebookToken() throws {
        let fake = try InstagramFakeProcess()
        let account = try fake.createAccount(mediaCount: 1)
        let token = try fake.mintToken(user: account.fbUserID, product: "facebook")
        let refreshed = try client(fake).refreshToken(
            apiType: .facebookLogin, accessToken: token, appID: InstagramFakeProcess.facebookAppID,
            appSecret: InstagramFakeProcess.facebookAppSecret)
        #expect(refreshed.accessToken != token)
        #expect(refreshed.expiresIn == 5_183_944)
    }

    @Test("reports a revoked token as an auth error without the token")
    func revokedToken() throws {
        let fake = try InstagramFakeProcess()
        let account = try fake.createAccount(mediaCount: 5)
        let token = try fake.mintToken(user: account.igUserID)
        try fake.revoke(token)
        let client = client(fake)

        let fetch = #expect(throws: UpstreamError.self) {
            try client.fetchMedia(apiType: .instagramLogin, accountID: "", accessToken: token, limit: 10)
        }
        #expect(fetch?.kind == .auth)
        #expect(fetch?.code == 190)
        let refresh = #expect(throws: UpstreamError.self) {
            try client.refreshToken(apiType: .instagramLogin, accessToken: token, appID: nil, appSecret: "unused")
        }
        #expect(refresh?.kind == .auth)
        for error in [fetch, refresh].compactMap({ $0 }) {
            #expect(!String(describing: error).contains(token))
        }
        #expect(try fake.requestPaths(prefix: "/graph/").count == 2)
    }

    @Test("returns a first page for testData without the token-bearing next link")
    func testData() throws {
        let fake = try InstagramFakeProcess()
        let account = try fake.createAccount(mediaCount: 8)
        let token = try fake.mintToken(user: account.igUserID)
        let text = try client(fake).firstMediaPageJSON(accessToken: token, limit: 5)
        let json = try JSONParser.parse(text)
        #expect(json["data"]?.arrayValue?.count == 5)
        #expect(json["paging"]?["cursors"]?["after"] != nil)
        #expect(json["paging"]?["next"] == nil)
        #expect(!text.contains(token))
    }

    @Test("gives up on a host that does not answer in time")
    func timeout() throws {
        let fake = try InstagramFakeProcess()
        let account = try fake.createAccount(mediaCount: 1)
        let token = try fake.mintToken(user: account.igUserID)
        try fake.control("POST", "faults", .object([("path_prefix", .string("/graph/")), ("delay_ms", .int(1500)), ("count", .int(-1))]))
        let error = #expect(throws: UpstreamError.self) {
            try client(fake, timeoutMilliseconds: 300, attempts: 2).fetchMedia(
                apiType: .instagramLogin, accountID: "", accessToken: token, limit: 10)
        }
        #expect(error?.kind == .timeout)
        #expect(try fake.requestPaths(prefix: "/graph/").count == 2)
    }
}
