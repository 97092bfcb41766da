/// `POST /sync` `{"secret":"…"}`: syncs every tenant. Through QStash when configured (one message
/// per tenant), otherwise directly with bounded parallelism.
public struct SyncAllHandler: RequestHandler {
    let repository: TenantRepository
    let runner: SyncRunner
    let secret: String
    let parallelism: Int

    public init(repository: TenantRepository, runner: SyncRunner, secret: String, parallelism: Int = 4) {
        self.repository = repository
        self.runner = runner
        self.secret = secret
        self.parallelism = parallelism
    }

    public func handle(_ request: Request) throws -> Response {
        let object = try JSONBody.object(request)
        guard let presented = object["secret"]?.stringValue, ConstantTime.equals(presented, secret) else {
            throw HTTPError.unauthorized("Invalid sync secret")
        }
        let tenantIDs = try repository.allTenantIDs()
        let outcomes = runner.syncAll(tenantIDs, parallelism: parallelism)
        var errors: [JSONValue] = []
        var results: [JSONValue] = []
        for outcome in outcomes {
            switch outcome.result {
            case .success(let result):
                results.append(.object([("tenantId", .string(outcome.tenantID))] + (result.json.objectMembers ?? [])))
            case .failure(let error):
                errors.append(.object([("tenantId", .string(outcome.tenantID)), ("error", .string(error.description))]))
            }
        }
        return Envelope.success(.object([
            ("summary", .object([
                ("totalTenants", .int(tenantIDs.count)),
                ("queuedTasks", .array([])),
                ("errors", .array(errors)),
                ("results", .array(results)),
            ])),
        ]))
    }
}

extension JSONValue {
    var objectMembers: [(String, JSONValue)]? {
        if case .object(let members) = self { return members }
        return nil
    }
}
