/// Builds the stored feed: the seed's fields (`id`, `mediaUrl`, `caption`, `mediaType`,
/// `permalink`) plus `thumbnailUrl`, `timestamp` and carousel `children`, with CDN URLs where an
/// asset is mirrored and Instagram's URL otherwise. What is shown comes from `MirrorRule`.
struct FeedBuilder {
    let tenantID: String
    /// Mirrored asset → CDN URL.
    let mirrored: [AssetKey: String]

    /// The CDN URL of a mirrored asset, else Instagram's.
    func url(_ asset: MirrorRule.Asset) -> String? {
        mirrored[asset.key(tenantID: tenantID)] ?? asset.source
    }

    func build(_ media: [InstagramMedia]) -> JSONValue {
        var items: [JSONValue] = []
        for item in media {
            let mediaURL = MirrorRule.shown(item).lazy.compactMap(url).first
            let thumbnailURL = MirrorRule.poster(item).flatMap(url)
            // A post with nothing to show (media_url withheld for copyright) is left out.
            guard let shown = mediaURL ?? thumbnailURL else { continue }
            var fields: [(String, JSONValue)] = [
                ("id", .string(item.id)),
                ("mediaUrl", .string(shown)),
                ("caption", .string(item.caption ?? "")),
                ("mediaType", .string(item.mediaType.rawValue)),
                ("permalink", .string(item.permalink ?? "")),
            ]
            if let thumbnailURL { fields.append(("thumbnailUrl", .string(thumbnailURL))) }
            if let timestamp = item.timestamp { fields.append(("timestamp", .string(timestamp))) }
            if item.mediaType == .carouselAlbum {
                let children: [JSONValue] = item.children.compactMap { child in
                    guard let childURL = url(MirrorRule.shown(child)) else { return nil }
                    var childFields: [(String, JSONValue)] = [
                        ("id", .string(child.id)), ("mediaType", .string(child.mediaType.rawValue)), ("mediaUrl", .string(childURL)),
                    ]
                    if let poster = MirrorRule.poster(child).flatMap(url) {
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

    /// A strong ETag of the exact stored bytes, computed once when the feed is written.
    static func etag(_ json: [UInt8]) -> String {
        "\"" + String(Digest.hex(Digest.sha256(json)).prefix(32)) + "\""
    }
}
