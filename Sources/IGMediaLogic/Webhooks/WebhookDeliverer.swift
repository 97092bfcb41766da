import Logging
import Synchronization

/// Sends queued webhook deliveries from the store (`webhooks:due`) on its own threads, so a slow
/// or dead endpoint never slows a sync or `/photos`.
///
/// Each poll claims due deliveries with one script that pushes them a lease ahead: several
/// responders never send one delivery at once, and a responder that dies mid-delivery leaves it
/// due again when the lease ends (at least once: the same `webhook-id` on every attempt lets the
/// receiver drop a repeat). A success removes the delivery from the queue in the same
/// transaction that records it, so a delivered event is never sent again. Failures are retried
/// with exponential backoff and jitter (`Retry-After` honoured, up to an hour), at most
/// `maxAttempts` times; a 410, or a destination whose address is refused, ends at once.
public final class WebhookDeliverer: Sendable {
    public struct Options: Sendable {
        public var timeoutMilliseconds: Int
        public var maxAttempts: Int
        /// The first retry's delay; later ones grow (×6, ×24, ×120, …, up to ×2880).
        public var retryBaseMilliseconds: Int
        public var leaseMilliseconds: Int
        public var pollMilliseconds: Int
        public var concurrency: Int

        public init(
            timeoutMilliseconds: Int = 5000, maxAttempts: Int = 8, retryBaseMilliseconds: Int = 5000,
            leaseMilliseconds: Int = 60_000, pollMilliseconds: Int = 250, concurrency: Int = 8
        ) {
            self.timeoutMilliseconds = timeoutMilliseconds
            self.maxAttempts = maxAttempts
            self.retryBaseMilliseconds = retryBaseMilliseconds
            self.leaseMilliseconds = leaseMilliseconds
            self.pollMilliseconds = pollMilliseconds
            self.concurrency = concurrency
        }
    }

    static let backoffFactors = [1, 6, 24, 120, 360, 720, 1440, 2880]

    let webhooks: Webhooks
    let transport: any HTTPTransport
    let options: Options
    let metrics: WebhookMetrics
    private let stopping = Atomic<Bool>(false)

    public init(webhooks: Webhooks, transport: any HTTPTransport, options: Options, metrics: WebhookMetrics) {
        self.webhooks = webhooks
        self.transport = transport
        self.options = options
        self.metrics = metrics
    }

    private var store: any RedisStore { webhooks.store }
    private var keys: KeySpace { webhooks.keys }
    private var logger: Logger { webhooks.logger }

    public func stop() { stopping.store(true, ordering: .relaxed) }

    /// Polls until `stop()`.
    public func run() {
        while !stopping.load(ordering: .relaxed) {
            let sent = (try? deliverDue()) ?? 0
            if sent == 0 { Sleep.milliseconds(options.pollMilliseconds) }
        }
    }

    static let claimScript = """
        local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
        for _, id in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', ARGV[2], id) end
        return due
        """

    /// Claims what is due and sends it; returns how many were attempted.
    @discardableResult
    public func deliverDue() throws(StoreError) -> Int {
        let now = Int(webhooks.clock.now() * 1000)
        let claimed = (try store.run(RedisCommand(
            "EVAL", RedisArgument(Self.claimScript), 1, RedisArgument(keys.webhooksDue), RedisArgument(now),
            RedisArgument(now + options.leaseMilliseconds), RedisArgument(options.concurrency * 4))).arrayValue ?? [])
            .compactMap(\.stringValue)
        guard !claimed.isEmpty else { return 0 }
        _ = BoundedParallel.map(claimed, concurrency: options.concurrency) { id in
            self.deliver(id)
            return 0
        }
        return claimed.count
    }

    enum Outcome {
        case delivered(status: Int)
        case retry(status: Int?, error: String, retryAfterSeconds: Int?)
        case fail(status: Int?, error: String, outcome: WebhookMetrics.Outcome)
    }

    func deliver(_ id: String) {
        let key = keys.webhookDelivery(id)
        guard let hash = try? store.run(RedisCommand("HGETALL", RedisArgument(key))).hashValue, !hash.isEmpty,
            let tenantID = hash["tenant"], let type = hash["type"], let bodyText = hash["body"]
        else {
            // Expired or unreadable: nothing to send.
            _ = try? store.run(RedisCommand("ZREM", RedisArgument(keys.webhooksDue), RedisArgument(id)))
            return
        }
        let attempts = (Int(hash["attempts"] ?? "") ?? 0) + 1
        // The endpoint as it is now (a rotation's both secrets, a changed URL); the snapshot taken
        // when the event was queued for `tenant.deleted`, whose webhook is gone with the tenant.
        var url = hash["url"] ?? ""
        var secrets = (try? webhooks.secrets.open(hash["secrets"] ?? "", tenantID: tenantID, field: Webhooks.deliverySecretsField))
            .map { $0.split(separator: " ").map(String.init) } ?? []
        switch Result(catching: { () throws(StoreError) in try webhooks.config(tenantID) }) {
        case .success(let config?):
            url = config.url
            secrets = config.secrets
        case .success(nil) where type != Webhooks.Event.tenantDeleted.rawValue:
            finish(id, key, tenantID, attempts, .fail(status: nil, error: "the webhook was removed", outcome: .dropped))
            return
        case .success(nil), .failure:
            break  // the snapshot
        }
        let outcome: Outcome
        do {
            let destination = try WebhookDestination.parse(url, policy: webhooks.settings.policy)
            outcome = send(id: id, url: destination.url, body: Array(bodyText.utf8), secrets: secrets)
        } catch {
            outcome = .fail(status: nil, error: "destination not allowed: \(error.message)", outcome: .refused)
        }
        finish(id, key, tenantID, attempts, outcome)
    }

    func send(id: String, url: String, body: [UInt8], secrets: [String]) -> Outcome {
        let timestamp = Int(webhooks.clock.now())
        var headers = WebhookSigner.headers(id: id, timestamp: timestamp, body: body, secrets: secrets)
        headers += [("Content-Type", "application/json"), ("User-Agent", "igmedia-webhooks/1.0")]
        let request = HTTPClientRequest(method: "POST", url: url, headers: headers, body: body, timeoutMilliseconds: options.timeoutMilliseconds)
        do {
            let response = try transport.send(request)
            switch response.status {
            case 200..<300: return .delivered(status: response.status)
            case 410: return .fail(status: 410, error: "the endpoint answered 410 Gone", outcome: .failed)
            default:
                let retryAfter = response.headers["Retry-After"].flatMap { Int($0) }
                let kind = (300..<400).contains(response.status) ? "a redirect (not followed)" : "HTTP \(response.status)"
                return .retry(status: response.status, error: "the endpoint answered \(kind)", retryAfterSeconds: retryAfter)
            }
        } catch .connectionFailed(let why) where why == CurlTransport.refusedAddress {
            return .fail(status: nil, error: "destination not allowed: it resolves to a loopback, private, link-local or reserved address", outcome: .refused)
        } catch {
            return .retry(status: nil, error: "\(error)", retryAfterSeconds: nil)
        }
    }

    private func finish(_ id: String, _ key: RedisKey, _ tenantID: String, _ attempts: Int, _ outcome: Outcome) {
        let now = webhooks.clock.now()
        var commands: [RedisCommand] = []
        switch outcome {
        case .delivered(let status):
            metrics.record(.delivered)
            commands = [
                RedisCommand(
                    "HSET", RedisArgument(key), "status", "delivered", "attempts", RedisArgument(attempts), "last_status", RedisArgument(status),
                    "delivered_at", RedisArgument(ISO8601.format(now))),
                RedisCommand("HDEL", RedisArgument(key), "last_error", "next_at"),
                RedisCommand("ZREM", RedisArgument(keys.webhooksDue), RedisArgument(id)),
            ]
            logger.info("webhook delivered", metadata: ["tenant": "\(tenantID)", "id": "\(id)", "attempts": "\(attempts)"])
        case .retry(let status, let error, let retryAfter) where attempts < options.maxAttempts:
            metrics.record(.retrying)
            let factor = Self.backoffFactors[min(attempts - 1, Self.backoffFactors.count - 1)]
            var delay = Double(options.retryBaseMilliseconds * factor) * (0.9 + 0.2 * Double(SecureRandom.bytes(1)[0]) / 255)
            if let retryAfter { delay = max(delay, Double(min(3600, max(0, retryAfter))) * 1000) }
            let next = Int(now * 1000 + delay)
            commands = [
                RedisCommand(
                    "HSET", [RedisArgument(key), "status", "retrying", "attempts", RedisArgument(attempts), "last_error", RedisArgument(error),
                             "next_at", RedisArgument(next)] + (status.map { [RedisArgument("last_status"), RedisArgument($0)] } ?? [])),
                RedisCommand("ZADD", RedisArgument(keys.webhooksDue), "XX", RedisArgument(next), RedisArgument(id)),
            ]
            logger.warning("webhook delivery failed; will retry", metadata: ["tenant": "\(tenantID)", "id": "\(id)", "attempts": "\(attempts)", "error": "\(error)"])
        case .retry(let status, let error, _):
            commands = failCommands(key, id, attempts, status, "\(error) (gave up after \(attempts) attempts)")
            metrics.record(.dropped)
            logger.warning("webhook delivery given up", metadata: ["tenant": "\(tenantID)", "id": "\(id)", "attempts": "\(attempts)", "error": "\(error)"])
        case .fail(let status, let error, let kind):
            commands = failCommands(key, id, attempts, status, error)
            metrics.record(kind)
            logger.warning("webhook delivery failed", metadata: ["tenant": "\(tenantID)", "id": "\(id)", "error": "\(error)"])
        }
        do {
            _ = try store.transaction(commands)
        } catch {
            // The lease ends and the delivery is due again: a repeat of a success carries the same id.
            logger.warning("webhook delivery state not recorded", metadata: ["id": "\(id)", "error": "\(error)"])
        }
    }

    private func failCommands(_ key: RedisKey, _ id: String, _ attempts: Int, _ status: Int?, _ error: String) -> [RedisCommand] {
        [
            RedisCommand(
                "HSET", [RedisArgument(key), "status", "failed", "attempts", RedisArgument(attempts), "last_error", RedisArgument(error)]
                    + (status.map { [RedisArgument("last_status"), RedisArgument($0)] } ?? [])),
            RedisCommand("HDEL", RedisArgument(key), "next_at"),
            RedisCommand("ZREM", RedisArgument(keys.webhooksDue), RedisArgument(id)),
        ]
    }
}
