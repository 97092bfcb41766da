import ArgumentParser
import IGMediaLogic
import Logging

/// `igmedia-fcgi tenants …`: the admin API's operations, on the same code, for a shell.
struct TenantsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenants",
        abstract: "List, show, delete tenants and issue management tokens.",
        subcommands: [List.self, Show.self, Delete.self, IssueManagementToken.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants, a page at a time (cursor paging).")

        @Option(help: "Only tenants in this token state: ok, expiring, invalid, missing.")
        var state: String?
        @Flag(help: "One JSON object per line.")
        var json = false
        @Option(help: "Stop after this many tenants (0 = all).")
        var limit: Int = 0

        func run() throws {
            let (logger, services) = try bootstrap("igmedia-tenants")
            _ = logger
            var filter: TokenState?
            if let state {
                guard let parsed = TokenState(rawValue: state) else { throw ValidationError("--state must be ok, expiring, invalid or missing") }
                filter = parsed
            }
            let listing = TenantListing(repository: services.repository, expiringDays: services.config.tokenExpiringDays)
            var cursor: String?
            var shown = 0
            repeat {
                let page = try listing.page(state: filter, limit: 200, cursor: cursor, now: services.clock.now())
                for view in page.tenants {
                    if limit > 0 && shown >= limit { return }
                    shown += 1
                    if json {
                        printLine(JSONWriter.string(view.json))
                    } else {
                        let health = view.tenant.health
                        printLine("\(view.tenant.id)  \(view.tokenState.rawValue.padding(8))  photos=\(view.photosCount)  last_sync=\(health.lastSyncAt ?? "-")  error=\(health.lastErrorCode?.rawValue ?? "-")  \(view.tenant.name)")
                    }
                }
                for id in page.unreadable { printLine("\(id)  UNREADABLE (its record does not open with the configured keys)") }
                cursor = page.nextCursor
            } while cursor != nil
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one tenant as JSON (never a secret).")
        @Argument var id: String

        func run() throws {
            let (_, services) = try bootstrap("igmedia-tenants")
            guard let view = try services.repository.view(id, now: services.clock.now(), expiringDays: services.config.tokenExpiringDays) else {
                printLine("no such tenant: \(id)")
                throw ExitCode(1)
            }
            printLine(JSONWriter.string(view.json))
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a tenant: every key and every mirrored asset. Repeat it to finish an interrupted one.")
        @Argument var id: String

        func run() throws {
            let (logger, services) = try bootstrap("igmedia-tenants")
            var deletion = TenantDeletion(repository: services.repository, mirror: services.mirror, clock: services.clock, logger: logger)
            deletion.webhooks = ServiceFactory.makeWebhooks(services: services, logger: logger)
            do {
                let counts = try deletion.delete(id)
                printLine("deleted \(id): \(counts.keys) keys, \(counts.assets) assets")
            } catch {
                printLine("not deleted: \(error)")
                throw ExitCode(1)
            }
        }
    }

    struct IssueManagementToken: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "issue-management-token",
            abstract: "Give a tenant a new management token (printed once); the old one stops working.")
        @Argument var id: String

        func run() throws {
            let (_, services) = try bootstrap("igmedia-tenants")
            guard let tenant = try services.repository.load(id), tenant.deletingSince == nil else {
                printLine("no such tenant: \(id)")
                throw ExitCode(1)
            }
            let token = ManagementToken.make()
            try services.repository.setManagementToken(tenant, newToken: token)
            printLine(token)
        }
    }
}

/// `igmedia-fcgi status`: one screen for people, exit codes for Nagios/Icinga/systemd.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Summary of tenants and syncs.",
        discussion: "Exit status (monitoring-plugin convention): 0 OK, 1 WARNING (a tenant is expiring, or the oldest successful sync is older than 2 h), 2 CRITICAL (store unreachable, or a tenant is invalid), 3 UNKNOWN.")

    func run() throws {
        // A configuration that cannot be used is UNKNOWN (3) for a monitoring plugin, not 78.
        let (_, services) = try bootstrap("igmedia-status", failureExit: 3)
        let now = services.clock.now()
        let status = TenantStatus.read(repository: services.repository, now: now, expiringDays: services.config.tokenExpiringDays)
        let code = status.exitCode(now: now)
        let word = ["OK", "WARNING", "CRITICAL", "UNKNOWN"][Int(code)]
        guard status.storeReachable else {
            printLine("\(word) - store unreachable: \(status.error ?? "no answer")")
            throw ExitCode(code)
        }
        let oldest = status.oldestSuccessfulSync.map { "\(ISO8601.format($0)) (\(Int(now - $0) / 60) min ago)" } ?? "none yet"
        printLine("\(word) - \(status.total) tenants: \(status.ok) ok, \(status.expiring) expiring, \(status.invalid) invalid, \(status.missing) missing | tenants=\(status.total) invalid=\(status.invalid) expiring=\(status.expiring) failures_1h=\(status.failuresLastHour)")
        printLine("oldest successful sync: \(oldest)")
        printLine("failed syncs in the last hour: \(status.failuresLastHour)")
        printLine("deletions in progress: \(status.deleting)")
        let runs = SyncRuns(store: services.store, keys: services.keys, clock: services.clock)
        for (label, id) in [("sync run in progress", try? runs.current()), ("last sync run", try? runs.last())] {
            guard let id, let run = try? runs.snapshot(id) else { continue }
            let total = run.indexRead ? "\(run.queued)" : "\(run.queued)+ (index still being read)"
            printLine("\(label): \(run.id) (\(run.trigger), started \(run.startedAt)\(run.finishedAt.map { ", finished \($0)" } ?? "")): \(run.state), \(run.synced + run.failed + run.deferred)/\(total) done, \(run.synced) synced, \(run.failed) failed, \(run.deferred) deferred, \(run.skipped) skipped")
        }
        printLine("store: reachable (\(services.store.backendName))")
        if code != 0 { throw ExitCode(code) }
    }
}

/// `igmedia-fcgi rekey`: re-seal every tenant's secrets with the first key of ENCRYPTION_KEYS.
struct RekeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rekey",
        abstract: "Re-seal every tenant's secrets with the first key of ENCRYPTION_KEYS (resumable, safe while serving).")

    @Flag(help: "Only report how many values each key seals.")
    var dryRun = false

    func run() throws {
        let (_, services) = try bootstrap("igmedia-rekey")
        let rekey = Rekey(repository: services.repository)
        let report = try rekey.run(dryRun: dryRun) { progress in
            printLine("progress: \(progress.tenants) tenants, \(progress.resealed) values re-sealed")
        }
        for (key, count) in report.byKey.sorted(by: { $0.key < $1.key }) { printLine("key \(key): \(count) values") }
        printLine("\(dryRun ? "dry run" : "done"): \(report.tenants) tenants, \(report.resealed) re-sealed, \(report.alreadyCurrent) already on key \(services.repository.secrets.currentKeyID), \(report.unreadable) unreadable, \(report.indexMoved) index entries moved")
        if report.unreadable > 0 { throw ExitCode(1) }
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
