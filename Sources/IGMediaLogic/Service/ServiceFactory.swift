import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Builds the running service from configuration: the one place dependencies are wired.
public enum ServiceFactory {
    /// Everything the handlers and the sync tool share.
    public struct Services: Sendable {
        public let config: AppConfig
        public let store: any RedisStore
        public let transport: any HTTPTransport
        public let repository: TenantRepository
        public let keys: KeySpace
        public let instagram: any InstagramAPI
        public let mirror: (any MediaMirror)?
        public let clock: any Clock
        /// Meta's rate limits as this process has seen them (shared by every sync it runs).
        public let rateGate: GraphRateGate
        public let metrics: ServiceMetrics
    }

    public struct StartupError: Error, CustomStringConvertible {
        public let description: String
    }

    public static func makeServices(
        config: AppConfig, clock: any Clock = SystemClock(), metrics: ServiceMetrics = .shared
    ) throws -> Services {
        let curl = CurlTransport()
        // One transport per service, so every outbound call is counted under its service.
        func transport(_ service: String) -> any HTTPTransport { InstrumentedTransport(curl, service: service, metrics: metrics, clock: clock) }
        let store: any RedisStore
        switch config.storage {
        case .redis(let url):
            do {
                store = InstrumentedStore(
                    try RESPStore(url: url, timeoutMilliseconds: config.redisTimeoutMilliseconds, clock: clock),
                    backend: "redis", metrics: metrics, clock: clock)
            } catch {
                throw StartupError(description: error.description)
            }
        case .upstash(let url, let token):
            store = InstrumentedStore(
                UpstashRESTStore(
                    baseURL: url, token: token, transport: transport("upstash"), timeoutMilliseconds: config.redisTimeoutMilliseconds),
                backend: "upstash", metrics: metrics, clock: clock)
        }
        let secrets: SecretBox
        do {
            secrets = config.encryptionKeys.isEmpty ? try SecretBox(key: config.encryptionKey) : try SecretBox(keys: config.encryptionKeys)
        } catch {
            throw StartupError(description: "the encryption key is unusable: \(error)")
        }
        let keys = KeySpace(prefix: config.keyPrefix)
        let repository = TenantRepository(store: store, keys: keys, secrets: secrets)
        let rateGate = GraphRateGate(thresholdPercent: config.graphUsageThresholdPercent, store: store, keys: keys)
        let instagram = InstagramGraphClient(config: config.instagram, transport: transport("instagram"), rateGate: rateGate, clock: clock)
        let mirror: (any MediaMirror)? = config.cloudinary.map { CloudinaryClient(config: $0, transport: transport("cloudinary"), clock: clock) }
        return Services(
            config: config, store: store, transport: transport("qstash"), repository: repository, keys: keys, instagram: instagram,
            mirror: mirror, clock: clock, rateGate: rateGate, metrics: metrics)
    }

    /// Tenants' webhooks: configuration, events and the delivery queue, all in the store.
    public static func makeWebhooks(services: Services, logger: Logger) -> Webhooks {
        let config = services.config
        return Webhooks(
            store: services.store, keys: services.keys, secrets: services.repository.secrets, clock: services.clock, logger: logger,
            settings: Webhooks.Settings(
                policy: WebhookDestination.Policy(allowInsecure: config.webhookAllowInsecure, allowPrivate: config.webhookAllowPrivate),
                secretGraceSeconds: config.webhookSecretGraceSeconds, syncFailedAfter: config.webhookSyncFailedAfter,
                tokenExpiringDays: config.tokenExpiringDays))
    }

    /// Sends the queued deliveries (the responder runs it on its own thread): its own curl
    /// transport, checking every connected address unless WEBHOOK_ALLOW_PRIVATE=1, reading at most
    /// 4 KiB of an answer, never following a redirect.
    public static func makeWebhookDeliverer(services: Services, logger: Logger) -> WebhookDeliverer {
        let config = services.config
        let transport = InstrumentedTransport(
            CurlTransport(maxResponseBytes: 4096, truncatesResponses: true, publicAddressesOnly: !config.webhookAllowPrivate),
            service: "webhook", metrics: services.metrics, clock: services.clock)
        return WebhookDeliverer(
            webhooks: makeWebhooks(services: services, logger: logger), transport: transport,
            options: WebhookDeliverer.Options(
                timeoutMilliseconds: config.webhookTimeoutMilliseconds, maxAttempts: config.webhookMaxAttempts,
                retryBaseMilliseconds: config.webhookRetryBaseMilliseconds, pollMilliseconds: max(1, config.webhookPollMilliseconds)),
            metrics: services.metrics.webhooks)
    }

    public static func makeSyncEngine(services: Services, logger: Logger, feedCache: FeedCache? = nil) -> SyncEngine {
        let config = services.config
        var engine = SyncEngine(
            repository: services.repository, instagram: services.instagram, mirror: services.mirror,
            lock: SyncLock(store: services.store, keys: services.keys, ttlSeconds: config.syncLockTTLSeconds),
            clock: services.clock, logger: logger, mediaLimit: config.instagram.mediaLimit,
            photosTTLSeconds: config.photosTTLSeconds, tokenRefreshAfterHours: config.instagram.tokenRefreshAfterHours,
            feedCache: feedCache)
        engine.rateGate = services.rateGate
        engine.metrics = services.metrics
        engine.webhooks = makeWebhooks(services: services, logger: logger)
        return engine
    }

    public static func makeSyncRunner(services: Services, logger: Logger) -> SyncRunner {
        SyncRunner(engine: makeSyncEngine(services: services, logger: logger), logger: logger)
    }

    public static func makeApplication(services: Services, logger: Logger) -> Application {
        let config = services.config
        let followed = config.cacheChangesPollMilliseconds > 0
        let maxAge = followed ? config.cacheMaxAgeSeconds * 1000 : 0
        let feedCache = FeedCache(
            ttlMilliseconds: config.feedCacheMilliseconds, maxBytes: config.feedCacheMaxBytes, clock: services.clock,
            freshness: CacheFreshness(ttlMilliseconds: config.feedCacheMilliseconds, followedMaxAgeMilliseconds: maxAge))
        let engine = makeSyncEngine(services: services, logger: logger, feedCache: feedCache)
        let authCache = AuthTokenCache(
            ttlSeconds: config.authCacheTTLSeconds, capacity: config.authCacheMaxEntries, clock: services.clock,
            freshness: CacheFreshness(ttlMilliseconds: config.authCacheTTLSeconds * 1000, followedMaxAgeMilliseconds: maxAge))
        let follower = followed
            ? ChangeFollower(
                store: services.store, keys: services.keys, feedCache: feedCache, authCache: authCache,
                intervalMilliseconds: config.cacheChangesPollMilliseconds, clock: services.clock, logger: logger)
            : nil
        let authenticator = TenantAuthenticator(repository: services.repository, cache: authCache)
        var handlers = Routes.Handlers()
        handlers.register = RegisterHandler(
            repository: services.repository, registrationSecret: config.registrationSecret, clock: services.clock,
            logger: logger, syncEngine: engine, instagram: services.instagram)
        var deletion = TenantDeletion(
            repository: services.repository, mirror: services.mirror, clock: services.clock, logger: logger, authCache: authCache,
            feedCache: feedCache)
        let webhooks = makeWebhooks(services: services, logger: logger)
        deletion.webhooks = webhooks
        addLifecycle(
            to: &handlers, services: services, authenticator: authenticator, engine: engine, deletion: deletion, webhooks: webhooks,
            logger: logger)
        handlers.photos = PhotosHandler(
            authenticator: authenticator, repository: services.repository, cacheControl: config.photosCacheControl,
            microcacheSeconds: config.photosMicrocacheSeconds,
            feedCache: feedCache)
        handlers.obtainToken = ObtainTokenHandler(instagram: services.instagram, redirectURI: config.instagram.redirectURI)
        handlers.refreshToken = RefreshTokenHandler(
            authenticator: authenticator, repository: services.repository, instagram: services.instagram, clock: services.clock)
        let publisher = config.qstash.map {
            SyncAllHandler.Publisher(
                client: QStashClient(baseURL: $0.baseURL, token: $0.token, transport: services.transport),
                webhookBaseURL: $0.webhookBaseURL,
                flowControl: QStashClient.FlowControl(
                    key: flowControlKey(prefix: config.keyPrefix), parallelism: config.qstashFlowControlParallelism))
        }
        let runs = SyncRuns(store: services.store, keys: services.keys, clock: services.clock)
        let background = publisher == nil
            ? BackgroundSync(
                runs: runs, repository: services.repository, engine: engine, parallelism: config.syncParallelism,
                consumer: SyncRunWorker.consumerName(host: "responder", pid: getpid()), logger: logger)
            : nil
        handlers.syncAll = SyncAllHandler(
            repository: services.repository, background: background, publisher: publisher,
            secret: config.syncInternalSecret, clock: services.clock, logger: logger)
        handlers.syncRunStatus = SyncRunStatusHandler(runs: runs, secret: config.syncInternalSecret)
        if let qstash = config.qstash {
            handlers.syncProcess = SyncProcessHandler(
                verifier: QStashSignatureVerifier(
                    currentKey: qstash.currentSigningKey, nextKey: qstash.nextSigningKey,
                    clockToleranceSeconds: qstash.clockToleranceSeconds),
                webhookBaseURL: qstash.webhookBaseURL, engine: engine, store: services.store, keys: services.keys,
                clock: services.clock, logger: logger)
        }
        let metrics = services.metrics
        metrics.addRefresher { [weak feedCache, weak authCache] in metrics.caches.update(feed: feedCache, auth: authCache) }
        handlers.metrics = MetricsHandler(
            metrics: metrics, process: ProcessMetrics(),
            tenants: TenantGauges(
                registry: metrics.registry, store: services.store, keys: services.keys, clock: services.clock,
                expiringDays: config.tokenExpiringDays),
            secret: config.metricsSecret)
        var application = Application(
            router: Router(routes: Routes.table(handlers)), logger: logger, clock: services.clock, metrics: metrics)
        application.changeFollower = follower
        application.webhookDeliverer = config.webhookPollMilliseconds > 0 ? makeWebhookDeliverer(services: services, logger: logger) : nil
        return application
    }

    /// The QStash flow-control key of sync deliveries: one per key prefix (one deployment).
    static func flowControlKey(prefix: String) -> String {
        let safe = String(decoding: prefix.utf8.filter { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == UInt8(ascii: "-")
        }, as: UTF8.self)
        return safe.isEmpty ? "igmedia-sync" : "igmedia-sync-" + safe
    }

    /// The tenant, admin and Meta callback routes (issue: tenant lifecycle).
    static func addLifecycle(
        to handlers: inout Routes.Handlers, services: Services, authenticator: TenantAuthenticator, engine: SyncEngine,
        deletion: TenantDeletion, webhooks: Webhooks, logger: Logger
    ) {
        let config = services.config
        let endpoints = TenantEndpoints(
            authenticator: authenticator, repository: services.repository, clock: services.clock,
            expiringDays: config.tokenExpiringDays)
        handlers.tenant = GetTenantHandler(endpoints: endpoints)
        handlers.replaceToken = ReplaceTokenHandler(endpoints: endpoints, instagram: services.instagram, engine: engine, logger: logger)
        handlers.rotateAuthToken = RotateAuthTokenHandler(
            endpoints: endpoints, graceSeconds: config.authTokenGraceSeconds, cache: authenticator.cache, logger: logger)
        handlers.rotateManagementToken = RotateManagementTokenHandler(endpoints: endpoints, logger: logger)
        handlers.deleteTenant = DeleteTenantHandler(endpoints: endpoints, deletion: deletion)
        handlers.webhook = WebhookHandlers(endpoints: endpoints, webhooks: webhooks, logger: logger)
        if let secret = config.adminSecret {
            handlers.admin = AdminAPI(
                secret: secret, repository: services.repository, deletion: deletion, engine: engine, clock: services.clock,
                expiringDays: config.tokenExpiringDays, logger: logger)
        }
        for kind in [MetaCallbackHandler.Kind.deauthorize, .dataDeletion] {
            let handler = MetaCallbackHandler(
                kind: kind, repository: services.repository, deletion: deletion, clock: services.clock, logger: logger,
                publicBaseURL: config.publicBaseURL)
            if kind == .deauthorize { handlers.metaDeauthorize = handler } else { handlers.metaDataDeletion = handler }
        }
        handlers.dataDeletionStatus = DataDeletionStatusHandler(store: services.store, keys: services.keys)
    }
}
