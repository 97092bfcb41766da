/// The Instagram Platform as the sync engine and token endpoints use it.
public protocol InstagramAPI: Sendable {
    /// Up to `limit` newest media of the account, following paging.
    /// INSTAGRAM_LOGIN reads `me/media` on graph.instagram.com; FACEBOOK_LOGIN reads
    /// `{accountID}/media` on graph.facebook.com.
    func fetchMedia(apiType: APIType, accountID: String, accessToken: String, limit: Int) throws(UpstreamError) -> [InstagramMedia]

    /// INSTAGRAM_LOGIN: `ig_refresh_token`. FACEBOOK_LOGIN: `fb_exchange_token`, which needs the
    /// app id and secret.
    func refreshToken(apiType: APIType, accessToken: String, appID: String?, appSecret: String) throws(UpstreamError) -> InstagramToken

    /// Instagram Login: authorization code → short-lived token → long-lived token.
    func exchangeCode(code: String, appID: String, appSecret: String, redirectURI: String) throws(UpstreamError) -> InstagramToken

    /// The raw JSON text of a first small page of `me/media` (INSTAGRAM_LOGIN), for obtain-token's
    /// `testData`.
    func firstMediaPageJSON(accessToken: String, limit: Int) throws(UpstreamError) -> String

    /// One call that checks a token: FACEBOOK_LOGIN with an app id asks `debug_token` (which also
    /// gives the expiry), otherwise `me` is read. A dead token throws its Graph error (auth,
    /// code 190 with its subcode).
    func inspectToken(apiType: APIType, accessToken: String, appID: String?, appSecret: String) throws(UpstreamError) -> TokenInspection
}
