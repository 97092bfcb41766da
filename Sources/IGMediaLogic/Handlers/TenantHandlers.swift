import Logging

/// What the tenant endpoints share: who is asking, and how to describe a tenant.
public struct TenantEndpoints: Sendable {
    let authenticator: TenantAuthenticator
    let repository: TenantRepository
    let clock: any Clock
    let expiringDays: Int

    public init(authenticator: TenantAuthenticator, repository: TenantRepository, clock: any Clock, expiringDays: Int) {
        self.authenticator = authenticator
        self.repository = repository
        self.clock = clock
        self.expiringDays = expiringDays
    }

    /// The tenant of a management token: 403 for its auth token, 404 when it is being deleted.
    func managedTenant(_ request: Request) throws -> Tenant {
        let tenantID = try authenticator.managementTenantID(for: request)
        guard let tenant = try repository.load(tenantID), tenant.deletingSince == nil else {
            throw HTTPError.notFound("Tenant not found")
        }
        return tenant
    }

    func view(_ tenantID: String) throws -> TenantView {
        guard let view = try repository.view(tenantID, now: clock.now(), expiringDays: expiringDays) else {
            throw HTTPError.notFound("Tenant not found")
        }
        return view
    }
}

/// `GET /tenant` (auth or management token): the tenant's state, never a secret.
public struct GetTenantHandler: RequestHandler {
    let endpoints: TenantEndpoints

    public init(endpoints: TenantEndpoints) { self.endpoints = endpoints }

    public func handle(_ request: Request) throws -> Response {
        let tenantID = try endpoints.authenticator.anyTenantID(for: request)
        return Envelope.success(.object([("tenant", try endpoints.view(tenantID).json)]))
    }
}

/// `POST /tenant/rotate-auth-token` (management token): a new auth token; the replaced one
/// keeps working for `AUTH_TOKEN_GRACE_SECONDS`.
public struct RotateAuthTokenHandler: RequestHandler {
    let endpoints: TenantEndpoints
    let graceSeconds: Int
    let cache: AuthTokenCache?
    let logger: Logger

    public init(endpoints: TenantEndpoints, graceSeconds: Int, cache: AuthTokenCache?, logger: Logger) {
        self.endpoints = endpoints
        self.graceSeconds = graceSeconds
        self.cache = cache
        self.logger = logger
    }

    public func handle(_ request: Request) throws -> Response {
        let tenant = try endpoints.managedTenant(request)
        let newToken = UUIDv4.make()
        try endpoints.repository.rotateAuthToken(tenant, newToken: newToken, graceSeconds: graceSeconds)
        // This process re-reads the old token's remaining grace; other processes' caches hold an
        // entry for at most AUTH_CACHE_TTL_SECONDS.
        cache?.remove(tenant.authToken)
        if let previous = tenant.previousAuthToken { cache?.remove(previous) }
        logger.info("auth token rotated", metadata: ["tenant": "\(tenant.id)", "request": "\(request.requestID)"])
        let until = graceSeconds > 0 ? JSONValue.string(ISO8601.format(endpoints.clock.now() + Double(graceSeconds))) : .null
        return Envelope.success(.object([
            ("authToken", .string(newToken)),
            ("previousTokenValidUntil", until),
        ]))
    }
}

/// `POST /tenant/rotate-management-token` (management token): a new one; the old one stops now.
public struct RotateManagementTokenHandler: RequestHandler {
    let endpoints: TenantEndpoints
    let logger: Logger

    public init(endpoints: TenantEndpoints, logger: Logger) {
        self.endpoints = endpoints
        self.logger = logger
    }

    public func handle(_ request: Request) throws -> Response {
        let tenant = try endpoints.managedTenant(request)
        let newToken = ManagementToken.make()
        try endpoints.repository.setManagementToken(tenant, newToken: newToken)
        logger.info("management token rotated", metadata: ["tenant": "\(tenant.id)", "request": "\(request.requestID)"])
        return Envelope.success(.object([("managementToken", .string(newToken))]))
    }
}

/// `DELETE /tenant` (management token): every key and every mirrored asset; a repeat after a
/// failure finishes the job.
public struct DeleteTenantHandler: RequestHandler {
    let endpoints: TenantEndpoints
    let deletion: TenantDeletion

    public init(endpoints: TenantEndpoints, deletion: TenantDeletion) {
        self.endpoints = endpoints
        self.deletion = deletion
    }

    public func handle(_ request: Request) throws -> Response {
        // A tenant half deleted still answers to its management token, so its owner can finish.
        let tenantID = try endpoints.authenticator.managementTenantID(for: request)
        return Self.answer(try deletion.delete(tenantID))
    }

    static func answer(_ counts: TenantDeletion.Counts) -> Response {
        Envelope.success(.object([("deleted", .object([("keys", .int(counts.keys)), ("assets", .int(counts.assets))]))]))
    }
}
