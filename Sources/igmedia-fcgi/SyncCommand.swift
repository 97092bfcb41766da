import ArgumentParser
import IGMediaLogic
import Logging

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

    @Option(help: "Tenants synced at the same time.")
    var parallel: Int = 4

    func validate() throws {
        guard all != !tenant.isEmpty else { throw ValidationError("use either --all or --tenant ID") }
        guard (1...64).contains(parallel) else { throw ValidationError("--parallel must be in 1...64") }
    }

    func run() throws {
        let (logger, services) = try bootstrap("igmedia-sync")
        let runner = ServiceFactory.makeSyncRunner(services: services, logger: logger)
        var ids: [String]
        var skipped = 0
        if all {
            do {
                // Deletions a failure interrupted are finished first.
                try TenantDeletion.finishPending(services: services, logger: logger)
                ids = try services.repository.allTenantIDs()
                // Dead tokens are not sent to Instagram again; `tenants list --state invalid` shows them.
                let unsyncable = try services.repository.unsyncableTenantIDs(now: services.clock.now())
                let deleting = try services.repository.deletingTenantIDs()
                ids.removeAll { deleting.contains($0) }
                let before = ids.count
                ids.removeAll { unsyncable.contains($0) }
                skipped = before - ids.count
            } catch {
                printLine("cannot list tenants: \(error)")
                throw ExitCode(1)
            }
        } else {
            ids = tenant
        }
        let started = services.clock.monotonicNanoseconds()
        let outcomes = runner.syncAll(ids, parallelism: parallel) { outcome in
            switch outcome.result {
            case .success(let r):
                printLine("ok     \(outcome.tenantID) photos=\(r.photosCount) uploaded=\(r.uploaded) deleted=\(r.deleted) kept=\(r.kept) failed=\(r.failed) token=\(r.refreshTokenResult) \(r.durationMilliseconds)ms")
            case .failure(let error):
                printLine("FAILED \(outcome.tenantID) \(error)")
            }
        }
        let failures = outcomes.filter { if case .failure = $0.result { return true } else { return false } }
        let seconds = Double(services.clock.monotonicNanoseconds() - started) / 1e9
        printLine("summary: \(outcomes.count) tenants, \(outcomes.count - failures.count) synced, \(failures.count) failed, \(skipped) skipped (token invalid) in \(Int(seconds * 1000)) ms")
        for failure in failures {
            if case .failure(let error) = failure.result { printLine("  failed \(failure.tenantID): \(error)") }
        }
        if !failures.isEmpty { throw ExitCode(1) }
    }
}

/// Progress goes to stdout, one line at a time (the log goes to stderr).
func printLine(_ text: String) {
    let bytes = Array((text + "\n").utf8)
    bytes.withUnsafeBytes { _ = write(1, $0.baseAddress, $0.count) }
}
