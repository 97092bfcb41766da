import Logging

/// `POST /register`: creates a tenant and its auth token.
public struct RegisterHandler: RequestHandler {
    let repository: TenantRepository
    let registrationSecret: String?
    let clock: any Clock
    let logger: Logger
    /// Syncs a tenant registered with an access token right away, for a real photosCount.
    let syncEngine: SyncEngine?
    /// Asked once for a Facebook Login token's expiry (`debug_token`).
    let instagram: (any InstagramAPI)?

    public init(
        repository: TenantRepository, registrationSecret: String?, clock: any Clock = SystemClock(), logger: Logger,
        syncEngine: SyncEngine? = nil, instagram: (any InstagramAPI)? = nil
    ) {
        self.instagram = instagram
        self.repository = repository
        self.registrationSecret = registrationSecret
        self.clock = clock
        self.logger = logger
        self.syncEngine = syncEngine
    }

    public func handle(_ request: Request) throws -> Response {
        if let registrationSecret {
            guard let presented = request.bearerToken, ConstantTime.equals(presented, registrationSecret) else {
                throw HTTPError.unauthorized("A valid registration secret is required")
            }
        }
        let body = try RegisterRequest.decode(request)
        let now = ISO8601.format(clock.now())
        var tenant = Tenant(
            id: UUIDv4.make(), name: body.name, authToken: UUIDv4.make(), apiType: body.apiType,
            instagramAccountID: body.instagramAccountID, instagramAccountSecret: body.instagramAccountSecret,
            instagramAccessToken: body.instagramAccessToken, instagramAppID: body.instagramAppID,
            tokenUpdate: body.instagramAccessToken == nil ? nil : now, createdAt: now)
        let managementToken = ManagementToken.make()
        tenant.managementTokenHash = ManagementToken.hash(managementToken)
        let inspection = inspect(tenant)
        tenant.health.tokenExpiresAt = inspection?.expiresAt
        try repository.create(tenant)
        if let userID = inspection?.userID, userID != tenant.instagramAccountID {
            // Best effort, like the check itself: the tenant exists either way.
            try? repository.indexMetaUser(userID, tenantID: tenant.id, previousIndex: nil)
        }
        logger.info("tenant registered", metadata: ["tenant": "\(tenant.id)", "request": "\(request.requestID)"])
        var photosCount = 0
        var note: String?
        if tenant.instagramAccessToken != nil, let syncEngine {
            // The tenant exists either way; a failed first sync is reported, not fatal.
            do {
                photosCount = try syncEngine.sync(tenantID: tenant.id).photosCount
            } catch {
                note = "Registered, but the first sync failed: \(error). It is retried on the next scheduled sync."
            }
        }
        var data: [(String, JSONValue)] = [
            ("authToken", .string(tenant.authToken)),
            ("managementToken", .string(managementToken)),
            ("photosCount", .int(photosCount)),
            ("tenantId", .string(tenant.id)),
        ]
        if let note { data.append(("note", .string(note))) }
        return Envelope.success(.object(data), status: .created)
    }

    /// A Facebook Login token's expiry and user from `debug_token` (one call); Instagram Login
    /// tokens are recorded as unknown until their first refresh says. A failed check is not fatal
    /// here: the first sync classifies the token.
    private func inspect(_ tenant: Tenant) -> TokenInspection? {
        guard let instagram, let token = tenant.instagramAccessToken, tenant.apiType == .facebookLogin,
            tenant.instagramAppID != nil
        else { return nil }
        do {
            return try instagram.inspectToken(
                apiType: tenant.apiType, accessToken: token, appID: tenant.instagramAppID,
                appSecret: tenant.instagramAccountSecret)
        } catch {
            logger.warning("token check at registration failed", metadata: ["error": "\(error)"])
            return nil
        }
    }
}
