import Logging
import Synchronization

/// One process's share of a sync run: `parallelism` threads take tenants from the run's queue
/// (`SyncRuns`), sync them, and acknowledge each; the work ends when the run is complete, not
/// when this process's share is, so a worker also finishes what a dead one left.
public final class SyncRunWorker: Sendable {
    public struct Options: Sendable {
        public var parallelism: Int
        /// A tenant another worker took and has not finished for this long is taken over.
        public var reclaimAfterMilliseconds: Int
        /// How long to wait between looks when the queue is empty but others still work.
        public var idlePollMilliseconds: Int

        public init(parallelism: Int, reclaimAfterMilliseconds: Int = 300_000, idlePollMilliseconds: Int = 250) {
            self.parallelism = parallelism
            self.reclaimAfterMilliseconds = reclaimAfterMilliseconds
            self.idlePollMilliseconds = idlePollMilliseconds
        }
    }

    /// What this process did in the run (the run's totals are in `SyncRuns.snapshot`).
    public struct Tally: Sendable, Equatable {
        public var synced = 0
        public var failed = 0
        public var deferred = 0
        public var storeErrors = 0
        public var total: Int { synced + failed + deferred }
    }

    public typealias Progress = @Sendable (_ tenantID: String, _ outcome: Result<SyncResult, SyncError>) -> Void

    let runs: SyncRuns
    let repository: TenantRepository
    let engine: SyncEngine
    let options: Options
    let consumer: String
    let logger: Logger
    private let queue = Mutex(LocalQueue())
    private let tally = Mutex(Tally())
    private let stopping = Atomic<Bool>(false)

    struct LocalQueue {
        var buffer: [SyncRuns.Work] = []
        var finished = false
        var indexRead = false
    }

    public init(runs: SyncRuns, repository: TenantRepository, engine: SyncEngine, options: Options, consumer: String, logger: Logger) {
        self.runs = runs
        self.repository = repository
        self.engine = engine
        self.options = options
        self.consumer = consumer
        self.logger = logger
    }

    /// A consumer name unique to this process: host, pid and a random suffix.
    public static func consumerName(host: String, pid: Int32) -> String {
        "\(host):\(pid):" + SecureRandom.bytes(3).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    /// Works on the run until it is complete (or `stop()`); returns this process's tally.
    public func work(_ runID: String, progress: Progress? = nil) -> Tally {
        let threads = max(1, options.parallelism)
        _ = BoundedParallel.map(Array(0..<threads), concurrency: threads) { _ in
            while let work = self.next(runID) {
                self.process(runID, work, progress)
            }
            return 0
        }
        return tally.withLock { $0 }
    }

    /// Stops taking new tenants; the ones in hand finish.
    public func stop() { stopping.store(true, ordering: .relaxed) }

    public var currentTally: Tally { tally.withLock { $0 } }

    private func process(_ runID: String, _ work: SyncRuns.Work, _ progress: Progress?) {
        let result = Result { () throws(SyncError) in try engine.sync(tenantID: work.tenantID) }
        let outcome: SyncRuns.Outcome
        var reason: String?
        switch result {
        case .success:
            outcome = .synced
        case .failure(.rateLimited):
            outcome = .deferred
        case .failure(.locked) where work.reclaimed:
            // Taken over from a worker that may have died holding the tenant's lock: nobody may
            // be syncing it. Left pending, it is reclaimed again after the idle time and synced
            // once the lock is released or expires (a live holder's XACK ends it instead).
            logger.debug("reclaimed tenant still locked; left pending", metadata: ["tenant": "\(work.tenantID)"])
            return
        case .failure(.locked):
            // A QStash delivery or an API call is syncing it right now: that sync counts.
            outcome = .synced
        case .failure(let error):
            outcome = .failed
            reason = error.description
        }
        switch result {
        case .success(let r):
            logger.debug("tenant synced", metadata: ["tenant": "\(work.tenantID)", "photos": "\(r.photosCount)", "duration_ms": "\(r.durationMilliseconds)"])
        case .failure(let error):
            logger.warning("tenant sync failed", metadata: ["tenant": "\(work.tenantID)", "error": "\(error)"])
        }
        do {
            if try runs.finish(runID, work, outcome, error: reason) {
                tally.withLock { tally in
                    switch outcome {
                    case .synced: tally.synced += 1
                    case .failed: tally.failed += 1
                    case .deferred: tally.deferred += 1
                    }
                }
            }
        } catch {
            // Left pending: another worker (or this one) reclaims it after the idle time.
            tally.withLock { $0.storeErrors += 1 }
            logger.warning("could not acknowledge a synced tenant; it will be reclaimed", metadata: ["tenant": "\(work.tenantID)", "error": "\(error)"])
        }
        progress?(work.tenantID, result)
    }

    /// The next tenant for any of this process's threads, or nil once the run is complete. One
    /// thread at a time refills the local buffer; the others wait for it on the lock.
    private func next(_ runID: String) -> SyncRuns.Work? {
        queue.withLock { local in
            var failures = 0
            while true {
                if stopping.load(ordering: .relaxed) { return nil }
                if let work = local.buffer.popLast() { return work }
                if local.finished { return nil }
                do {
                    let batch = max(16, options.parallelism * 2)
                    var fresh = try runs.read(runID, consumer: consumer, count: batch)
                    if fresh.isEmpty, !local.indexRead {
                        local.indexRead = try !runs.queueNextPage(runID, repository: repository)
                        if !local.indexRead { continue }
                    }
                    if fresh.isEmpty {
                        fresh = try runs.reclaim(runID, consumer: consumer, idleMilliseconds: options.reclaimAfterMilliseconds, count: batch)
                    }
                    if !fresh.isEmpty {
                        local.buffer = fresh.reversed()
                        continue
                    }
                    if try runs.finishIfComplete(runID) {
                        local.finished = true
                        return nil
                    }
                    failures = 0
                } catch {
                    failures += 1
                    logger.warning("sync run: store call failed", metadata: ["error": "\(error)"])
                    // A store that stays down ends this worker; the run stays for others to finish.
                    if failures >= 20 {
                        local.finished = true
                        return nil
                    }
                }
                // Others still hold tenants: wait for them (or for their entries to become reclaimable).
                Sleep.milliseconds(options.idlePollMilliseconds)
            }
        }
    }
}
