/// The whole service configuration, read from environment variables.
///
/// Every variable is documented in the README's configuration table and in
/// `systemd/igmedia.env.example`. `init(environment:)` reports every problem at once.
public struct AppConfig: Sendable {
    /// Where tenants and feeds live: native Redis (self-hosted) or Upstash's REST API.
    public enum StorageBackend: Sendable, Equatable {
        case redis(url: String)
        case upstash(url: String, token: String)
    }

    public struct QStash: Sendable, Equatable {
        public var baseURL: String
        public var token: String
        public var currentSigningKey: String
        public var nextSigningKey: String
        public var webhookBaseURL: String
        public var clockToleranceSeconds: Int
    }

    public struct Cloudinary: Sendable, Equatable {
        public var apiURL: String
        public var cloudName: String
        public var apiKey: String
        public var apiSecret: String
        public var concurrency: Int
    }

    public struct Instagram: Sendable, Equatable {
        public var apiURL: String
        public var graphURL: String
        public var facebookGraphURL: String
        public var graphVersion: String
        public var timeoutMilliseconds: Int
        public var mediaLimit: Int
        public var tokenRefreshAfterHours: Int
        public var redirectURI: String?
    }

    /// The TCP port `serve` listens on when it has no socket; nil unless `PORT` is set.
    public var port: Int?
    /// libfcgi's allow-list of TCP clients (`FCGI_WEB_SERVER_ADDRS`), as given.
    public var fcgiWebServerAddresses: [String]
    public var storage: StorageBackend
    public var redisTimeoutMilliseconds: Int
    public var keyPrefix: String
    /// Raw 32-byte AES-256 key of `ENCRYPTION_KEY` (empty when `ENCRYPTION_KEYS` is used).
    public var encryptionKey: [UInt8]
    /// The key ring of `ENCRYPTION_KEYS`; empty when `ENCRYPTION_KEY` is used.
    public var encryptionKeys: [SecretBox.Key] = []
    /// `/admin/*` bearer secret; nil = the admin API answers 404.
    public var adminSecret: String?
    /// Bearer secret of `GET /metrics` (nil: nginx's network allow-list alone).
    public var metricsSecret: String?
    public var tokenExpiringDays: Int
    public var authTokenGraceSeconds: Int
    /// Base of the data-deletion status URL; nil = relative.
    public var publicBaseURL: String?
    public var syncInternalSecret: String
    /// nil only with `REGISTRATION_OPEN=1`.
    public var registrationSecret: String?
    public var photosTTLSeconds: Int
    public var maxBodyBytes: Int
    public var photosCacheControl: String
    /// Seconds a token → tenant lookup is cached in-process (0 = off).
    public var authCacheTTLSeconds: Int
    /// Milliseconds a ready /photos envelope (and its gzip body) is reused in-process (0 = off,
    /// and then /photos answers identity only).
    public var feedCacheMilliseconds: Int
    /// Tenants a background sync run syncs at once in the responder.
    public var syncParallelism: Int
    /// QStash deliveries of sync messages in flight at once.
    public var qstashFlowControlParallelism: Int
    /// Meta usage percent at which syncs pause.
    public var graphUsageThresholdPercent: Int
    /// Bytes the in-process feed cache may hold.
    public var feedCacheMaxBytes: Int
    /// Auth tokens the in-process cache may hold.
    public var authCacheMaxEntries: Int
    /// Milliseconds between change-stream polls (0 = not followed).
    public var cacheChangesPollMilliseconds: Int
    /// Seconds cached entries live while the change stream is followed.
    public var cacheMaxAgeSeconds: Int
    public var webhookAllowInsecure: Bool
    public var webhookAllowPrivate: Bool
    public var webhookTimeoutMilliseconds: Int
    public var webhookMaxAttempts: Int
    public var webhookRetryBaseMilliseconds: Int
    public var webhookSecretGraceSeconds: Int
    public var webhookSyncFailedAfter: Int
    /// How often the responder looks for due webhook deliveries (0: it sends none).
    public var webhookPollMilliseconds: Int
    /// `X-Accel-Expires` on GET /photos 200s, for nginx's optional microcache (0 = off).
    public var photosMicrocacheSeconds: Int
    /// How long a sync may hold its per-tenant lock before it expires on its own.
    public var syncLockTTLSeconds: Int
    public var qstash: QStash?
    public var cloudinary: Cloudinary?
    public var instagram: Instagram

    /// Non-fatal notes for the startup log (features turned off, open registration).
    public private(set) var warnings: [String] = []

    public static let defaultGraphVersion = "v23.0"

    public init(environment: [String: String]) throws(ConfigurationError) {
        var env = EnvironmentReader(environment)

        port = env.isSet(.port) ? env.integer(.port, default: 3000, range: 1...65535) : nil
        fcgiWebServerAddresses = env.raw(.fcgiWebServerAddresses).map(Self.addressList) ?? []
        if env.isSet(.fcgiWebServerAddresses), fcgiWebServerAddresses.isEmpty || !fcgiWebServerAddresses.allSatisfy { EnvironmentReader.isIPv4(Substring($0)) } {
            env.problem("\(EnvironmentKey.fcgiWebServerAddresses) must be comma-separated IPv4 addresses")
        }
        env.insecureUpstreamAllowed = env.flag(.allowInsecureUpstream)
        photosTTLSeconds = env.integer(.instagramPhotosTTLSeconds, default: 604_800, range: 60...31_536_000)
        redisTimeoutMilliseconds = env.integer(.redisTimeoutMilliseconds, default: 2000, range: 50...60_000)
        maxBodyBytes = env.integer(.maxBodyBytes, default: 1_048_576, range: 1024...67_108_864)
        keyPrefix = env.raw(.redisKeyPrefix) ?? ""
        photosCacheControl = env.raw(.photosCacheControl) ?? "private, max-age=60"
        authCacheTTLSeconds = env.integer(.authCacheTTLSeconds, default: 5, range: 0...300)
        feedCacheMilliseconds = env.integer(.feedCacheTTLMilliseconds, default: 1000, range: 0...60_000)
        photosMicrocacheSeconds = env.integer(.photosMicrocacheSeconds, default: 2, range: 0...60)
        syncParallelism = env.integer(.syncParallelism, default: 16, range: 1...256)
        qstashFlowControlParallelism = env.integer(.qstashFlowControlParallelism, default: 16, range: 1...1000)
        graphUsageThresholdPercent = env.integer(.graphUsageThresholdPercent, default: 90, range: 1...100)
        feedCacheMaxBytes = env.integer(.feedCacheMaxMegabytes, default: 256, range: 1...65_536) << 20
        authCacheMaxEntries = env.integer(.authCacheMaxEntries, default: 200_000, range: 100...10_000_000)
        cacheMaxAgeSeconds = env.integer(.cacheMaxAgeSeconds, default: 60, range: 1...3600)
        webhookAllowInsecure = env.flag(.webhookAllowInsecure)
        webhookAllowPrivate = env.flag(.webhookAllowPrivate)
        webhookTimeoutMilliseconds = env.integer(.webhookTimeoutMilliseconds, default: 5000, range: 500...30_000)
        webhookMaxAttempts = env.integer(.webhookMaxAttempts, default: 8, range: 1...20)
        webhookRetryBaseMilliseconds = env.integer(.webhookRetryBaseMilliseconds, default: 5000, range: 100...600_000)
        webhookSecretGraceSeconds = env.integer(.webhookSecretGraceSeconds, default: 86_400, range: 0...604_800)
        webhookSyncFailedAfter = env.integer(.webhookSyncFailedAfter, default: 3, range: 1...100)
        // Each poll is one store call: with Upstash REST a billed request, so rarely by default.
        webhookPollMilliseconds = env.isSet(.webhookPollMilliseconds)
            ? env.integer(.webhookPollMilliseconds, default: 250, range: 0...600_000)
            : (env.isSet(.upstashRedisRESTURL) ? 30_000 : 250)
        cacheChangesPollMilliseconds = env.isSet(.cacheChangesPollMilliseconds)
            ? env.integer(.cacheChangesPollMilliseconds, default: 100, range: 0...10_000)
            : (env.isSet(.upstashRedisRESTURL) ? 0 : 100)
        syncLockTTLSeconds = env.integer(.syncLockTTLSeconds, default: 300, range: 5...3600)

        // Storage: exactly one backend.
        let redisURL = env.raw(.redisURL)
        let upstashAny = env.isSet(.upstashRedisRESTURL) || env.isSet(.upstashRedisRESTToken)
        if let redisURL, upstashAny {
            env.problem("\(EnvironmentKey.redisURL) and \(EnvironmentKey.upstashRedisRESTURL)/\(EnvironmentKey.upstashRedisRESTToken) are both set: choose one storage backend")
            storage = .redis(url: redisURL)
        } else if let redisURL {
            if redisURL.hasPrefix("rediss://") {
                env.problem("\(EnvironmentKey.redisURL) uses rediss:// (TLS), which is not supported: use redis:// on a trusted network or unix:///path.sock")
            } else if !(redisURL.hasPrefix("redis://") || redisURL.hasPrefix("unix://")) {
                env.problem("\(EnvironmentKey.redisURL) must be redis://[user:password@]host:port[/db] or unix:///path.sock")
            }
            storage = .redis(url: redisURL)
        } else if upstashAny {
            let complete = env.group("Upstash storage", [.upstashRedisRESTURL, .upstashRedisRESTToken])
            let url: String? = env.upstreamURL(.upstashRedisRESTURL, default: "")
            storage = .upstash(url: complete ? (url ?? "") : "", token: env.raw(.upstashRedisRESTToken) ?? "")
        } else {
            env.problem("storage is not configured: set \(EnvironmentKey.redisURL), or \(EnvironmentKey.upstashRedisRESTURL) and \(EnvironmentKey.upstashRedisRESTToken)")
            storage = .redis(url: "")
        }

        // Secrets.
        tokenExpiringDays = env.integer(.tokenExpiringDays, default: 7, range: 1...59)
        authTokenGraceSeconds = env.integer(.authTokenGraceSeconds, default: 86_400, range: 0...2_592_000)
        adminSecret = env.raw(.adminSecret)
        metricsSecret = env.raw(.metricsSecret)
        if let metricsSecret, metricsSecret.utf8.count < 16 {
            env.problem("\(EnvironmentKey.metricsSecret) must be at least 16 characters (or unset: nginx's network allow-list alone)")
        }
        if let adminSecret, adminSecret.utf8.count < 32 {
            env.problem("\(EnvironmentKey.adminSecret) must be at least 32 characters (or unset to turn the admin API off)")
        }
        encryptionKey = []
        if let ringText = env.raw(.encryptionKeys) {
            if env.isSet(.encryptionKey) {
                env.problem("\(EnvironmentKey.encryptionKey) and \(EnvironmentKey.encryptionKeys) are both set: list every key in \(EnvironmentKey.encryptionKeys)")
            }
            switch Self.keyRing(ringText) {
            case .success(let ring): encryptionKeys = ring
            case .failure(let problem): env.problem(problem.message)
            }
        }
        let keyText = encryptionKeys.isEmpty && !env.isSet(.encryptionKeys) ? env.required(.encryptionKey) : ""
        if !keyText.isEmpty {
            if let decoded = Base64.decode(keyText), decoded.count == 32 {
                encryptionKey = decoded
            } else {
                env.problem("\(EnvironmentKey.encryptionKey) must be base64 of exactly 32 bytes (generate: openssl rand -base64 32)")
            }
        }
        syncInternalSecret = env.required(.syncInternalSecret)
        if !syncInternalSecret.isEmpty && syncInternalSecret.utf8.count < 16 {
            env.problem("\(EnvironmentKey.syncInternalSecret) must be at least 16 characters")
        }
        // Registration is closed unless chosen open: every tenant costs store space and an hourly sync.
        registrationSecret = env.raw(.registrationSecret)
        let registrationOpen = env.flag(.registrationOpen)
        if let secret = registrationSecret, secret.utf8.count < 16 {
            env.problem("\(EnvironmentKey.registrationSecret) must be at least 16 characters")
        } else if registrationSecret == nil && !registrationOpen {
            env.problem(
                "\(EnvironmentKey.registrationSecret) is required (at least 16 characters), or set \(EnvironmentKey.registrationOpen)=1 to let anyone register")
        }

        // QStash: all or nothing.
        let qstashNames = [EnvironmentKey.qstashToken, .qstashCurrentSigningKey, .qstashNextSigningKey, .webhookBaseURL]
        let qstashURL = env.upstreamURL(.qstashURL, default: "https://qstash.upstash.io")
        let webhookBase = env.url(.webhookBaseURL)
        publicBaseURL = env.url(.publicBaseURL) ?? webhookBase
        let tolerance = env.integer(.qstashClockToleranceSeconds, default: 30, range: 0...300)
        if env.group("QStash", qstashNames), let webhookBase {
            qstash = QStash(
                baseURL: qstashURL, token: env.raw(.qstashToken) ?? "",
                currentSigningKey: env.raw(.qstashCurrentSigningKey) ?? "",
                nextSigningKey: env.raw(.qstashNextSigningKey) ?? "",
                webhookBaseURL: webhookBase, clockToleranceSeconds: tolerance)
        } else {
            qstash = nil
        }

        // Cloudinary: all or nothing.
        let cloudinaryURL = env.upstreamURL(.cloudinaryAPIURL, default: "https://api.cloudinary.com")
        let concurrency = env.integer(.cloudinaryConcurrency, default: 16, range: 1...64)
        if env.group("Cloudinary", [.cloudinaryCloudName, .cloudinaryAPIKey, .cloudinaryAPISecret]) {
            cloudinary = Cloudinary(
                apiURL: cloudinaryURL, cloudName: env.raw(.cloudinaryCloudName) ?? "",
                apiKey: env.raw(.cloudinaryAPIKey) ?? "", apiSecret: env.raw(.cloudinaryAPISecret) ?? "",
                concurrency: concurrency)
        } else {
            cloudinary = nil
        }

        // Instagram.
        let version = env.raw(.instagramGraphVersion) ?? Self.defaultGraphVersion
        if !Self.isGraphVersion(version) {
            env.problem("\(EnvironmentKey.instagramGraphVersion) must look like v23.0")
        }
        instagram = Instagram(
            apiURL: env.upstreamURL(.instagramAPIURL, default: "https://api.instagram.com"),
            graphURL: env.upstreamURL(.instagramGraphURL, default: "https://graph.instagram.com"),
            facebookGraphURL: env.upstreamURL(.facebookGraphURL, default: "https://graph.facebook.com"),
            graphVersion: version,
            timeoutMilliseconds: env.integer(.instagramAPITimeoutMilliseconds, default: 10_000, range: 100...120_000),
            mediaLimit: env.integer(.instagramMediaLimit, default: 50, range: 1...1000),
            tokenRefreshAfterHours: env.integer(.tokenRefreshAfterHours, default: 24, range: 24...1440),
            redirectURI: env.url(.redirectURI))

        guard env.problems.isEmpty else { throw ConfigurationError(problems: env.problems) }

        if qstash == nil {
            warnings.append("QStash is not configured: POST /sync runs the sync directly and POST /sync/process/:tenantId is disabled")
        }
        if cloudinary == nil {
            warnings.append("Cloudinary is not configured: feeds serve Instagram's own media URLs")
        }
        if registrationSecret == nil {
            warnings.append("\(EnvironmentKey.registrationOpen)=1: POST /register is open to anyone who can reach it")
        } else if registrationOpen {
            warnings.append("\(EnvironmentKey.registrationOpen) is ignored: \(EnvironmentKey.registrationSecret) is set, so POST /register requires it")
        }
        if env.insecureUpstreamAllowed {
            warnings.append("\(EnvironmentKey.allowInsecureUpstream)=1: http:// base URLs send tokens and secrets in clear text")
        }
    }

    static func addressList(_ text: String) -> [String] {
        text.split(separator: ",").map { String($0).trimmingCharacters(in: " \t") }.filter { !$0.isEmpty }
    }

    static func isGraphVersion(_ text: String) -> Bool {
        guard text.first == "v" else { return false }
        let parts = text.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }
}
