/// One post as Instagram lists it (ids as strings: they exceed 2^53).
public struct InstagramMedia: Sendable, Equatable {
    public var id: String
    /// IMAGE, VIDEO or CAROUSEL_ALBUM.
    public var mediaType: String
    /// Absent for copyright-flagged media.
    public var mediaURL: String?
    /// The poster image of a VIDEO.
    public var thumbnailURL: String?
    public var permalink: String?
    /// nil when the post has no caption (Instagram omits the key).
    public var caption: String?
    /// As Instagram sends it, e.g. `2022-10-27T05:03:06+0000`.
    public var timestamp: String?
    public var children: [InstagramMediaChild]

    public init(
        id: String, mediaType: String, mediaURL: String? = nil, thumbnailURL: String? = nil, permalink: String? = nil,
        caption: String? = nil, timestamp: String? = nil, children: [InstagramMediaChild] = []
    ) {
        self.id = id
        self.mediaType = mediaType
        self.mediaURL = mediaURL
        self.thumbnailURL = thumbnailURL
        self.permalink = permalink
        self.caption = caption
        self.timestamp = timestamp
        self.children = children
    }
}

/// An item of a CAROUSEL_ALBUM.
public struct InstagramMediaChild: Sendable, Equatable {
    public var id: String
    public var mediaType: String
    public var mediaURL: String?
    public var thumbnailURL: String?

    public init(id: String, mediaType: String, mediaURL: String? = nil, thumbnailURL: String? = nil) {
        self.id = id
        self.mediaType = mediaType
        self.mediaURL = mediaURL
        self.thumbnailURL = thumbnailURL
    }
}

/// A long-lived token and how long it lives.
public struct InstagramToken: Sendable, Equatable {
    public var accessToken: String
    /// Seconds; nil when Instagram did not say (Facebook sometimes omits it).
    public var expiresIn: Int?
    /// The app-scoped user id, when the endpoint returns one (kept as digits).
    public var userID: String?

    public init(accessToken: String, expiresIn: Int? = nil, userID: String? = nil) {
        self.accessToken = accessToken
        self.expiresIn = expiresIn
        self.userID = userID
    }
}

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
}
