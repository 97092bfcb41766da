/// One asset to copy to the CDN from a remote URL.
public struct MirrorUpload: Sendable, Equatable {
    /// Deterministic: `instagram-media/{tenantId}/{mediaId}` (plus a suffix for posters).
    public var publicID: String
    /// `image` or `video`.
    public var resourceType: String
    /// The Instagram CDN URL Cloudinary fetches.
    public var sourceURL: String
    public var tags: [String]

    public init(publicID: String, resourceType: String, sourceURL: String, tags: [String]) {
        self.publicID = publicID
        self.resourceType = resourceType
        self.sourceURL = sourceURL
        self.tags = tags
    }
}

/// An asset as stored on the CDN.
public struct MirroredAsset: Sendable, Equatable {
    public var publicID: String
    public var resourceType: String
    public var secureURL: String

    public init(publicID: String, resourceType: String, secureURL: String) {
        self.publicID = publicID
        self.resourceType = resourceType
        self.secureURL = secureURL
    }
}

/// The CDN the feed's media are copied to (Cloudinary).
public protocol MediaMirror: Sendable {
    /// Uploads every asset, in parallel with a bound; one result per upload, in order.
    func upload(_ uploads: [MirrorUpload]) -> [Result<MirroredAsset, UpstreamError>]
    /// Destroys assets by public id; `not found` counts as success.
    func destroy(_ assets: [(publicID: String, resourceType: String)]) -> [Result<Void, UpstreamError>]
    /// Deletes every asset carrying `tag` (all resource types), following `next_cursor`; how many.
    @discardableResult
    func deleteByTag(_ tag: String) throws(UpstreamError) -> Int
    /// Deletes every asset whose public id starts with `prefix` (a folder ending in `/`, all
    /// resource types), following `next_cursor`; how many.
    @discardableResult
    func deleteByPrefix(_ prefix: String) throws(UpstreamError) -> Int
}
