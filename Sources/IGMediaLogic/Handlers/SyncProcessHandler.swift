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

    /// Signed ids and message ids longer than this are refused; QStash's are a few dozen bytes.
    static let maximumIDLength = 200

    /// On the accepting thread: an unsigned or badly signed delivery never waits for a thread.
    public func admit(_ request: Request) throws(HTTPError) {
        _ = try verified(request)
    }

    public func handle(_ request: Request) throws -> Response {
        let claims = try verified(request)
        let tenantID = request.pathParameters["tenantId"] ?? ""
        guard TenantAuthenticator.isWellFormed(tenantID) else {
            throw HTTPError(.notFound, "Tenant not found", status: .nonRetryable, headers: Self.nonRetryable)
        }

        // Replay: each signed token is accepted once, remembered until it could no longer verify.
        // QStash signs every delivery attempt anew, so its own retries are not affected.
        let tokenID = claims.tokenID ?? ""
        let lifetime = max(1, claims.expiresAt + verifier.clockToleranceSeconds - Int(clock.now()) + 1)
        let fresh = try store.run(RedisCommand(
            "SET", RedisArgument(keys.qstashToken(tokenID)), RedisArgument(tenantID), "NX", "EX", RedisArgument(lifetime)))
        guard fresh == .status("OK") else {
            logger.warning("webhook token replayed", metadata: ["id": "\(request.requestID)"])
            return Self.duplicate
        }

        // At-least-once delivery: claim the message id; "done" means already processed. The key
        // holds the tenant of the signed URL, so a replay cannot mark another tenant's message.
        let rawMessageID = request.headers["Upstash-Message-Id"].flatMap { id -> String? in
            id.isEmpty || id.utf8.count > Self.maximumIDLength ? nil : String(id)
        }
        let messageID = rawMessageID.map { keys.qstashSeen(tenantID: tenantID, messageID: $0) }
        if let messageID, let rawMessageID {
            // The per-tenant index lets a tenant's deletion find its records without a SCAN.
            let index = RedisArgument(keys.qstashSeenIndex(tenantID))
            let replies = try store.pipeline([
                RedisCommand("SET", RedisArgument(messageID), "processing", "NX", "GET", "EX", 900),
                RedisCommand("SADD", index, RedisArgument(rawMessageID)),
                RedisCommand("EXPIRE", index, 86_400),
            ])
            let claim = replies[0]
            if case .error(let message) = claim { throw StoreError.commandFailed(String(message.prefix(80))) }
            switch claim.stringValue {
            case "done"?:
                return Self.duplicate
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
            case .rateLimited:
                // Deferred to a later round (the next POST /sync), not retried against a throttled Graph.
                try markDone(messageID)
                return Envelope.success(.object([
                    ("result", .object([("deferred", .string(error.description))])),
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

    static let duplicate = Envelope.success(.object([("result", .object([("duplicate", .bool(true))]))]))

    /// The verified claims, with a usable `jti`; every failure is the same 401.
    private func verified(_ request: Request) throws(HTTPError) -> QStashClaims {
        let claims: QStashClaims
        do {
            claims = try verifier.verify(
                signature: request.headers["Upstash-Signature"], body: request.body,
                expectedSubject: webhookBaseURL + request.path, now: Int(clock.now()))
        } catch {
            logger.warning("webhook signature rejected", metadata: ["reason": "\(error)", "id": "\(request.requestID)"])
            throw HTTPError.unauthorized("Invalid QStash signature")
        }
        guard let tokenID = claims.tokenID, !tokenID.isEmpty, tokenID.utf8.count <= Self.maximumIDLength else {
            logger.warning("webhook signature rejected", metadata: ["reason": "no usable jti", "id": "\(request.requestID)"])
            throw HTTPError.unauthorized("Invalid QStash signature")
        }
        return claims
    }

    private func markDone(_ key: RedisKey?) throws(StoreError) {
        guard let key else { return }
        _ = try store.run(RedisCommand("SET", RedisArgument(key), "done", "EX", 86_400))
    }

    private func release(_ key: RedisKey?) {
        guard let key else { return }
        _ = try? store.run(RedisCommand("DEL", RedisArgument(key)))
    }
}
