/// The one place that decides which CDN assets a post or carousel child mirrors into, and which
/// of them the feed shows: `MirrorPlan` uploads what `assets(of:)` lists, `FeedBuilder` shows
/// `shown(_:)` and `poster(_:)`, so the two can never disagree.
///
/// - IMAGE (and any type not known yet): one image.
/// - VIDEO: the video, and its poster (`thumbnail_url`) as an image of the same public id.
/// - CAROUSEL_ALBUM: each child by its own type. The album itself mirrors nothing: its
///   `media_url` is its first child's (an mp4 when that child is a video), so its cover is the
///   first child's image, or that child's poster. An album without children is an image.
enum MirrorRule {
    /// One asset of a post or child: where it lives on the CDN, and Instagram's URL for it.
    struct Asset: Equatable {
        let kind: AssetKind
        let mediaID: String
        let source: String?

        func key(tenantID: String) -> AssetKey { AssetKey(kind: kind, tenantID: tenantID, mediaID: mediaID) }
    }

    /// The media itself: the video of a VIDEO, the image of anything else.
    static func media(id: String, type: MediaType, url: String?) -> Asset {
        Asset(kind: type == .video ? .video : .image, mediaID: id, source: url)
    }

    /// A VIDEO's poster image; nil for every other type.
    static func poster(id: String, type: MediaType, thumbnailURL: String?) -> Asset? {
        type == .video ? Asset(kind: .image, mediaID: id, source: thumbnailURL) : nil
    }

    static func poster(_ item: InstagramMedia) -> Asset? {
        poster(id: item.id, type: item.mediaType, thumbnailURL: item.thumbnailURL)
    }

    static func poster(_ child: InstagramMediaChild) -> Asset? {
        poster(id: child.id, type: child.mediaType, thumbnailURL: child.thumbnailURL)
    }

    /// What the feed shows as the post's `mediaUrl`, best first: an album's cover, then the post's
    /// own media.
    static func shown(_ item: InstagramMedia) -> [Asset] {
        let own = media(id: item.id, type: item.mediaType, url: item.mediaURL)
        guard item.mediaType == .carouselAlbum, let first = item.children.first else { return [own] }
        let cover = Asset(
            kind: .image, mediaID: first.id, source: first.mediaType == .video ? first.thumbnailURL : first.mediaURL)
        return [cover, own]
    }

    static func shown(_ child: InstagramMediaChild) -> Asset {
        media(id: child.id, type: child.mediaType, url: child.mediaURL)
    }

    /// Every asset a post mirrors into, children included, in upload order.
    static func assets(of item: InstagramMedia) -> [Asset] {
        var assets: [Asset] = []
        if !(item.mediaType == .carouselAlbum && !item.children.isEmpty) {
            assets.append(media(id: item.id, type: item.mediaType, url: item.mediaURL))
            if let poster = poster(item) { assets.append(poster) }
        }
        for child in item.children {
            assets.append(shown(child))
            if let poster = poster(child) { assets.append(poster) }
        }
        return assets
    }
}
