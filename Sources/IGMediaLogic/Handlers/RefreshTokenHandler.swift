/// `POST /auth/refresh-token`: refreshes the authenticated tenant's Instagram token.
public struct RefreshTokenHandler: RequestHandler {
    let authenticator: TenantAuthenticator
    let repository: TenantRepository
    let instagram: any InstagramAPI
    let clock: any Clock

    public init(authenticator: TenantAuthenticator, repository: TenantRepository, instagram: any InstagramAPI, clock: any Clock) {
        self.authenticator = authenticator
        self.repository = repository
        self.instagram = instagram
        self.clock = clock
    }

    public func handle(_ request: Request) throws -> Response {
        let tenantID = try authenticator.tenantID(for: request)
        guard let tenant = try repository.load(tenantID) else { throw HTTPError.notFound("Tenant not found") }
        guard let token = tenant.instagramAccessToken else {
            throw HTTPError.validation("Tenant has no Instagram access token to refresh")
        }
        let refreshed: InstagramToken
        do {
            refreshed = try instagram.refreshToken(
                apiType: tenant.apiType, accessToken: token, appID: tenant.instagramAppID, appSecret: tenant.instagramAccountSecret)
        } catch {
            // Recorded as the sync records it: a failed refresh near the end is `expiring`, a dead
            // token `invalid` (classified from the error object).
            let now = ISO8601.format(clock.now())
            try? repository.recordRefreshFailure(tenantID: tenantID, at: now)
            let code = HealthErrorCode.classify(error)
            if code.invalidatesToken {
                _ = try? repository.recordSyncError(tenantID: tenantID, message: "token refresh failed: \(error)", code: code, at: now)
            }
            if error.kind == .rejected && tenant.apiType == .facebookLogin && tenant.instagramAppID == nil {
                throw HTTPError.validation("FACEBOOK_LOGIN tokens are refreshed with the app id: register the tenant with instagramAppId")
            }
            throw HTTPError.internalError("Token refresh failed: \(error.message)")
        }
        let now = clock.now()
        try repository.updateAccessToken(
            tenantID: tenantID, token: refreshed.accessToken, at: ISO8601.format(now),
            expiresAt: refreshed.expiresIn.map { now + Double($0) })
        return Envelope.success(.object([("result", .string("success"))]))
    }
}
