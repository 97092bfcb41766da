import Logging

/// `POST /register`: creates a tenant and its auth token.
public struct RegisterHandler: RequestHandler {
    let repository: TenantRepository
    let registrationSecret: String?
    let clock: any Clock
    let logger: Logger

    public init(repository: TenantRepository, registrationSecret: String?, clock: any Clock = SystemClock(), logger: Logger) {
        self.repository = repository
        self.registrationSecret = registrationSecret
        self.clock = clock
        self.logger = logger
    }

    public func handle(_ request: Request) throws -> Response {
        if let registrationSecret {
            guard let presented = request.bearerToken, ConstantTime.equals(presented, registrationSecret) else {
                throw HTTPError.unauthorized("A valid registration secret is required")
            }
        }
        let body = try RegisterRequest.decode(request)
        let now = ISO8601.format(clock.now())
        let tenant = Tenant(
            id: UUIDv4.make(), name: body.name, authToken: UUIDv4.make(), apiType: body.apiType,
            instagramAccountID: body.instagramAccountID, instagramAccountSecret: body.instagramAccountSecret,
            instagramAccessToken: body.instagramAccessToken, instagramAppID: body.instagramAppID,
            tokenUpdate: body.instagramAccessToken == nil ? nil : now, createdAt: now)
        try repository.create(tenant)
        logger.info("tenant registered", metadata: ["tenant": "\(tenant.id)", "request": "\(request.requestID)"])
        return Envelope.success(
            .object([
                ("authToken", .string(tenant.authToken)),
                ("photosCount", .int(0)),
                ("tenantId", .string(tenant.id)),
            ]), status: .created)
    }
}
