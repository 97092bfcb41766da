@testable import IGMediaLogic

/// The Instagram fake (`Tests/fakes/instagram.py`) used only for its CDN: it mints signed, expiring
/// `media_url` links whose bytes the Cloudinary fake fetches.
final class CDNFakeProcess: @unchecked Sendable {
    struct Media: Sendable {
        let id: String
        /// `image` or `video`, as Cloudinary names it.
        let resourceType: String
        let url: String
    }

    let fake: PythonFakeProcess

    init() throws {
        fake = try PythonFakeProcess(module: "instagram")
    }

    /// Creates an account with `images` images and `videos` videos and returns their CDN links, as a
    /// Graph `/me/media` listing hands them out.
    func media(images: Int, videos: Int) throws -> [Media] {
        let specs = Array(repeating: "IMAGE", count: images) + Array(repeating: "VIDEO", count: videos)
        let account = try fake.control("accounts", .object([
            ("media", .array(specs.map { .object([("media_type", .string($0))]) })),
        ]))
        let user = try account["ig_user_id"]?.stringValue ?? { throw TestProcessError(description: "no ig_user_id") }()
        let token = try fake.control("tokens", .object([("user", .string(user)), ("kind", .string("long"))]))["access_token"]?
            .stringValue ?? ""
        let query = APIClientCore.formEncode([
            ("fields", "id,media_type,media_url"), ("limit", "100"), ("access_token", token),
        ])
        let listing = try fake.call("GET", "/graph/v23.0/me/media?" + query)
        return (listing["data"]?.arrayValue ?? []).compactMap { item in
            guard let id = item["id"]?.idString, let url = item["media_url"]?.stringValue else { return nil }
            return Media(id: id, resourceType: item["media_type"]?.stringValue == "VIDEO" ? "video" : "image", url: url)
        }
    }

    /// Moves the fake's clock past every link's `oe=` expiry (links live 3 days by default).
    func expireLinks() throws {
        try fake.control("clock", .object([("advance", .int(4 * 86_400))]))
    }
}
