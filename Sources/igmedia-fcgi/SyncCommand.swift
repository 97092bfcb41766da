import ArgumentParser
import IGMediaLogic
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

struct SyncCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Sync tenants' Instagram media now, without QStash (what the systemd timer runs).",
        discussion: "Exit status: 0 when every tenant synced, 1 when any failed, 78 on invalid configuration.")

    @Flag(help: "Sync every tenant.")
    var all = false

    @Option(help: "Sync one tenant by id (repeatable).")
    var tenant: [String] = []

    @Option(help: "Tenants this process syncs at the same time.")
    var parallel: Int = 32

    @Option(help: "Seconds after which a tenant another worker took and did not finish is taken over (--all).")
    var reclaimAfter: Int = 300

    @Flag(help: "Print one line per synced tenant (failures are always printed).")
    var verbose = false

    @Option(help: "Write the run's metrics here for node_exporter's textfile collector (replaced atomically).")
    var metricsTextfile: String?

    @Option(help: "Seconds between progress lines when stdout is not a terminal (--all).")
    var progressEvery: Int = 5

    func validate() throws {
        guard all != !tenant.isEmpty else { throw ValidationError("use either --all or --tenant ID") }
        guard (1...256).contains(parallel) else { throw ValidationError("--parallel must be in 1...256") }
        guard (1...86_400).contains(reclaimAfter) else { throw ValidationError("--reclaim-after must be in 1...86400") }
        guard (1...3600).contains(progressEvery) else { throw ValidationError("--progress-every must be in 1...3600") }
    }

    /// This process's share of the work, for the exit status and the metrics textfile.
    struct Outcome {
        var synced = 0
        var failed = 0
        var deferred = 0
        var skipped = 0
        var ok = true
    }

    func run() throws {
        let (logger, services) = try bootstrap("igmedia-sync")
        let startedAt = services.clock.now()
        let outcome = all ? runAll(logger: logger, services: services) : runTenants(logger: logger, services: services)
        if let path = metricsTextfile {
            let run = MetricsTextfile.Run(
                startedAt: startedAt, finishedAt: services.clock.now(), succeeded: outcome.ok, synced: outcome.synced,
                failed: outcome.failed, deferred: outcome.deferred, skipped: outcome.skipped)
            do {
                try MetricsTextfile.write(
                    MetricsTextfile.render(run, metrics: services.metrics, previous: MetricsTextfile.previous(at: path)), to: path)
            } catch {
                // The sync's own outcome stands; the textfile's absence is what alerts
                // (IGMediaTimerMetricsMissing).
                printLine("cannot write the metrics textfile: \(error)")
            }
        }
        if !outcome.ok { throw ExitCode(1) }
    }

    private func runTenants(logger: Logger, services: ServiceFactory.Services) -> Outcome {
        let runner = ServiceFactory.makeSyncRunner(services: services, logger: logger)
        let started = services.clock.monotonicNanoseconds()
        let outcomes = runner.syncAll(tenant, parallelism: parallel) { outcome in
            Self.report(outcome.tenantID, outcome.result, verbose: true)
        }
        let failures = outcomes.compactMap { outcome -> (String, SyncError)? in
            if case .failure(let error) = outcome.result, !error.isDeferral { return (outcome.tenantID, error) } else { return nil }
        }
        let deferred = outcomes.filter { if case .failure(let error) = $0.result { return error.isDeferral } else { return false } }.count
        let seconds = Double(services.clock.monotonicNanoseconds() - started) / 1e9
        var line = "summary: \(outcomes.count) tenants, \(outcomes.count - failures.count - deferred) synced, \(failures.count) failed, 0 skipped (token invalid)"
        if deferred > 0 { line += ", \(deferred) deferred (rate limited)" }
        printLine(line + " in \(Int(seconds * 1000)) ms")
        for (id, error) in failures { printLine("  failed \(id): \(error)") }
        return Outcome(
            synced: outcomes.count - failures.count - deferred, failed: failures.count, deferred: deferred, skipped: 0,
            ok: failures.isEmpty)
    }

    /// Joins (or starts) the sync run and works on it until every tenant of the run is done, by
    /// this process or by others on other hosts.
    private func runAll(logger: Logger, services: ServiceFactory.Services) -> Outcome {
        let runs = SyncRuns(store: services.store, keys: services.keys, clock: services.clock)
        let runID: String
        do {
            // Deletions a failure interrupted are finished first.
            try TenantDeletion.finishPending(services: services, logger: logger)
            let (id, started) = try runs.startOrJoin(trigger: "timer")
            runID = id
            printLine("run \(id): \(started ? "started" : "joined")")
        } catch {
            printLine("cannot start the sync run: \(error)")
            return Outcome(ok: false)
        }
        let engine = ServiceFactory.makeSyncEngine(services: services, logger: logger)
        let worker = SyncRunWorker(
            runs: runs, repository: services.repository, engine: engine,
            options: .init(parallelism: parallel, reclaimAfterMilliseconds: reclaimAfter * 1000),
            consumer: SyncRunWorker.consumerName(host: Self.hostName(), pid: getpid()), logger: logger)
        let failures = Mutex<[(String, String)]>([])
        let verbose = self.verbose
        let started = services.clock.monotonicNanoseconds()
        let meter = ProgressMeter(runs: runs, runID: runID, worker: worker, clock: services.clock, everySeconds: progressEvery)
        let meterThread = PosixThread.start(joinable: true) { meter.run() }
        let tally = worker.work(runID) { tenantID, result in
            Self.report(tenantID, result, verbose: verbose, lockedCounts: true)
            if case .failure(let error) = result, !error.isDeferral, error != .locked {
                failures.withLock { if $0.count < 50 { $0.append((tenantID, error.description)) } }
            }
        }
        meter.stop()
        meterThread?.join()
        let seconds = Double(services.clock.monotonicNanoseconds() - started) / 1e9
        let snapshot = try? runs.snapshot(runID)
        if let snapshot {
            printLine("run \(runID): \(snapshot.state), \(snapshot.queued) queued, \(snapshot.synced) synced, \(snapshot.failed) failed, \(snapshot.deferred) deferred, \(snapshot.skipped) skipped (all workers)")
        }
        var line = "summary: \(tally.total) tenants, \(tally.synced) synced, \(tally.failed) failed, \(snapshot?.skipped ?? 0) skipped (token invalid)"
        if tally.deferred > 0 { line += ", \(tally.deferred) deferred (rate limited)" }
        printLine(line + " in \(Int(seconds * 1000)) ms")
        for (id, reason) in failures.withLock({ $0 }) { printLine("  failed \(id): \(reason)") }
        return Outcome(
            synced: tally.synced, failed: tally.failed, deferred: tally.deferred, skipped: snapshot?.skipped ?? 0,
            ok: tally.failed == 0 && tally.storeErrors == 0 && snapshot?.state == "done")
    }

    /// `lockedCounts`: in a run, a tenant another sync holds counts as synced (that sync is the
    /// round's); a `--tenant` sync that could not run is a failure.
    static func report(_ tenantID: String, _ result: Result<SyncResult, SyncError>, verbose: Bool, lockedCounts: Bool = false) {
        switch result {
        case .success(let r):
            if verbose {
                printLine("ok     \(tenantID) photos=\(r.photosCount) uploaded=\(r.uploaded) deleted=\(r.deleted) kept=\(r.kept) failed=\(r.failed) token=\(r.refreshTokenResult) \(r.durationMilliseconds)ms")
            }
        case .failure(let error) where error.isDeferral:
            if verbose { printLine("later  \(tenantID) \(error)") }
        case .failure(.locked) where lockedCounts:
            // Another sync (a QStash delivery, an API call) is syncing it: that one counts.
            if verbose { printLine("busy   \(tenantID) \(SyncError.locked)") }
        case .failure(let error):
            printLine("FAILED \(tenantID) \(error)")
        }
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "host" }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The run's progress: a bar redrawn in place on a terminal, else one line every few seconds
/// (the journal), from the run's counters in the store (all workers) and this process's tally.
final class ProgressMeter: Sendable {
    let runs: SyncRuns
    let runID: String
    let worker: SyncRunWorker
    let clock: any Clock
    let everySeconds: Int
    private let stopping = Atomic<Bool>(false)

    init(runs: SyncRuns, runID: String, worker: SyncRunWorker, clock: any Clock, everySeconds: Int) {
        self.runs = runs
        self.runID = runID
        self.worker = worker
        self.clock = clock
        self.everySeconds = everySeconds
    }

    func stop() { stopping.store(true, ordering: .relaxed) }

    func run() {
        let terminal = isatty(1) == 1
        let tick = terminal ? 500 : everySeconds * 1000
        let started = clock.monotonicNanoseconds()
        var waited = 0
        while !stopping.load(ordering: .relaxed) {
            Sleep.milliseconds(100)
            waited += 100
            guard waited >= tick else { continue }
            waited = 0
            guard let snapshot = try? runs.snapshot(runID) else { continue }
            let done = snapshot.synced + snapshot.failed + snapshot.deferred
            let seconds = max(0.001, Double(clock.monotonicNanoseconds() - started) / 1e9)
            let mine = worker.currentTally.total
            let rate = Int(Double(mine) / seconds)
            let total = snapshot.indexRead ? "\(snapshot.queued)" : "\(snapshot.queued)+"
            if terminal {
                let fraction = snapshot.queued > 0 ? Double(done) / Double(snapshot.queued) : 0
                let filled = Int(fraction * 30)
                let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled)
                let text = "\r[\(bar)] \(done)/\(total) \(snapshot.failed) failed \(snapshot.deferred) deferred, \(rate)/s here"
                let bytes = Array(text.utf8)
                bytes.withUnsafeBytes { _ = write(1, $0.baseAddress, $0.count) }
            } else {
                printLine("progress: run \(runID): \(done)/\(total) done, \(snapshot.failed) failed, \(snapshot.deferred) deferred; this process \(mine) at \(rate) tenants/s")
            }
        }
        if terminal { printLine("") }
    }
}

/// Progress goes to stdout, one line at a time (the log goes to stderr).
func printLine(_ text: String) {
    let bytes = Array((text + "\n").utf8)
    bytes.withUnsafeBytes { _ = write(1, $0.baseAddress, $0.count) }
}
