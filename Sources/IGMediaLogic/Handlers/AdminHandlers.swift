import Logging

/// `/admin/*`: operators' view and repair of any tenant, behind `ADMIN_SECRET` (a Bearer
/// secret, compared in constant time; nginx also limits these paths to configured networks).
/// Without `ADMIN_SECRET` none of these routes exists (404).
public struct AdminAPI: Sendable {
    let secret: String
    let repository: TenantRepository
    let listing: TenantListing
    let deletion: TenantDeletion
    let engine: SyncEngine
    let clock: any Clock
    let expiringDays: Int
    let logger: Logger

    public init(
        secret: String, repository: TenantRepository, deletion: TenantDeletion, engine: SyncEngine, clock: any Clock,
        expiringDays: Int, logger: Logger
    ) {
        self.secret = secret
        self.repository = repository
        self.listing = TenantListing(repository: repository, expiringDays: expiringDays)
        self.deletion = deletion
        self.engine = engine
        self.clock = clock
        self.expiringDays = expiringDays
        self.logger = logger
    }

    func check(_ request: Request) throws(HTTPError) {
        guard let presented = request.bearerToken, ConstantTime.equals(presented, secret) else {
            throw HTTPError.unauthorized("A valid admin secret is required")
        }
    }

    func tenantID(_ request: Request) throws(HTTPError) -> String {
        let id = request.pathParameters["id"] ?? ""
        guard TenantAuthenticator.isWellFormed(id) else { throw HTTPError.notFound("Tenant not found") }
        return id
    }

    /// One admin route: `action` runs after the secret is checked (on the accepting thread too).
    public struct Route: RequestHandler {
        let api: AdminAPI
        let action: @Sendable (AdminAPI, Request) throws -> Response

        public func admit(_ request: Request) throws(HTTPError) { try api.check(request) }

        public func handle(_ request: Request) throws -> Response {
            try api.check(request)
            return try action(api, request)
        }
    }

    public var list: Route { Route(api: self) { api, request in try api.listTenants(request) } }
    public var show: Route {
        Route(api: self) { api, request in
            guard let view = try api.repository.view(try api.tenantID(request), now: api.clock.now(), expiringDays: api.expiringDays) else {
                throw HTTPError.notFound("Tenant not found")
            }
            return Envelope.success(.object([("tenant", view.json)]))
        }
    }
    public var delete: Route {
        Route(api: self) { api, request in DeleteTenantHandler.answer(try api.deletion.delete(try api.tenantID(request))) }
    }
    public var sync: Route { Route(api: self) { api, request in try api.syncTenant(request) } }
    public var issueManagementToken: Route {
        Route(api: self) { api, request in
            guard let tenant = try api.repository.load(try api.tenantID(request)), tenant.deletingSince == nil else {
                throw HTTPError.notFound("Tenant not found")
            }
            let token = ManagementToken.make()
            try api.repository.setManagementToken(tenant, newToken: token)
            api.logger.info("management token issued by an operator", metadata: ["tenant": "\(tenant.id)"])
            return Envelope.success(.object([("managementToken", .string(token))]))
        }
    }

    func listTenants(_ request: Request) throws -> Response {
        var state: TokenState?
        if let raw = request.queryValue("state") {
            guard let parsed = TokenState(rawValue: raw) else {
                throw HTTPError.validation("state must be one of ok, expiring, invalid, missing")
            }
            state = parsed
        }
        var limit = 100
        if let raw = request.queryValue("limit") {
            guard let parsed = Int(raw), (1...500).contains(parsed) else { throw HTTPError.validation("limit must be an integer in 1...500") }
            limit = parsed
        }
        let cursor = request.queryValue("cursor")
        if let cursor, cursor.utf8.count > 64 { throw HTTPError.validation("cursor is not one this service returned") }
        let page: TenantListing.Page
        do {
            page = try listing.page(state: state, limit: limit, cursor: cursor, now: clock.now())
        } catch is TenantListing.BadCursor {
            throw HTTPError.validation("cursor is not one this service returned")
        }
        return Envelope.success(.object([
            ("tenants", .array(page.tenants.map(\.json))),
            ("unreadable", .array(page.unreadable.map(JSONValue.string))),
            ("nextCursor", page.nextCursor.map(JSONValue.string) ?? .null),
        ]))
    }

    func syncTenant(_ request: Request) throws -> Response {
        let id = try tenantID(request)
        switch Result(catching: { () throws(SyncError) in try engine.sync(tenantID: id) }) {
        case .success(let result):
            return Envelope.success(.object([("result", result.json), ("refreshTokenResult", .string(result.refreshTokenResult.description))]))
        case .failure(let error):
            switch error {
            case .tenantNotFound: throw HTTPError.notFound("Tenant not found")
            case .locked, .tokenInvalid, .noAccessToken: throw HTTPError(.conflict, "Not synced: \(error)")
            default:
                if error.isTransient { throw HTTPError(.serviceUnavailable, "Sync failed, retry later: \(error)") }
                throw HTTPError(.conflict, "Sync failed: \(error)")
            }
        }
    }
}
