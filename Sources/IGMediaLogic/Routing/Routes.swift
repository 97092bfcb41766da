/// The one table where the service's paths appear.
public enum Routes {
    /// The handlers the table wires up.
    public struct Handlers: Sendable {
        public var health: any RequestHandler = HealthHandler()
        public var instagramCallback: any RequestHandler = InstagramCallbackHandler()

        public init() {}
    }

    public static func table(_ handlers: Handlers) -> [Route] {
        [
            Route("GET", "/health", handlers.health),
            Route("GET", "/instagram-callback", handlers.instagramCallback),
        ]
    }
}
