/// The one table where the service's paths appear.
public enum Routes {
    /// The handlers the table wires up; nil ones are not routed (their path answers 404).
    public struct Handlers: Sendable {
        public var health: any RequestHandler = HealthHandler()
        public var instagramCallback: any RequestHandler = InstagramCallbackHandler()
        public var register: (any RequestHandler)?
        public var photos: (any RequestHandler)?
        public var obtainToken: (any RequestHandler)?
        public var refreshToken: (any RequestHandler)?
        public var syncAll: (any RequestHandler)?
        public var syncProcess: (any RequestHandler)?
        public var syncRunStatus: (any RequestHandler)?
        public var tenant: (any RequestHandler)?
        public var replaceToken: (any RequestHandler)?
        public var rotateAuthToken: (any RequestHandler)?
        public var rotateManagementToken: (any RequestHandler)?
        public var deleteTenant: (any RequestHandler)?
        public var admin: AdminAPI?
        public var metaDeauthorize: (any RequestHandler)?
        public var metaDataDeletion: (any RequestHandler)?
        public var dataDeletionStatus: (any RequestHandler)?
        public var metrics: (any RequestHandler)?
        public var webhook: WebhookHandlers?

        public init() {}
    }

    /// The body limit of `/sync` and `/sync/process/…`: their bodies are a secret or a tenant id,
    /// and an unauthenticated body should cost no more than that to parse. nginx's
    /// `client_max_body_size` on those locations is the same.
    public static let syncBodyLimit = 4096
    /// Meta's callbacks carry one `signed_request` (a few hundred bytes); token bodies one token.
    public static let smallBodyLimit = 8192

    /// Outbound routes call Instagram, Cloudinary or QStash while the client waits (see `Lane`);
    /// /register does when it is given a token (its first sync).
    public static func table(_ handlers: Handlers) -> [Route] {
        var routes = [
            Route("GET", "/health", handlers.health),
            Route("GET", "/instagram-callback", handlers.instagramCallback),
        ]
        if let register = handlers.register { routes.append(Route("POST", "/register", register, lane: .outbound)) }
        if let photos = handlers.photos { routes.append(Route("GET", "/photos", photos)) }
        if let obtainToken = handlers.obtainToken { routes.append(Route("POST", "/auth/obtain-token", obtainToken, lane: .outbound)) }
        if let refreshToken = handlers.refreshToken { routes.append(Route("POST", "/auth/refresh-token", refreshToken, lane: .outbound)) }
        if let syncAll = handlers.syncAll { routes.append(Route("POST", "/sync", syncAll, lane: .outbound, maxBodyBytes: syncBodyLimit)) }
        if let syncProcess = handlers.syncProcess { routes.append(Route("POST", "/sync/process/:tenantId", syncProcess, lane: .outbound, maxBodyBytes: syncBodyLimit)) }
        if let handler = handlers.syncRunStatus { routes.append(Route("GET", "/sync/runs/:id", handler)) }
        if let tenant = handlers.tenant { routes.append(Route("GET", "/tenant", tenant)) }
        if let handler = handlers.replaceToken {
            routes.append(Route("PUT", "/tenant/instagram-token", handler, lane: .outbound, maxBodyBytes: smallBodyLimit))
        }
        if let handler = handlers.rotateAuthToken { routes.append(Route("POST", "/tenant/rotate-auth-token", handler)) }
        if let handler = handlers.rotateManagementToken { routes.append(Route("POST", "/tenant/rotate-management-token", handler)) }
        if let handler = handlers.deleteTenant { routes.append(Route("DELETE", "/tenant", handler, lane: .outbound)) }
        if let webhook = handlers.webhook {
            routes += [
                Route("PUT", "/tenant/webhook", webhook.put, maxBodyBytes: smallBodyLimit),
                Route("GET", "/tenant/webhook", webhook.get),
                Route("DELETE", "/tenant/webhook", webhook.delete),
                Route("POST", "/tenant/webhook/rotate-secret", webhook.rotateSecret),
                Route("GET", "/tenant/webhook/deliveries", webhook.deliveries),
            ]
        }
        if let admin = handlers.admin {
            routes += [
                Route("GET", "/admin/tenants", admin.list),
                Route("GET", "/admin/tenants/:id", admin.show),
                Route("DELETE", "/admin/tenants/:id", admin.delete, lane: .outbound),
                Route("POST", "/admin/tenants/:id/sync", admin.sync, lane: .outbound),
                Route("POST", "/admin/tenants/:id/management-token", admin.issueManagementToken),
            ]
        }
        if let handler = handlers.metaDeauthorize {
            routes.append(Route("POST", "/meta/deauthorize", handler, lane: .outbound, maxBodyBytes: smallBodyLimit))
        }
        if let handler = handlers.metaDataDeletion {
            routes.append(Route("POST", "/meta/data-deletion", handler, lane: .outbound, maxBodyBytes: smallBodyLimit))
        }
        if let handler = handlers.dataDeletionStatus { routes.append(Route("GET", "/meta/data-deletion/:code", handler)) }
        if let handler = handlers.metrics { routes.append(Route("GET", "/metrics", handler)) }
        return routes
    }
}
