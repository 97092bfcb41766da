import Logging

/// `POST /sync` `{"secret":"…"}`: syncs every tenant whose token is not invalid. With QStash configured it publishes one
/// message per tenant to `{WEBHOOK_BASE_URL}/sync/process/{tenantId}`; without it, it runs the
/// sync directly with bounded parallelism and reports per-tenant results.
public struct SyncAllHandler: RequestHandler {
    /// Where QStash should deliver, and the client to publish with.
    public struct Publisher: Sendable {
        public var client: QStashClient
        public var webhookBaseURL: String

        public init(client: QStashClient, webhookBaseURL: String) {
            self.client = client
            self.webhookBaseURL = webhookBaseURL
        }
    }

    let repository: TenantRepository
    let runner: SyncRunner
    let publisher: Publisher?
    let secret: String
    let parallelism: Int
    let clock: any Clock
    let logger: Logger?

    public init(
        repository: TenantRepository, runner: SyncRunner, publisher: Publisher?, secret: String, parallelism: Int = 4,
        clock: any Clock = SystemClock(), logger: Logger? = nil
    ) {
        self.logger = logger
        self.repository = repository
        self.runner = runner
        self.publisher = publisher
        self.secret = secret
        self.parallelism = parallelism
        self.clock = clock
    }

    /// On the accepting thread: a wrong secret never waits for a thread. The body is at most
    /// `Routes.syncBodyLimit` bytes, so parsing it costs microseconds.
    public func admit(_ request: Request) throws(HTTPError) {
        try checkSecret(request)
    }

    public func handle(_ request: Request) throws -> Response {
        try checkSecret(request)
        let deleting = try repository.deletingTenantIDs()
        let everyTenant = try repository.allTenantIDs().filter { !deleting.contains($0) }
        // A tenant whose token is dead is neither queued nor synced until it gets a new one.
        let unsyncable = try repository.unsyncableTenantIDs(now: clock.now())
        let tenantIDs = unsyncable.isEmpty ? everyTenant : everyTenant.filter { !unsyncable.contains($0) }
        if tenantIDs.count < everyTenant.count {
            logger?.info("tenants with an invalid token skipped", metadata: ["count": "\(everyTenant.count - tenantIDs.count)"])
        }
        var queued: [JSONValue] = []
        var errors: [JSONValue] = []
        var results: [JSONValue] = []
        if let publisher {
            // One id per tenant and hour: a double trigger within the hour is dropped by QStash.
            let hour = String(ISO8601.format(clock.now()).prefix(13))
            let messages = tenantIDs.map { id in
                QStashClient.Message(
                    destination: "\(publisher.webhookBaseURL)/sync/process/\(id)",
                    body: JSONWriter.encode(.object([("tenantId", .string(id))])),
                    deduplicationID: "sync-\(id)-\(String(hour.map { $0 == ":" ? "-" : $0 }))")
            }
            for (id, outcome) in zip(tenantIDs, publisher.client.publishAll(messages)) {
                switch outcome {
                case .success(let published): queued.append(.string(published.messageID))
                case .failure(let error): errors.append(Self.error(id, error.description))
                }
            }
        } else {
            for outcome in runner.syncAll(tenantIDs, parallelism: parallelism) {
                switch outcome.result {
                case .success(let result):
                    results.append(.object([("tenantId", .string(outcome.tenantID))] + (result.json.objectMembers ?? [])))
                case .failure(let error):
                    errors.append(Self.error(outcome.tenantID, error.description))
                }
            }
        }
        var summary: [(String, JSONValue)] = [
            ("totalTenants", .int(tenantIDs.count)),
            ("queuedTasks", .array(queued)),
            ("errors", .array(errors)),
        ]
        if publisher == nil { summary.append(("results", .array(results))) }
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

extension JSONValue {
    var objectMembers: [(String, JSONValue)]? {
        if case .object(let members) = self { return members }
        return nil
    }
}
