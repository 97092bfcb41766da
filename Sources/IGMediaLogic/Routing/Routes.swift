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

        public init() {}
    }

    /// The body limit of `/sync` and `/sync/process/…`: their bodies are a secret or a tenant id,
    /// and an unauthenticated body should cost no more than that to parse. nginx's
    /// `client_max_body_size` on those locations is the same.
    public static let syncBodyLimit = 4096

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
        return routes
    }
}
