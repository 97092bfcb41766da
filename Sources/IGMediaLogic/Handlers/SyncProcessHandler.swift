import Logging

/// `POST /sync/process/:tenantId`: the QStash webhook. The signature is verified before anything
/// else; a repeated delivery of one message does the work once.
///
/// Answers: 200 synced (or a duplicate, or another sync already running); 401 bad signature;
/// 489 + `Upstash-NonRetryable-Error: true` for failures a retry cannot fix (unknown tenant,
/// revoked token — recorded on the tenant, the message goes to the DLQ); 503 for transient
/// failures so QStash retries.
public struct SyncProcessHandler: RequestHandler {
    let verifier: QStashSignatureVerifier
    let webhookBaseURL: String
    let engine: SyncEngine
    let store: any RedisStore
    let keys: KeySpace
    let clock: any Clock
    let logger: Logger

    public init(
        verifier: QStashSignatureVerifier, webhookBaseURL: String, engine: SyncEngine, store: any RedisStore, keys: KeySpace,
        clock: any Clock, logger: Logger
    ) {
        self.verifier = verifier
        self.webhookBaseURL = webhookBaseURL
        self.engine = engine
        self.store = store
        self.keys = keys
        self.clock = clock
        self.logger = logger
    }

    static let nonRetryable = [("Upstash-NonRetryable-Error", "true")]

    public func handle(_ request: Request) throws -> Response {
        do {
            _ = try verifier.verify(
                signature: request.headers["Upstash-Signature"], body: request.body,
                expectedSubject: webhookBaseURL + request.path, now: Int(clock.now()))
        } catch {
            logger.warning("webhook signature rejected", metadata: ["reason": "\(error)", "id": "\(request.requestID)"])
            throw HTTPError.unauthorized("Invalid QStash signature")
        }
        let tenantID = request.pathParameters["tenantId"] ?? ""
        guard TenantAuthenticator.isWellFormed(tenantID) else {
            throw HTTPError(.notFound, "Tenant not found", status: .nonRetryable, headers: Self.nonRetryable)
        }

        // At-least-once delivery: claim the message id; "done" means already processed.
        let messageID = request.headers["Upstash-Message-Id"].flatMap { $0.isEmpty ? nil : String($0.prefix(200)) }
        if let messageID {
            let claim = try store.run(RedisCommand(
                "SET", RedisArgument(keys.qstashSeen(messageID)), "processing", "NX", "GET", "EX", 900))
            switch claim.stringValue {
            case "done"?:
                return Envelope.success(.object([("result", .object([("duplicate", .bool(true))]))]))
            case "processing"?:
                throw HTTPError(.serviceUnavailable, "This message is being processed", headers: [("Retry-After", "30")])
            default:
                break
            }
        }

        switch Result(catching: { () throws(SyncError) in try engine.sync(tenantID: tenantID) }) {
        case .success(let result):
            try markDone(messageID)
            return Envelope.success(.object([("result", result.json), ("refreshTokenResult", .string(result.refreshTokenResult.description))]))
        case .failure(let error):
            switch error {
            case .locked:
                try markDone(messageID)
                return Envelope.success(.object([
                    ("result", .object([("skipped", .string(error.description))])),
                    ("refreshTokenResult", .string(RefreshOutcome.notRun.description)),
                ]))
            case .tenantNotFound:
                try markDone(messageID)
                throw HTTPError(.notFound, "Tenant not found", status: .nonRetryable, headers: Self.nonRetryable)
            default:
                if error.isTransient {
                    release(messageID)
                    throw HTTPError(.serviceUnavailable, "Sync failed, retry later: \(error)")
                }
                try markDone(messageID)
                throw HTTPError(.syncFailed, "Sync failed permanently: \(error)", status: .nonRetryable, headers: Self.nonRetryable)
            }
        }
    }

    private func markDone(_ messageID: String?) throws(StoreError) {
        guard let messageID else { return }
        _ = try store.run(RedisCommand("SET", RedisArgument(keys.qstashSeen(messageID)), "done", "EX", 86_400))
    }

    private func release(_ messageID: String?) {
        guard let messageID else { return }
        _ = try? store.run(RedisCommand("DEL", RedisArgument(keys.qstashSeen(messageID))))
    }
}
