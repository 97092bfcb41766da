/// Which CDN assets a feed needs, and how they compare with what is already mirrored.
struct MirrorPlan {
    /// Asset key (`{resourceType}:{publicId}`) → the upload that would create it.
    let desired: [String: MirrorUpload]
    /// Keys already mirrored and still needed, with their CDN URLs.
    let kept: [String: String]
    /// Uploads to run, in feed order.
    let uploads: [MirrorUpload]
    /// Keys mirrored before whose media are gone.
    let removed: [String]

    static func key(resourceType: String, publicID: String) -> String { "\(resourceType):\(publicID)" }

    /// The CDN public id of one media or carousel child.
    static func publicID(tenantID: String, mediaID: String) -> String { "instagram-media/\(tenantID)/\(mediaID)" }

    init(tenantID: String, media: [InstagramMedia], existing: [String: String]) {
        var desired: [String: MirrorUpload] = [:]
        var order: [String] = []
        let tags = [tenantID, "instagram-media"]
        func want(_ mediaID: String, _ resourceType: String, _ source: String?) {
            guard let source, !source.isEmpty else { return }
            let publicID = Self.publicID(tenantID: tenantID, mediaID: mediaID)
            let key = Self.key(resourceType: resourceType, publicID: publicID)
            guard desired[key] == nil else { return }
            desired[key] = MirrorUpload(publicID: publicID, resourceType: resourceType, sourceURL: source, tags: tags)
            order.append(key)
        }
        for item in media {
            switch item.mediaType {
            case "VIDEO":
                want(item.id, "video", item.mediaURL)
                want(item.id, "image", item.thumbnailURL)
            case "CAROUSEL_ALBUM" where !item.children.isEmpty:
                // The album's own media_url is its first child's (an mp4 when that child is a
                // video): the cover is taken from the mirrored first child instead.
                break
            default:
                want(item.id, "image", item.mediaURL)
            }
            for child in item.children {
                if child.mediaType == "VIDEO" {
                    want(child.id, "video", child.mediaURL)
                    want(child.id, "image", child.thumbnailURL)
                } else {
                    want(child.id, "image", child.mediaURL)
                }
            }
        }
        self.desired = desired
        self.kept = existing.filter { desired[$0.key] != nil }
        self.uploads = order.filter { existing[$0] == nil }.compactMap { desired[$0] }
        self.removed = existing.keys.filter { desired[$0] == nil }.sorted()
    }
}
