/// Builds the stored feed: the seed's fields (`id`, `mediaUrl`, `caption`, `mediaType`,
/// `permalink`) plus `thumbnailUrl`, `timestamp` and carousel `children`, with CDN URLs where an
/// asset is mirrored and Instagram's URL otherwise.
struct FeedBuilder {
    let tenantID: String
    /// Asset key → CDN URL.
    let mirrored: [String: String]

    func url(_ mediaID: String, _ resourceType: String, fallback: String?) -> String? {
        let key = MirrorPlan.key(resourceType: resourceType, publicID: MirrorPlan.publicID(tenantID: tenantID, mediaID: mediaID))
        return mirrored[key] ?? fallback
    }

    func build(_ media: [InstagramMedia]) -> JSONValue {
        var items: [JSONValue] = []
        for item in media {
            let isVideo = item.mediaType == "VIDEO"
            let mediaURL = coverURL(item) ?? url(item.id, isVideo ? "video" : "image", fallback: item.mediaURL)
            let thumbnailURL = isVideo ? url(item.id, "image", fallback: item.thumbnailURL) : nil
            // A post with nothing to show (media_url withheld for copyright) is left out.
            guard let shown = mediaURL ?? thumbnailURL else { continue }
            var fields: [(String, JSONValue)] = [
                ("id", .string(item.id)),
                ("mediaUrl", .string(shown)),
                ("caption", .string(item.caption ?? "")),
                ("mediaType", .string(item.mediaType)),
                ("permalink", .string(item.permalink ?? "")),
            ]
            if let thumbnailURL { fields.append(("thumbnailUrl", .string(thumbnailURL))) }
            if let timestamp = item.timestamp { fields.append(("timestamp", .string(timestamp))) }
            if item.mediaType == "CAROUSEL_ALBUM" {
                let children: [JSONValue] = item.children.compactMap { child in
                    let childVideo = child.mediaType == "VIDEO"
                    guard let childURL = url(child.id, childVideo ? "video" : "image", fallback: child.mediaURL) else { return nil }
                    var childFields: [(String, JSONValue)] = [
                        ("id", .string(child.id)), ("mediaType", .string(child.mediaType)), ("mediaUrl", .string(childURL)),
                    ]
                    if childVideo, let poster = url(child.id, "image", fallback: child.thumbnailURL) {
                        childFields.append(("thumbnailUrl", .string(poster)))
                    }
                    return .object(childFields)
                }
                fields.append(("children", .array(children)))
            }
            items.append(.object(fields))
        }
        return .array(items)
    }

    /// An album's cover: its first child's image, or that child's poster when it is a video.
    func coverURL(_ item: InstagramMedia) -> String? {
        guard item.mediaType == "CAROUSEL_ALBUM", let first = item.children.first else { return nil }
        if first.mediaType == "VIDEO" {
            return url(first.id, "image", fallback: first.thumbnailURL)
        }
        return url(first.id, "image", fallback: first.mediaURL)
    }

    /// A strong ETag of the exact stored bytes, computed once when the feed is written.
    static func etag(_ json: [UInt8]) -> String {
        "\"" + String(Digest.hex(Digest.sha256(json)).prefix(32)) + "\""
    }
}
