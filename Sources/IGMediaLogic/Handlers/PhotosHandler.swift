/// `GET /photos`: the tenant's cached feed, straight from the store. Never calls Instagram.
///
/// Two round trips (token → tenant, then tenant + feed pipelined) and the stored JSON array is
/// spliced into the envelope as bytes.
public struct PhotosHandler: RequestHandler {
    let authenticator: TenantAuthenticator
    let repository: TenantRepository

    public init(authenticator: TenantAuthenticator, repository: TenantRepository) {
        self.authenticator = authenticator
        self.repository = repository
    }

    private static let emptyFeed: [UInt8] = Array("[]".utf8)

    public func handle(_ request: Request) throws -> Response {
        let tenantID = try authenticator.tenantID(for: request)
        let feed = try repository.readFeed(tenantID)
        guard feed.tenantExists else { throw HTTPError.notFound("Tenant not found") }
        var photos = feed.photosJSON ?? Self.emptyFeed
        if !Self.looksLikeArray(photos) {
            // Never splice something that would break the envelope.
            photos = Self.emptyFeed
        }
        return Envelope.successRaw(dataPrefix: "{\"photos\":", raw: photos, dataSuffix: "}")
    }

    static func looksLikeArray(_ bytes: [UInt8]) -> Bool {
        guard let first = bytes.first(where: { $0 > 0x20 }), let last = bytes.last(where: { $0 > 0x20 }) else { return false }
        return first == UInt8(ascii: "[") && last == UInt8(ascii: "]")
    }
}
