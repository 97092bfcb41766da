import Logging

/// Runs the sync engine over many tenants with bounded parallelism; one tenant's failure never
/// affects another.
public struct SyncRunner: Sendable {
    public let engine: SyncEngine
    let logger: Logger

    public init(engine: SyncEngine, logger: Logger) {
        self.engine = engine
        self.logger = logger
    }

    public struct Outcome: Sendable {
        public let tenantID: String
        public let result: Result<SyncResult, SyncError>
    }

    public func syncAll(_ tenantIDs: [String], parallelism: Int, progress: (@Sendable (Outcome) -> Void)? = nil) -> [Outcome] {
        let engine = self.engine
        let logger = self.logger
        return BoundedParallel.map(tenantIDs, concurrency: parallelism) { tenantID in
            let outcome = Outcome(tenantID: tenantID, result: Result { () throws(SyncError) in try engine.sync(tenantID: tenantID) })
            switch outcome.result {
            case .success(let result):
                logger.info("tenant synced", metadata: [
                    "tenant": "\(tenantID)", "photos": "\(result.photosCount)", "uploaded": "\(result.uploaded)",
                    "deleted": "\(result.deleted)", "kept": "\(result.kept)", "failed": "\(result.failed)",
                    "duration_ms": "\(result.durationMilliseconds)",
                ])
            case .failure(let error):
                logger.warning("tenant sync failed", metadata: ["tenant": "\(tenantID)", "error": "\(error)"])
            }
            progress?(outcome)
            return outcome
        }
    }
}
