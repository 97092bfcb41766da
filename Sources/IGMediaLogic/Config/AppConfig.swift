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

    public var port: Int
    public var storage: StorageBackend
    public var redisTimeoutMilliseconds: Int
    public var keyPrefix: String
    /// Raw 32-byte AES-256 key.
    public var encryptionKey: [UInt8]
    public var syncInternalSecret: String
    public var registrationSecret: String?
    public var photosTTLSeconds: Int
    public var maxBodyBytes: Int
    public var photosCacheControl: String
    /// Seconds a token → tenant lookup is cached in-process (0 = off).
    public var authCacheTTLSeconds: Int
    /// Milliseconds a ready /photos envelope (and its gzip body) is reused in-process (0 = off,
    /// and then /photos answers identity only).
    public var feedCacheMilliseconds: Int
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

        port = env.integer("PORT", default: 3000, range: 1...65535)
        photosTTLSeconds = env.integer("INSTAGRAM_PHOTOS_TTL_SECONDS", default: 604_800, range: 60...31_536_000)
        redisTimeoutMilliseconds = env.integer("REDIS_TIMEOUT_MS", default: 2000, range: 50...60_000)
        maxBodyBytes = env.integer("MAX_BODY_BYTES", default: 1_048_576, range: 1024...67_108_864)
        keyPrefix = env.raw("REDIS_KEY_PREFIX") ?? ""
        photosCacheControl = env.raw("PHOTOS_CACHE_CONTROL") ?? "private, max-age=60"
        authCacheTTLSeconds = env.integer("AUTH_CACHE_TTL_SECONDS", default: 5, range: 0...300)
        feedCacheMilliseconds = env.integer("FEED_CACHE_TTL_MS", default: 1000, range: 0...60_000)
        photosMicrocacheSeconds = env.integer("PHOTOS_MICROCACHE_SECONDS", default: 2, range: 0...60)
        syncLockTTLSeconds = env.integer("SYNC_LOCK_TTL_SECONDS", default: 300, range: 5...3600)

        // Storage: exactly one backend.
        let redisURL = env.raw("REDIS_URL")
        let upstashAny = env.isSet("UPSTASH_REDIS_REST_URL") || env.isSet("UPSTASH_REDIS_REST_TOKEN")
        if let redisURL, upstashAny {
            env.problem("REDIS_URL and UPSTASH_REDIS_REST_* are both set: choose one storage backend")
            storage = .redis(url: redisURL)
        } else if let redisURL {
            if redisURL.hasPrefix("rediss://") {
                env.problem("REDIS_URL uses rediss:// (TLS), which is not supported: use redis:// on a trusted network or unix:///path.sock")
            } else if !(redisURL.hasPrefix("redis://") || redisURL.hasPrefix("unix://")) {
                env.problem("REDIS_URL must be redis://[user:password@]host:port[/db] or unix:///path.sock")
            }
            storage = .redis(url: redisURL)
        } else if upstashAny {
            let complete = env.group("Upstash storage", ["UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN"])
            let url = env.url("UPSTASH_REDIS_REST_URL")
            storage = .upstash(url: complete ? (url ?? "") : "", token: env.raw("UPSTASH_REDIS_REST_TOKEN") ?? "")
        } else {
            env.problem("storage is not configured: set REDIS_URL, or UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN")
            storage = .redis(url: "")
        }

        // Secrets.
        let keyText = env.required("ENCRYPTION_KEY")
        encryptionKey = []
        if !keyText.isEmpty {
            if let decoded = Base64.decode(keyText), decoded.count == 32 {
                encryptionKey = decoded
            } else {
                env.problem("ENCRYPTION_KEY must be base64 of exactly 32 bytes (generate: openssl rand -base64 32)")
            }
        }
        syncInternalSecret = env.required("SYNC_INTERNAL_SECRET")
        if !syncInternalSecret.isEmpty && syncInternalSecret.utf8.count < 16 {
            env.problem("SYNC_INTERNAL_SECRET must be at least 16 characters")
        }
        registrationSecret = env.raw("REGISTRATION_SECRET")

        // QStash: all or nothing.
        let qstashNames = ["QSTASH_TOKEN", "QSTASH_CURRENT_SIGNING_KEY", "QSTASH_NEXT_SIGNING_KEY", "WEBHOOK_BASE_URL"]
        let qstashURL = env.url("QSTASH_URL", default: "https://qstash.upstash.io") ?? "https://qstash.upstash.io"
        let webhookBase = env.url("WEBHOOK_BASE_URL")
        let tolerance = env.integer("QSTASH_CLOCK_TOLERANCE_SECONDS", default: 30, range: 0...300)
        if env.group("QStash", qstashNames), let webhookBase {
            qstash = QStash(
                baseURL: qstashURL, token: env.raw("QSTASH_TOKEN") ?? "",
                currentSigningKey: env.raw("QSTASH_CURRENT_SIGNING_KEY") ?? "",
                nextSigningKey: env.raw("QSTASH_NEXT_SIGNING_KEY") ?? "",
                webhookBaseURL: webhookBase, clockToleranceSeconds: tolerance)
        } else {
            qstash = nil
        }

        // Cloudinary: all or nothing.
        let cloudinaryURL = env.url("CLOUDINARY_API_URL", default: "https://api.cloudinary.com") ?? "https://api.cloudinary.com"
        let concurrency = env.integer("CLOUDINARY_CONCURRENCY", default: 16, range: 1...64)
        if env.group("Cloudinary", ["CLOUDINARY_CLOUD_NAME", "CLOUDINARY_API_KEY", "CLOUDINARY_API_SECRET"]) {
            cloudinary = Cloudinary(
                apiURL: cloudinaryURL, cloudName: env.raw("CLOUDINARY_CLOUD_NAME") ?? "",
                apiKey: env.raw("CLOUDINARY_API_KEY") ?? "", apiSecret: env.raw("CLOUDINARY_API_SECRET") ?? "",
                concurrency: concurrency)
        } else {
            cloudinary = nil
        }

        // Instagram.
        let version = env.raw("INSTAGRAM_GRAPH_VERSION") ?? Self.defaultGraphVersion
        if !Self.isGraphVersion(version) {
            env.problem("INSTAGRAM_GRAPH_VERSION must look like v23.0")
        }
        instagram = Instagram(
            apiURL: env.url("INSTAGRAM_API_URL", default: "https://api.instagram.com") ?? "https://api.instagram.com",
            graphURL: env.url("INSTAGRAM_GRAPH_URL", default: "https://graph.instagram.com") ?? "https://graph.instagram.com",
            facebookGraphURL: env.url("FACEBOOK_GRAPH_URL", default: "https://graph.facebook.com") ?? "https://graph.facebook.com",
            graphVersion: version,
            timeoutMilliseconds: env.integer("INSTAGRAM_API_TIMEOUT_MS", default: 10_000, range: 100...120_000),
            mediaLimit: env.integer("INSTAGRAM_MEDIA_LIMIT", default: 50, range: 1...1000),
            tokenRefreshAfterHours: env.integer("TOKEN_REFRESH_AFTER_HOURS", default: 24, range: 24...1440),
            redirectURI: env.url("REDIRECT_URI"))

        guard env.problems.isEmpty else { throw ConfigurationError(problems: env.problems) }

        if qstash == nil {
            warnings.append("QStash is not configured: POST /sync runs the sync directly and POST /sync/process/:tenantId is disabled")
        }
        if cloudinary == nil {
            warnings.append("Cloudinary is not configured: feeds serve Instagram's own media URLs")
        }
        if registrationSecret == nil {
            warnings.append("REGISTRATION_SECRET is not set: POST /register is open to anyone who can reach it")
        }
    }

    static func isGraphVersion(_ text: String) -> Bool {
        guard text.first == "v" else { return false }
        let parts = text.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }
}
