import Logging
import Synchronization

/// `POST /sync` `{"secret":"…"}`: syncs every tenant whose token is not invalid.
///
/// With QStash it reads the tenant index a page at a time (one store round trip per 1,000
/// tenants, whichever backend) and publishes through QStash's batch API (one call per 100
/// messages, several calls at once), each message carrying a flow-control key so QStash sends
/// at most `flowControl.parallelism` deliveries at a time. The summary keeps the seed's shape;
/// its lists are capped at `listLimit` entries, with `queuedCount` and `errorCount` giving the
/// totals. Without QStash it starts (or joins) a sync run in the background and answers 202
/// with the run's id at once (`GET /sync/runs/:id` shows its progress).
public struct SyncAllHandler: RequestHandler {
    /// Where QStash should deliver, and the client to publish with.
    public struct Publisher: Sendable {
        public var client: QStashClient
        public var webhookBaseURL: String
        public var flowControl: QStashClient.FlowControl?

        public init(client: QStashClient, webhookBaseURL: String, flowControl: QStashClient.FlowControl? = nil) {
            self.client = client
            self.webhookBaseURL = webhookBaseURL
            self.flowControl = flowControl
        }
    }

    static let listLimit = 1000
    static let pageSize = 1000

    let repository: TenantRepository
    let background: BackgroundSync?
    let publisher: Publisher?
    let secret: String
    let clock: any Clock
    let logger: Logger?

    public init(
        repository: TenantRepository, background: BackgroundSync?, publisher: Publisher?, secret: String,
        clock: any Clock = SystemClock(), logger: Logger? = nil
    ) {
        self.logger = logger
        self.repository = repository
        self.background = background
        self.publisher = publisher
        self.secret = secret
        self.clock = clock
    }

    /// On the accepting thread: a wrong secret never waits for a thread. The body is at most
    /// `Routes.syncBodyLimit` bytes, so parsing it costs microseconds.
    public func admit(_ request: Request) throws(HTTPError) {
        try checkSecret(request)
    }

    public func handle(_ request: Request) throws -> Response {
        try checkSecret(request)
        if let publisher { return try publish(publisher) }
        guard let background else { throw HTTPError.internalError() }
        let (id, started) = try background.trigger()
        let total = try repository.store.run(RedisCommand("SCARD", RedisArgument(repository.keys.tenantIndex))).intValue ?? 0
        let summary: [(String, JSONValue)] = [
            ("totalTenants", .int(total)), ("queuedTasks", .array([])), ("errors", .array([])), ("results", .array([])),
        ]
        var response = Envelope.success(.object([
            ("runId", .string(id)), ("state", .string("running")), ("started", .bool(started)),
            ("statusUrl", .string("/sync/runs/\(id)")), ("summary", .object(summary)),
        ]), status: .accepted)
        response.headers.add("Location", "/sync/runs/\(id)")
        return response
    }

    private func publish(_ publisher: Publisher) throws -> Response {
        // One id per tenant and hour: a double trigger within the hour is dropped by QStash.
        let hour = String(ISO8601.format(clock.now()).prefix(13).map { $0 == ":" ? "-" : $0 })
        var queued: [JSONValue] = []
        var errors: [JSONValue] = []
        var queuedCount = 0
        var errorCount = 0
        var total = 0
        var skipped = 0
        let now = clock.now()
        // Messages wait here until there are enough for full batch calls (pages from SSCAN are
        // only about `pageSize` long), so every call but the last carries `QStashClient.batchSize`.
        var pendingIDs: [String] = []
        let flushSize = QStashClient.batchSize * 8
        func flush(_ count: Int) {
            let ids = Array(pendingIDs.prefix(count))
            pendingIDs.removeFirst(ids.count)
            let messages = ids.map { id in
                QStashClient.Message(
                    destination: "\(publisher.webhookBaseURL)/sync/process/\(id)",
                    body: JSONWriter.encode(.object([("tenantId", .string(id))])),
                    deduplicationID: "sync-\(id)-\(hour)", flowControl: publisher.flowControl)
            }
            for (id, outcome) in zip(ids, publisher.client.publishBatched(messages)) {
                switch outcome {
                case .success(let published):
                    queuedCount += 1
                    if queued.count < Self.listLimit { queued.append(.string(published.messageID)) }
                case .failure(let error):
                    errorCount += 1
                    if errors.count < Self.listLimit { errors.append(Self.error(id, error.description)) }
                }
            }
        }
        try repository.forEachTenantPage(pageSize: Self.pageSize) { page throws(StoreError) in
            let tenantIDs = try repository.syncable(page, now: now)
            skipped += page.count - tenantIDs.count
            total += tenantIDs.count
            pendingIDs += tenantIDs
            while pendingIDs.count >= flushSize { flush(flushSize) }
        }
        while !pendingIDs.isEmpty { flush(flushSize) }
        if skipped > 0 { logger?.info("tenants with an invalid token skipped", metadata: ["count": "\(skipped)"]) }
        if errorCount > 0 { logger?.warning("sync fan-out: messages not published", metadata: ["count": "\(errorCount)"]) }
        let summary: [(String, JSONValue)] = [
            ("totalTenants", .int(total)),
            ("queuedTasks", .array(queued)),
            ("errors", .array(errors)),
            ("queuedCount", .int(queuedCount)),
            ("errorCount", .int(errorCount)),
        ]
        return Envelope.success(.object([("summary", .object(summary))]))
    }

    private func checkSecret(_ request: Request) throws(HTTPError) {
        let object = try JSONBody.object(request)
        guard let presented = object["secret"]?.stringValue, ConstantTime.equals(presented, secret) else {
            throw HTTPError.unauthorized("Invalid sync secret")
        }
    }

    static func error(_ tenantID: String, _ reason: String) -> JSONValue {
        .object([("tenantId", .string(tenantID)), ("error", .string(reason))])
    }
}

/// Sync runs the responder works on in the background (POST /sync without QStash): at most one
/// worker per run in this process, on its own threads, never inside a request.
public final class BackgroundSync: Sendable {
    let runs: SyncRuns
    let repository: TenantRepository
    let engine: SyncEngine
    let parallelism: Int
    let consumer: String
    let logger: Logger
    private let active = Mutex<Set<String>>([])

    public init(runs: SyncRuns, repository: TenantRepository, engine: SyncEngine, parallelism: Int, consumer: String, logger: Logger) {
        self.runs = runs
        self.repository = repository
        self.engine = engine
        self.parallelism = parallelism
        self.consumer = consumer
        self.logger = logger
    }

    /// Starts or joins the run; makes sure this process works on it. Returns immediately.
    public func trigger() throws(StoreError) -> (id: String, started: Bool) {
        let (id, started) = try runs.startOrJoin(trigger: "http")
        let isNew = active.withLock { $0.insert(id).inserted }
        if isNew {
            let worker = SyncRunWorker(
                runs: runs, repository: repository, engine: engine, options: .init(parallelism: parallelism), consumer: consumer,
                logger: logger)
            let thread = PosixThread.start { [self] in
                let tally = worker.work(id)
                logger.info("sync run: this process's share done", metadata: [
                    "run": "\(id)", "synced": "\(tally.synced)", "failed": "\(tally.failed)", "deferred": "\(tally.deferred)",
                ])
                _ = active.withLock { $0.remove(id) }
            }
            if thread == nil {
                _ = active.withLock { $0.remove(id) }
                logger.error("cannot start a background sync thread; the timer will work on the run", metadata: ["run": "\(id)"])
            }
        }
        return (id, started)
    }

    /// Whether this process is working on the run now.
    public func isWorking(on id: String) -> Bool { active.withLock { $0.contains(id) } }
}

/// `GET /sync/runs/:id` (Bearer: the sync secret): a run's state and counters; `current` and
/// `last` name the run in progress and the last finished one.
public struct SyncRunStatusHandler: RequestHandler {
    let runs: SyncRuns
    let secret: String

    public init(runs: SyncRuns, secret: String) {
        self.runs = runs
        self.secret = secret
    }

    public func admit(_ request: Request) throws(HTTPError) {
        guard let token = request.bearerToken, ConstantTime.equals(token, secret) else {
            throw HTTPError.unauthorized("Invalid sync secret")
        }
    }

    public func handle(_ request: Request) throws -> Response {
        try admit(request)
        var id = request.pathParameters["id"] ?? ""
        if id == "current" || id == "last" {
            guard let named = try (id == "current" ? runs.current() : runs.last()) else { throw HTTPError.notFound("No such sync run") }
            id = named
        }
        guard id.utf8.count <= 64, id.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7A) }),
            let snapshot = try runs.snapshot(id)
        else { throw HTTPError.notFound("No such sync run") }
        return Envelope.success(snapshot.json)
    }
}
