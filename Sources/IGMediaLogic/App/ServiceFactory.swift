import Logging

/// Builds the running service from configuration: the one place dependencies are wired.
public enum ServiceFactory {
    /// Everything the handlers and the sync tool share.
    public struct Services: Sendable {
        public let config: AppConfig
        public let store: any RedisStore
        public let transport: any HTTPTransport
        public let repository: TenantRepository
        public let clock: any Clock
    }

    public struct StartupError: Error, CustomStringConvertible {
        public let description: String
    }

    public static func makeServices(config: AppConfig, clock: any Clock = SystemClock()) throws -> Services {
        let transport = CurlTransport()
        let store: any RedisStore
        switch config.storage {
        case .redis(let url):
            do {
                store = try RESPStore(url: url, timeoutMilliseconds: config.redisTimeoutMilliseconds)
            } catch {
                throw StartupError(description: error.description)
            }
        case .upstash(let url, let token):
            store = UpstashRESTStore(
                baseURL: url, token: token, transport: transport, timeoutMilliseconds: config.redisTimeoutMilliseconds)
        }
        let secrets: SecretBox
        do {
            secrets = try SecretBox(key: config.encryptionKey)
        } catch {
            throw StartupError(description: "ENCRYPTION_KEY is unusable: \(error)")
        }
        let repository = TenantRepository(store: store, keys: KeySpace(prefix: config.keyPrefix), secrets: secrets)
        return Services(config: config, store: store, transport: transport, repository: repository, clock: clock)
    }

    public static func makeApplication(services: Services, logger: Logger) -> Application {
        var handlers = Routes.Handlers()
        let authenticator = TenantAuthenticator(repository: services.repository)
        handlers.register = RegisterHandler(
            repository: services.repository, registrationSecret: services.config.registrationSecret,
            clock: services.clock, logger: logger)
        handlers.photos = PhotosHandler(
            authenticator: authenticator, repository: services.repository, cacheControl: services.config.photosCacheControl)
        return Application(router: Router(routes: Routes.table(handlers)), logger: logger, clock: services.clock)
    }
}
