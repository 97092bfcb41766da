/// The Admin API's bulk deletes (reference §3.6, next-capabilities §6.6): HTTP Basic auth, one
/// call per resource type, following `next_cursor` while Cloudinary reports a partial deletion
/// (at most 1000 originals per call). Rate limits (420/429 with `X-FeatureRateLimit-Reset`) are
/// waited out by `adminPolicy`.
extension CloudinaryClient {
    /// The resource types our mirror writes.
    static let deletableResourceTypes = ["image", "video"]
    /// Calls per resource type before giving up; each deletes up to 1000 assets.
    public static let maxDeleteRounds = 100

    /// Deletes every image and video tagged `tag`; the number of assets deleted.
    @discardableResult
    public func deleteByTag(_ tag: String) throws(UpstreamError) -> Int {
        guard !tag.isEmpty else { throw rejected("delete by an empty tag") }
        var deleted = 0
        for resourceType in Self.deletableResourceTypes {
            let path = "/v1_1/\(PercentDecoding.encode(config.cloudName))/resources/\(resourceType)/tags/"
                + PercentDecoding.encode(tag)
            deleted += try pagedDelete(path, query: [], what: "\(resourceType) deletion by tag")
        }
        return deleted
    }

    /// Deletes every uploaded image and video whose public id starts with `prefix`, which must end
    /// in `/`: Cloudinary matches prefixes as plain strings (`t1` would match `t10/…`).
    @discardableResult
    public func deleteByPrefix(_ prefix: String) throws(UpstreamError) -> Int {
        guard prefix.count > 1, prefix.hasSuffix("/") else { throw rejected("delete by prefix needs a folder ending in /") }
        var deleted = 0
        for resourceType in Self.deletableResourceTypes {
            let path = "/v1_1/\(PercentDecoding.encode(config.cloudName))/resources/\(resourceType)/upload"
            deleted += try pagedDelete(path, query: [("prefix", prefix)], what: "\(resourceType) deletion by prefix")
        }
        return deleted
    }

    /// DELETE until Cloudinary says the deletion is complete; counts the `deleted` entries.
    private func pagedDelete(_ path: String, query: [(String, String)], what: String) throws(UpstreamError) -> Int {
        var cursor: String?
        var deleted = 0
        for _ in 0..<Self.maxDeleteRounds {
            let request = core.request(
                "DELETE", path, query: query + (cursor.map { [("next_cursor", $0)] } ?? []),
                headers: [("Authorization", basicAuthorization), ("Accept", "application/json")])
            let answer = try sendAdmin(request)
            if case .object(let entries)? = answer["deleted"] {
                deleted += entries.filter { $0.1.stringValue == "deleted" }.count
            }
            let next = answer["next_cursor"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            guard next != nil || answer["partial"]?.boolValue == true else { return deleted }
            cursor = next
        }
        throw UpstreamError(service: Self.service, kind: .server, message: "\(what) still partial after \(Self.maxDeleteRounds) calls")
    }

    /// One Admin API call, retried by `adminPolicy`.
    func sendAdmin(_ request: HTTPClientRequest) throws(UpstreamError) -> JSONValue {
        try adminPolicy.run { () throws(UpstreamError) -> JSONValue in try checked(try core.send(request)) }
    }
}
