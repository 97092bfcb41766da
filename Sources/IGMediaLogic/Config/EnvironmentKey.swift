/// Every environment variable the service reads: the one place their names are spelled.
///
/// Each case documents its type, default and whether it is required; the README's configuration
/// table and `systemd/igmedia.env.example` document the same set again, and
/// `EnvironmentKeyDocumentationTests` keeps the three in step. Interpolating a key writes its
/// variable name (`"\(EnvironmentKey.port)"` is `PORT`).
public enum EnvironmentKey: String, CaseIterable, Sendable, CustomStringConvertible {
    // Secrets.

    /// Base64 of exactly 32 bytes (the AES-256-GCM key for stored credentials, a one-key ring).
    /// Required unless `encryptionKeys` is set (not both).
    case encryptionKey = "ENCRYPTION_KEY"
    /// Comma-separated `id:base64key` list (ids `[A-Za-z0-9_-]`, 32-byte keys): the first seals,
    /// all open, `v1:` values included. Optional, replaces `encryptionKey`.
    case encryptionKeys = "ENCRYPTION_KEYS"
    /// Bearer secret of `/admin/*`, at least 32 characters. Optional, default unset (admin API off: 404).
    case adminSecret = "ADMIN_SECRET"
    /// Bearer secret `GET /metrics` requires on top of nginx's network allow-list, at least 16
    /// characters. Optional, default unset (the network check alone).
    case metricsSecret = "METRICS_SECRET"
    /// Shared secret of `POST /sync`, at least 16 characters. Required.
    case syncInternalSecret = "SYNC_INTERNAL_SECRET"
    /// Bearer secret `POST /register` requires, at least 16 characters. Required unless
    /// `registrationOpen` is 1.
    case registrationSecret = "REGISTRATION_SECRET"
    /// `1`: anyone who can reach the service may register tenants (logged as a warning). Only
    /// read when `registrationSecret` is unset. Optional, default 0.
    case registrationOpen = "REGISTRATION_OPEN"

    // Storage: `redisURL`, or both Upstash keys (exactly one backend is required).

    /// `redis://[user:password@]host:port[/db]` or `unix:///path.sock`. Required unless Upstash is set.
    case redisURL = "REDIS_URL"
    /// http(s) URL of Upstash's REST API. Required with `upstashRedisRESTToken`, instead of `redisURL`.
    case upstashRedisRESTURL = "UPSTASH_REDIS_REST_URL"
    /// Upstash REST token. Required with `upstashRedisRESTURL`, instead of `redisURL`.
    case upstashRedisRESTToken = "UPSTASH_REDIS_REST_TOKEN"
    /// String prefix of every store key. Optional, default empty.
    case redisKeyPrefix = "REDIS_KEY_PREFIX"
    /// Int milliseconds bounding one store call, 50...60000. Optional, default 2000.
    case redisTimeoutMilliseconds = "REDIS_TIMEOUT_MS"

    // HTTP.

    /// Int TCP port on 127.0.0.1, 1...65535, used only when set and no socket is given (inherited,
    /// `--socket`, `--bind`). Optional, default unset: then `serve` needs a socket.
    case port = "PORT"
    /// Comma-separated IPv4 addresses libfcgi accepts FastCGI connections from on a TCP listener
    /// (libfcgi reads it itself). Required for `--bind` on a non-loopback address. Optional.
    case fcgiWebServerAddresses = "FCGI_WEB_SERVER_ADDRS"
    /// `1`: http:// (clear-text) base URLs are allowed for non-loopback hosts. Optional, default 0.
    case allowInsecureUpstream = "ALLOW_INSECURE_UPSTREAM"
    /// Int bytes, the largest request body, 1024...67108864. Optional, default 1048576.
    case maxBodyBytes = "MAX_BODY_BYTES"
    /// Int seconds a token → tenant lookup is cached in-process, 0...300 (0 = off). Optional, default 5.
    case authCacheTTLSeconds = "AUTH_CACHE_TTL_SECONDS"
    /// Int milliseconds a ready /photos answer is reused in-process, 0...60000 (0 = off, no gzip).
    /// Optional, default 1000.
    case feedCacheTTLMilliseconds = "FEED_CACHE_TTL_MS"
    /// Int MiB the ready feeds cached in-process may hold, 1...65536 (both bodies and ~160 bytes
    /// per tenant counted; least recently read evicted first). Optional, default 256.
    case feedCacheMaxMegabytes = "FEED_CACHE_MAX_MB"
    /// Int auth tokens cached in-process (about 250 bytes each), 100...10000000. Optional, default 200000.
    case authCacheMaxEntries = "AUTH_CACHE_MAX_ENTRIES"
    /// Int milliseconds between reads of the store's change stream, 0...10000 (0 = off: the caches
    /// keep entries for their TTL only). Optional, default 100 with Redis, 0 with Upstash REST.
    case cacheChangesPollMilliseconds = "CACHE_CHANGES_POLL_MS"
    /// Int seconds the in-process caches keep an entry while the change stream is followed,
    /// 1...3600. Optional, default 60.
    case cacheMaxAgeSeconds = "CACHE_MAX_AGE_SECONDS"
    /// `1`: tenants' webhook URLs may be http:// (clear text). Optional, default 0.
    case webhookAllowInsecure = "WEBHOOK_ALLOW_INSECURE"
    /// `1`: webhook deliveries may connect to loopback, private and link-local addresses (tests,
    /// an intranet). Optional, default 0.
    case webhookAllowPrivate = "WEBHOOK_ALLOW_PRIVATE"
    /// Int ms one webhook delivery attempt may take, 500...30000. Optional, default 5000.
    case webhookTimeoutMilliseconds = "WEBHOOK_TIMEOUT_MS"
    /// Int attempts per webhook event before it is given up, 1...20. Optional, default 8.
    case webhookMaxAttempts = "WEBHOOK_MAX_ATTEMPTS"
    /// Int ms before a failed webhook delivery's first retry (later ones grow), 100...600000.
    /// Optional, default 5000.
    case webhookRetryBaseMilliseconds = "WEBHOOK_RETRY_BASE_MS"
    /// Int seconds the previous signing secret is still sent after a rotation, 0...604800.
    /// Optional, default 86400.
    case webhookSecretGraceSeconds = "WEBHOOK_SECRET_GRACE_SECONDS"
    /// Int consecutive failed syncs that send `sync.failed`, 1...100. Optional, default 3.
    case webhookSyncFailedAfter = "WEBHOOK_SYNC_FAILED_AFTER"
    /// Int ms between the responder's looks for due webhook deliveries, 0...600000 (0: it sends
    /// none). Optional, default 250 (Redis) or 30000 (Upstash REST: each look is a request).
    case webhookPollMilliseconds = "WEBHOOK_POLL_MS"
    /// Int tenants a background sync run (POST /sync without QStash) syncs at once in the
    /// responder, 1...256. Optional, default 16.
    case syncParallelism = "SYNC_PARALLELISM"
    /// Int QStash deliveries of sync messages in flight at once (flow control `parallelism`),
    /// 1...1000. Optional, default 16 (the responder's outbound threads).
    case qstashFlowControlParallelism = "QSTASH_FLOW_CONTROL_PARALLELISM"
    /// Int percent of a Meta usage header (`X-App-Usage`, `X-Business-Use-Case-Usage`) at which
    /// syncs of that app / account pause, 1...100. Optional, default 90.
    case graphUsageThresholdPercent = "GRAPH_USAGE_THRESHOLD_PERCENT"
    /// Int seconds of `X-Accel-Expires` on /photos 200s, 0...60 (0 = never). Optional, default 2.
    case photosMicrocacheSeconds = "PHOTOS_MICROCACHE_SECONDS"
    /// String `Cache-Control` of GET /photos. Optional, default `private, max-age=60`.
    case photosCacheControl = "PHOTOS_CACHE_CONTROL"
    /// Int seconds a stored feed lives, 60...31536000. Optional, default 604800.
    case instagramPhotosTTLSeconds = "INSTAGRAM_PHOTOS_TTL_SECONDS"

    // Instagram.

    /// http(s) OAuth redirect URI for `POST /auth/obtain-token`. Optional, default unset.
    case redirectURI = "REDIRECT_URI"
    /// Int milliseconds bounding one Instagram call, 100...120000. Optional, default 10000.
    case instagramAPITimeoutMilliseconds = "INSTAGRAM_API_TIMEOUT_MS"
    /// Int media items a sync fetches per tenant, 1...1000. Optional, default 50.
    case instagramMediaLimit = "INSTAGRAM_MEDIA_LIMIT"
    /// Int token age in hours that triggers a refresh, 24...1440. Optional, default 24.
    case tokenRefreshAfterHours = "TOKEN_REFRESH_AFTER_HOURS"
    /// String Graph API version of the form `vNN.N`. Optional, default `v23.0`.
    case instagramGraphVersion = "INSTAGRAM_GRAPH_VERSION"
    /// http(s) base URL. Optional, default `https://api.instagram.com`.
    case instagramAPIURL = "INSTAGRAM_API_URL"
    /// http(s) base URL. Optional, default `https://graph.instagram.com`.
    case instagramGraphURL = "INSTAGRAM_GRAPH_URL"
    /// http(s) base URL. Optional, default `https://graph.facebook.com`.
    case facebookGraphURL = "FACEBOOK_GRAPH_URL"
    /// Int seconds a per-tenant sync lock lives, 5...3600. Optional, default 300.
    case syncLockTTLSeconds = "SYNC_LOCK_TTL_SECONDS"
    /// Int days before expiry a token that cannot be refreshed counts as `expiring`, 1...59. Optional, default 7.
    case tokenExpiringDays = "TOKEN_EXPIRING_DAYS"
    /// Int seconds a rotated-away auth token keeps working, 0...2592000. Optional, default 86400.
    case authTokenGraceSeconds = "AUTH_TOKEN_GRACE_SECONDS"
    /// http(s) public base URL of this service, for the data-deletion status `url`. Optional,
    /// default `webhookBaseURL` (unset: a relative path).
    case publicBaseURL = "PUBLIC_BASE_URL"

    // QStash: the token, both signing keys and the webhook base URL, all or none.

    /// String QStash token. Optional group member.
    case qstashToken = "QSTASH_TOKEN"
    /// String current webhook signing key. Optional group member.
    case qstashCurrentSigningKey = "QSTASH_CURRENT_SIGNING_KEY"
    /// String next webhook signing key. Optional group member.
    case qstashNextSigningKey = "QSTASH_NEXT_SIGNING_KEY"
    /// http(s) public base URL QStash calls back. Optional group member.
    case webhookBaseURL = "WEBHOOK_BASE_URL"
    /// http(s) QStash API base URL. Optional, default `https://qstash.upstash.io`.
    case qstashURL = "QSTASH_URL"
    /// Int seconds of clock skew allowed on webhook signatures, 0...300. Optional, default 30.
    case qstashClockToleranceSeconds = "QSTASH_CLOCK_TOLERANCE_SECONDS"

    // Cloudinary: cloud name, API key and secret, all or none.

    /// String cloud name. Optional group member.
    case cloudinaryCloudName = "CLOUDINARY_CLOUD_NAME"
    /// String API key. Optional group member.
    case cloudinaryAPIKey = "CLOUDINARY_API_KEY"
    /// String API secret. Optional group member.
    case cloudinaryAPISecret = "CLOUDINARY_API_SECRET"
    /// http(s) Cloudinary API base URL. Optional, default `https://api.cloudinary.com`.
    case cloudinaryAPIURL = "CLOUDINARY_API_URL"
    /// Int parallel uploads per tenant sync, 1...64. Optional, default 16.
    case cloudinaryConcurrency = "CLOUDINARY_CONCURRENCY"

    /// The variable's name, so messages that interpolate a key name the variable.
    public var description: String { rawValue }
}
