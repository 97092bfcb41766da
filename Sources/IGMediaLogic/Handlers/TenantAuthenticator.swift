/// Resolves `Authorization: Bearer <authToken>` to a tenant id.
public struct TenantAuthenticator: Sendable {
    let repository: TenantRepository
    let cache: AuthTokenCache?

    public init(repository: TenantRepository, cache: AuthTokenCache? = nil) {
        self.repository = repository
        self.cache = cache
    }

    /// The tenant id of the request's bearer token; 401 when missing, malformed or unknown.
    public func tenantID(for request: Request) throws -> String {
        guard let token = request.bearerToken, Self.isWellFormed(token) else {
            throw HTTPError.unauthorized()
        }
        if let cached = cache?.tenantID(for: token) { return cached }
        guard let tenantID = try repository.tenantID(forAuthToken: token) else {
            throw HTTPError.unauthorized()
        }
        cache?.store(tenantID, for: token)
        return tenantID
    }

    /// Auth tokens are UUIDs; anything outside a conservative alphabet never reaches the store.
    static func isWellFormed(_ token: String) -> Bool {
        (8...128).contains(token.utf8.count)
            && token.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
            }
    }
}
