extension InstagramGraphClient {
    /// Everything the mirror needs, carousel items included.
    public static let mediaFields =
        "id,caption,media_type,media_url,permalink,thumbnail_url,timestamp,children{id,media_type,media_url,thumbnail_url}"
    /// The smaller field set shown as obtain-token's `testData`.
    public static let testDataFields = "id,caption,media_type,media_url,permalink,timestamp"

    public func fetchMedia(
        apiType: APIType, accountID: String, accessToken: String, limit: Int
    ) throws(UpstreamError) -> [InstagramMedia] {
        let (core, path) = try mediaEdge(apiType: apiType, accountID: accountID)
        guard limit > 0 else { return [] }
        var media: [InstagramMedia] = []
        var ids: Set<String> = []
        var cursor: String?
        var cursorsSeen: Set<String> = []
        while media.count < limit {
            var query = [
                ("fields", Self.mediaFields), ("limit", String(min(limit - media.count, Self.maxPageSize))),
                ("access_token", accessToken),
            ]
            if let cursor { query.append(("after", cursor)) }
            let page = try InstagramMediaDecoder.page(get(core, path, query: query, secrets: [accessToken], account: accountID))
            let before = media.count
            // New posts arriving between two pages shift the list; never mirror one twice.
            for item in page.media where media.count < limit && ids.insert(item.id).inserted {
                media.append(item)
            }
            // `paging.next` is never followed as a URL: it embeds the token and names a host we did
            // not configure. A repeated cursor, or a page with nothing new, could loop forever.
            guard let next = page.nextCursor, media.count > before, cursorsSeen.insert(next).inserted else { break }
            cursor = next
        }
        return media
    }

    public func firstMediaPageJSON(accessToken: String, limit: Int) throws(UpstreamError) -> String {
        let query = [
            ("fields", Self.testDataFields), ("limit", String(min(max(limit, 1), Self.maxPageSize))),
            ("access_token", accessToken),
        ]
        let json = try get(graph, "/\(graphVersion)/me/media", query: query, secrets: [accessToken])
        return JSONWriter.string(Self.removingPagingLinks(json))
    }

    /// The page without `paging.next`/`paging.previous`: both links embed the access token.
    static func removingPagingLinks(_ json: JSONValue) -> JSONValue {
        guard case .object(let members) = json else { return json }
        return .object(
            members.map { name, value in
                guard name == "paging", case .object(let paging) = value else { return (name, value) }
                return (name, .object(paging.filter { $0.0 != "next" && $0.0 != "previous" }))
            })
    }

    /// The host and path of an account's media edge. A FACEBOOK_LOGIN account id goes into the
    /// path, so it must be plain digits.
    func mediaEdge(apiType: APIType, accountID: String) throws(UpstreamError) -> (APIClientCore, String) {
        switch apiType {
        case .instagramLogin:
            return (graph, "/\(graphVersion)/me/media")
        case .facebookLogin:
            guard !accountID.isEmpty, accountID.utf8.count <= 32, accountID.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                throw Self.rejected("FACEBOOK_LOGIN needs a numeric Instagram account id")
            }
            return (facebook, "/\(graphVersion)/\(accountID)/media")
        }
    }
}
