import Logging

/// Tenants' webhooks: the configuration (`PUT /tenant/webhook`), the events the service emits
/// (`feed.updated`, `token.expiring`, `token.invalid`, `sync.failed`, `tenant.deleted`) and the
/// delivery queue kept in the store (`webhooks:due`), so a restart loses no event.
///
/// Emitting costs the caller one store round trip (the tenant's webhook hash) and never waits on
/// the tenant's endpoint: `WebhookDeliverer` sends from its own threads.
public struct Webhooks: Sendable {
    public enum Event: String, CaseIterable, Sendable {
        case feedUpdated = "feed.updated"
        case tokenExpiring = "token.expiring"
        case tokenInvalid = "token.invalid"
        case syncFailed = "sync.failed"
        case tenantDeleted = "tenant.deleted"
    }

    public struct Config: Sendable {
        public var url: String
        public var events: [Event]
        public var createdAt: String
        public var secrets: [String]
        public var previousSecretExpiresAt: Double?
    }

    public struct Settings: Sendable {
        public var policy: WebhookDestination.Policy
        public var secretGraceSeconds: Int
        public var syncFailedAfter: Int
        /// `token.expiring` once a token expires within this many days (TOKEN_EXPIRING_DAYS).
        public var tokenExpiringDays: Int

        public init(policy: WebhookDestination.Policy, secretGraceSeconds: Int = 86_400, syncFailedAfter: Int = 3, tokenExpiringDays: Int = 7) {
            self.policy = policy
            self.secretGraceSeconds = secretGraceSeconds
            self.syncFailedAfter = syncFailedAfter
            self.tokenExpiringDays = tokenExpiringDays
        }
    }

    static let secretField = "webhook_secret"
    static let previousSecretField = "webhook_previous_secret"
    /// The sealed copy of the signing secrets a delivery carries (for `tenant.deleted`).
    static let deliverySecretsField = "webhook_delivery_secrets"
    public static let historyLength = 50
    /// Finished deliveries are kept this long (for `GET /tenant/webhook/deliveries`).
    static let keepSeconds = 7 * 86_400

    let store: any RedisStore
    let keys: KeySpace
    let secrets: SecretBox
    let clock: any Clock
    let logger: Logger
    public let settings: Settings

    public init(store: any RedisStore, keys: KeySpace, secrets: SecretBox, clock: any Clock, logger: Logger, settings: Settings) {
        self.store = store
        self.keys = keys
        self.secrets = secrets
        self.clock = clock
        self.logger = logger
        self.settings = settings
    }

    // MARK: - Configuration

    /// The tenant's webhook, with its signing secrets (the current one first; the previous one
    /// while its grace lasts), or nil.
    public func config(_ tenantID: String) throws(StoreError) -> Config? {
        let hash = try store.run(RedisCommand("HGETALL", RedisArgument(keys.webhook(tenantID)))).hashValue ?? [:]
        return decode(hash, tenantID: tenantID)
    }

    func decode(_ hash: [String: String], tenantID: String) -> Config? {
        guard let url = hash["url"], !url.isEmpty else { return nil }
        let events = (hash["events"] ?? "").split(separator: ",").compactMap { Event(rawValue: String($0)) }
        var signing: [String] = []
        if let sealed = hash[Self.secretField], let secret = try? secrets.open(sealed, tenantID: tenantID, field: Self.secretField) {
            signing.append(secret)
        }
        let until = Double(hash["previous_until"] ?? "")
        if let until, until > clock.now(), let sealed = hash[Self.previousSecretField],
            let previous = try? secrets.open(sealed, tenantID: tenantID, field: Self.previousSecretField)
        {
            signing.append(previous)
        }
        return Config(
            url: url, events: events, createdAt: hash["created_at"] ?? "", secrets: signing,
            previousSecretExpiresAt: (until ?? 0) > clock.now() ? until : nil)
    }

    /// Sets the URL and events; a new webhook gets a new secret, returned once.
    public func put(_ tenantID: String, url: WebhookDestination, events: [Event]) throws(StoreError) -> (created: Bool, secret: String?) {
        let key = keys.webhook(tenantID)
        let eventList = events.map(\.rawValue).joined(separator: ",")
        let now = ISO8601.format(clock.now())
        let secret = WebhookSigner.newSecret()
        // Created only if absent: two PUTs at once cannot both mint a secret.
        let replies = try store.transaction([
            RedisCommand("HSETNX", RedisArgument(key), "created_at", RedisArgument(now)),
            RedisCommand("HSETNX", RedisArgument(key), RedisArgument(Self.secretField), RedisArgument(secrets.seal(secret, tenantID: tenantID, field: Self.secretField))),
            RedisCommand("HSET", RedisArgument(key), "url", RedisArgument(url.url), "events", RedisArgument(eventList), "updated_at", RedisArgument(now)),
        ])
        let created = replies[1].intValue == 1
        return (created, created ? secret : nil)
    }

    /// A new signing secret, returned once; the previous one is still sent for the grace period.
    public func rotate(_ tenantID: String) throws(StoreError) -> (secret: String, previousUntil: Double)? {
        let key = keys.webhook(tenantID)
        let hash = try store.run(RedisCommand("HGETALL", RedisArgument(key))).hashValue ?? [:]
        guard hash["url"] != nil, let sealed = hash[Self.secretField],
            let current = try? secrets.open(sealed, tenantID: tenantID, field: Self.secretField)
        else { return nil }
        let secret = WebhookSigner.newSecret()
        let until = clock.now() + Double(settings.secretGraceSeconds)
        _ = try store.transaction([
            RedisCommand(
                "HSET", RedisArgument(key), RedisArgument(Self.secretField), RedisArgument(secrets.seal(secret, tenantID: tenantID, field: Self.secretField)),
                RedisArgument(Self.previousSecretField), RedisArgument(secrets.seal(current, tenantID: tenantID, field: Self.previousSecretField)),
                "previous_until", RedisArgument(String(Int(until)))),
        ])
        return (secret, until)
    }

    /// Removes the webhook; returns whether there was one. Deliveries not yet sent are dropped
    /// when their turn comes.
    public func remove(_ tenantID: String) throws(StoreError) -> Bool {
        try store.run(RedisCommand("DEL", RedisArgument(keys.webhook(tenantID)))).intValue == 1
    }

    /// The keys a tenant's deletion removes (after `tenant.deleted` was queued: its delivery
    /// carries what it needs).
    public func tenantKeys(_ tenantID: String) -> [RedisKey] { [keys.webhook(tenantID), keys.webhookDeliveries(tenantID)] }

    // MARK: - Events

    /// Queues `event` for the tenant's endpoint when it subscribed to it. Never throws: a store
    /// failure here must not fail the sync or the deletion that caused the event.
    public func emit(_ event: Event, tenantID: String, data: [(String, JSONValue)]) {
        do {
            guard let config = try config(tenantID), config.events.contains(event), !config.secrets.isEmpty else { return }
            try enqueue(event, tenantID: tenantID, data: data, config: config)
        } catch {
            logger.warning("webhook event not queued", metadata: ["tenant": "\(tenantID)", "event": "\(event.rawValue)", "error": "\(error)"])
        }
    }

    /// Like `emit`, once per `marker` (e.g. one `token.expiring` per expiry time).
    public func emitOnce(_ event: Event, tenantID: String, marker: String, data: [(String, JSONValue)]) {
        do {
            let key = keys.webhook(tenantID)
            let hash = try store.run(RedisCommand("HGETALL", RedisArgument(key))).hashValue ?? [:]
            let field = "notified:" + event.rawValue
            guard let config = decode(hash, tenantID: tenantID), config.events.contains(event), !config.secrets.isEmpty,
                hash[field] != marker
            else { return }
            try enqueue(event, tenantID: tenantID, data: data, config: config)
            _ = try store.run(RedisCommand("HSET", RedisArgument(key), RedisArgument(field), RedisArgument(marker)))
        } catch {
            logger.warning("webhook event not queued", metadata: ["tenant": "\(tenantID)", "event": "\(event.rawValue)", "error": "\(error)"])
        }
    }

    func enqueue(_ event: Event, tenantID: String, data: [(String, JSONValue)], config: Config) throws(StoreError) {
        let id = "evt_" + SecureRandom.bytes(15).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        let now = clock.now()
        let body = JSONWriter.encode(.object([
            ("type", .string(event.rawValue)), ("timestamp", .string(ISO8601.format(now))),
            ("data", .object([("tenantId", .string(tenantID))] + data)),
        ]))
        let snapshot = secrets.seal(config.secrets.joined(separator: " "), tenantID: tenantID, field: Self.deliverySecretsField)
        let deliveryKey = keys.webhookDelivery(id)
        _ = try store.transaction([
            RedisCommand(
                "HSET", RedisArgument(deliveryKey), "tenant", RedisArgument(tenantID), "type", RedisArgument(event.rawValue),
                "body", RedisArgument(body), "url", RedisArgument(config.url), "secrets", RedisArgument(snapshot),
                "status", "pending", "attempts", "0", "created_at", RedisArgument(ISO8601.format(now))),
            RedisCommand("EXPIRE", RedisArgument(deliveryKey), RedisArgument(Self.keepSeconds)),
            RedisCommand("ZADD", RedisArgument(keys.webhooksDue), RedisArgument(Int(now * 1000)), RedisArgument(id)),
            RedisCommand("LPUSH", RedisArgument(keys.webhookDeliveries(tenantID)), RedisArgument(id)),
            RedisCommand("LTRIM", RedisArgument(keys.webhookDeliveries(tenantID)), 0, RedisArgument(Self.historyLength - 1)),
        ])
        logger.info("webhook event queued", metadata: ["tenant": "\(tenantID)", "event": "\(event.rawValue)", "id": "\(id)"])
    }

    // MARK: - Delivery history

    /// The tenant's last deliveries, newest first (at most `historyLength`), in one pipeline.
    public func deliveries(_ tenantID: String) throws(StoreError) -> [JSONValue] {
        let ids = (try store.run(RedisCommand("LRANGE", RedisArgument(keys.webhookDeliveries(tenantID)), 0, RedisArgument(Self.historyLength - 1)))
            .arrayValue ?? []).compactMap(\.stringValue)
        guard !ids.isEmpty else { return [] }
        let fields = ["type", "status", "attempts", "last_status", "last_error", "created_at", "delivered_at", "next_at"]
        let replies = try store.pipeline(ids.map { id in
            RedisCommand("HMGET", [RedisArgument(keys.webhookDelivery(id))] + fields.map { RedisArgument($0) })
        })
        var out: [JSONValue] = []
        for (id, reply) in zip(ids, replies) {
            let values = (reply.arrayValue ?? []).map(\.stringValue)
            guard values.count == fields.count, let type = values[0] else { continue }
            func text(_ index: Int) -> JSONValue { values[index].map(JSONValue.string) ?? .null }
            let nextAt: JSONValue = values[7].flatMap { Double($0) }.map { .string(ISO8601.format($0 / 1000)) } ?? .null
            out.append(.object([
                ("id", .string(id)), ("type", .string(type)), ("status", text(1)),
                ("attempts", .int(Int(values[2] ?? "") ?? 0)),
                ("lastStatus", values[3].flatMap { Int($0) }.map(JSONValue.int) ?? .null),
                ("lastError", text(4)), ("createdAt", text(5)), ("deliveredAt", text(6)), ("nextAttemptAt", nextAt),
            ]))
        }
        return out
    }
}
