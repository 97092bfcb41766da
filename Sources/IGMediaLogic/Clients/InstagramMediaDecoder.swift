/// Reads Graph media pages leniently (reference §4.4): ids as strings or JSON numbers (digits
/// kept, never through `Double`), missing `caption`/`media_url` allowed, unknown keys ignored,
/// carousel items under `children.data`.
enum InstagramMediaDecoder {
    /// One decoded page: its media and the cursor to ask for the next one (nil on the last page).
    struct Page: Sendable, Equatable {
        var media: [InstagramMedia]
        var nextCursor: String?
    }

    /// `{"data":[…],"paging":{…}}`. Items without a usable `id` are skipped; a missing
    /// `media_type` becomes an empty string so the caller can decide.
    static func page(_ json: JSONValue) throws(UpstreamError) -> Page {
        guard case .object = json else { throw malformed("media page is not a JSON object") }
        guard let data = json["data"] else {
            // An empty account may come back without `data` at all.
            return Page(media: [], nextCursor: nil)
        }
        guard let items = data.arrayValue else { throw malformed("media page `data` is not an array") }
        return Page(media: items.compactMap(media), nextCursor: nextCursor(json["paging"]))
    }

    /// One item of `data`, or nil without a usable `id`.
    static func media(_ json: JSONValue) -> InstagramMedia? {
        guard let id = json["id"]?.idString, !id.isEmpty else { return nil }
        let children = json["children"]?["data"]?.arrayValue?.compactMap(child) ?? []
        return InstagramMedia(
            id: id, mediaType: MediaType(text(json["media_type"]) ?? ""), mediaURL: text(json["media_url"]),
            thumbnailURL: text(json["thumbnail_url"]), permalink: text(json["permalink"]), caption: text(json["caption"]),
            timestamp: text(json["timestamp"]), children: children)
    }

    /// One item of `children.data`, or nil without a usable `id`.
    static func child(_ json: JSONValue) -> InstagramMediaChild? {
        guard let id = json["id"]?.idString, !id.isEmpty else { return nil }
        return InstagramMediaChild(
            id: id, mediaType: MediaType(text(json["media_type"]) ?? ""), mediaURL: text(json["media_url"]),
            thumbnailURL: text(json["thumbnail_url"]))
    }

    /// The `after` cursor, only when `paging.next` says there is more. Prefers
    /// `paging.cursors.after`; falls back to the `after` parameter of the `next` link. The link
    /// itself is never followed: it names another host and embeds the token.
    static func nextCursor(_ paging: JSONValue?) -> String? {
        guard let paging, let next = paging["next"]?.stringValue, !next.isEmpty else { return nil }
        if let after = paging["cursors"]?["after"]?.stringValue, !after.isEmpty { return after }
        return queryValue("after", in: next)
    }

    static func queryValue(_ name: String, in url: String) -> String? {
        guard let question = url.firstIndex(of: "?") else { return nil }
        var query = url[url.index(after: question)...]
        if let hash = query.firstIndex(of: "#") { query = query[..<hash] }
        guard let pairs = try? PercentDecoding.decodeQuery(String(query)) else { return nil }
        return pairs.last(where: { $0.0 == name }).map(\.1).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A string member; empty strings count as absent (Instagram omits empty captions).
    private static func text(_ value: JSONValue?) -> String? {
        guard let string = value?.stringValue, !string.isEmpty else { return nil }
        return string
    }

    private static func malformed(_ message: String) -> UpstreamError {
        UpstreamError(service: InstagramErrorClassifier.service, kind: .malformed, status: 200, message: message)
    }
}
