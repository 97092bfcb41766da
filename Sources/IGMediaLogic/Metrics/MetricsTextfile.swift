import Prometheus

#if canImport(Glibc)
import Glibc
#endif

/// What `igmedia-fcgi sync --metrics-textfile PATH` leaves for node_exporter's textfile
/// collector: the run's own gauges (`igmedia_sync_run_*`) and the process's service counters
/// (syncs, store and upstream calls), never the `process_*` family node_exporter has itself.
public enum MetricsTextfile {
    public struct Run: Sendable {
        public var startedAt: Double
        public var finishedAt: Double
        public var succeeded: Bool
        public var synced: Int
        public var failed: Int
        public var deferred: Int
        public var skipped: Int

        public init(startedAt: Double, finishedAt: Double, succeeded: Bool, synced: Int, failed: Int, deferred: Int, skipped: Int) {
            self.startedAt = startedAt
            self.finishedAt = finishedAt
            self.succeeded = succeeded
            self.synced = synced
            self.failed = failed
            self.deferred = deferred
            self.skipped = skipped
        }
    }

    static let lastSuccessName = "igmedia_sync_run_last_success_timestamp_seconds"

    /// The file's text: the run's gauges, then `metrics`. The last success's time is carried over
    /// from `previous` (the file as the last run left it) when this run did not succeed.
    public static func render(_ run: Run, metrics: ServiceMetrics, previous: String?) -> [UInt8] {
        let registry = PrometheusCollectorRegistry()
        func gauge(_ name: String, _ help: String, labels: [(String, String)] = []) -> Gauge {
            registry.gauge("sync_run", name, help: help, labels: labels)
        }
        gauge("last_run_timestamp_seconds", "When the last `sync` run finished (unix seconds)").set(run.finishedAt)
        gauge("duration_seconds", "How long the last `sync` run took").set(max(0, run.finishedAt - run.startedAt))
        gauge("success", "1 when the last `sync` run synced every tenant it took without a failure, else 0").set(run.succeeded ? 1.0 : 0.0)
        let lastSuccess = run.succeeded ? run.finishedAt : previous.flatMap(Self.lastSuccess(in:))
        if let lastSuccess {
            gauge("last_success_timestamp_seconds", "When a `sync` run last finished without a failure (unix seconds)").set(lastSuccess)
        }
        for (outcome, count) in [("synced", run.synced), ("failed", run.failed), ("deferred", run.deferred), ("skipped", run.skipped)] {
            gauge("tenants", "Tenants of the last `sync` run by outcome (this process's share)", labels: [("outcome", outcome)])
                .set(Double(count))
        }
        var body: [UInt8] = []
        registry.emit(into: &body)
        metrics.registry.emit(into: &body)
        return body
    }

    static func lastSuccess(in text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(lastSuccessName + " ") {
            return Double(String(line.dropFirst(lastSuccessName.count + 1)).trimmingCharacters(in: " "))
        }
        return nil
    }

    public enum WriteError: Error, CustomStringConvertible {
        case failed(String)
        public var description: String { switch self { case .failed(let why): return why } }
    }

    /// Replaces `path` atomically: a temporary file in the same directory (not ending in `.prom`,
    /// so the collector never reads it half written), fsync, rename. Mode 0644: node_exporter
    /// runs as another user.
    public static func write(_ body: [UInt8], to path: String) throws(WriteError) {
        let temporary = path + ".tmp.\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw .failed("cannot create \(temporary): errno \(errno)") }
        var written = 0
        while written < body.count {
            let n = body.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, body.count - written) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                close(fd)
                unlink(temporary)
                throw .failed("cannot write \(temporary): errno \(errno)")
            }
            written += n
        }
        fchmod(fd, 0o644)
        let synced = fsync(fd) == 0
        close(fd)
        guard synced, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw .failed("cannot replace \(path): errno \(errno)")
        }
    }

    /// The file as the last run left it (at most 1 MiB), or nil.
    public static func previous(at path: String) -> String? { ProcessMetrics.read(path) }
}
