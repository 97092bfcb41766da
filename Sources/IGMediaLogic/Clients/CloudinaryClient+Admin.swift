/// The Admin API's delete-by-tag (reference §3.6): HTTP Basic auth, one call per resource type,
/// following `next_cursor` while Cloudinary reports a partial deletion.
extension CloudinaryClient {
    /// The resource types our mirror writes.
    static let deletableResourceTypes = ["image", "video"]
    /// Calls per resource type before giving up; each deletes up to 1000 assets.
    public static let maxDeleteRounds = 100

    /// Deletes every image and video tagged `tag`.
    public func deleteByTag(_ tag: String) throws(UpstreamError) {
        guard !tag.isEmpty else { throw rejected("delete by an empty tag") }
        for resourceType in Self.deletableResourceTypes {
            try deleteByTag(tag, resourceType: resourceType)
        }
    }

    func deleteByTag(_ tag: String, resourceType: String) throws(UpstreamError) {
        let path = "/v1_1/\(PercentDecoding.encode(config.cloudName))/resources/\(resourceType)/tags/"
            + PercentDecoding.encode(tag)
        var cursor: String?
        for _ in 0..<Self.maxDeleteRounds {
            let request = core.request(
                "DELETE", path, query: cursor.map { [("next_cursor", $0)] } ?? [],
                headers: [("Authorization", basicAuthorization), ("Accept", "application/json")])
            let answer = try sendAdmin(request)
            let next = answer["next_cursor"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            guard next != nil || answer["partial"]?.boolValue == true else { return }
            cursor = next
        }
        throw UpstreamError(
            service: Self.service, kind: .server,
            message: "\(resourceType) deletion by tag still partial after \(Self.maxDeleteRounds) calls")
    }

    /// One Admin API call, retried by `adminPolicy`.
    func sendAdmin(_ request: HTTPClientRequest) throws(UpstreamError) -> JSONValue {
        try adminPolicy.run { () throws(UpstreamError) -> JSONValue in try checked(try core.send(request)) }
    }
}
