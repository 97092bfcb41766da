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
        guard let cache, cache.isEnabled else {
            guard let tenantID = try repository.tenantID(forAuthToken: token) else { throw HTTPError.unauthorized() }
            return tenantID
        }
        guard let found = try repository.authTokenLookup(token) else { throw HTTPError.unauthorized() }
        cache.store(found.tenantID, for: token, remainingMilliseconds: found.remainingMilliseconds)
        return found.tenantID
    }

    /// The tenant id of a management token. The auth token of a tenant gets 403 (it is public,
    /// in every embed); anything else 401.
    public func managementTenantID(for request: Request) throws -> String {
        guard let token = request.bearerToken, Self.isWellFormed(token) else { throw HTTPError.unauthorized() }
        if let tenantID = try repository.tenantID(forManagementToken: token) { return tenantID }
        if try repository.tenantID(forAuthToken: token) != nil {
            throw HTTPError(.forbidden, "This needs the tenant's management token; the auth token can only read the feed")
        }
        throw HTTPError.unauthorized()
    }

    /// The tenant of either credential (for reads such as GET /tenant).
    public func anyTenantID(for request: Request) throws -> String {
        if let token = request.bearerToken, token.hasPrefix(ManagementToken.prefix), Self.isWellFormed(token),
            let tenantID = try repository.tenantID(forManagementToken: token)
        {
            return tenantID
        }
        return try tenantID(for: request)
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
