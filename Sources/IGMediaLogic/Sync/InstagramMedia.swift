/// One post as Instagram lists it (ids as strings: they exceed 2^53).
public struct InstagramMedia: Sendable, Equatable {
    public var id: String
    public var mediaType: MediaType
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
        id: String, mediaType: MediaType, mediaURL: String? = nil, thumbnailURL: String? = nil, permalink: String? = nil,
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
    public var mediaType: MediaType
    public var mediaURL: String?
    public var thumbnailURL: String?

    public init(id: String, mediaType: MediaType, mediaURL: String? = nil, thumbnailURL: String? = nil) {
        self.id = id
        self.mediaType = mediaType
        self.mediaURL = mediaURL
        self.thumbnailURL = thumbnailURL
    }
}
