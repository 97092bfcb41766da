import Prometheus
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The standard `process_*` metrics (the names every Prometheus client library uses) and
/// `igmedia_build_info`, read from /proc at scrape time. They live in their own registry: the
/// sync CLI's textfile for node_exporter must not carry them (node_exporter has its own).
public final class ProcessMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let resident: Gauge
    let virtualMemory: Gauge
    let cpu: Counter
    private let cpuSeen = Mutex<Double>(0)
    let openFDs: Gauge
    let maxFDs: Gauge
    let startTime: Gauge

    public init(version: String = BuildInfo.version, commit: String = BuildInfo.commit) {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        func gauge(_ name: String, _ help: String) -> Gauge {
            registry.makeGauge(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help))
        }
        resident = gauge("process_resident_memory_bytes", "Resident memory size in bytes")
        virtualMemory = gauge("process_virtual_memory_bytes", "Virtual memory size in bytes")
        // Advanced to the kernel's total at each scrape (it only grows).
        cpu = registry.makeCounter(
            descriptor: MetricNameDescriptor(metricName: "process_cpu_seconds_total", unitName: "", helpText: "Total user and system CPU time spent in seconds"))
        openFDs = gauge("process_open_fds", "Number of open file descriptors")
        maxFDs = gauge("process_max_fds", "Maximum number of open file descriptors")
        startTime = gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds")
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "igmedia", metricName: "build", unitName: "info",
                helpText: "The running build: version and git commit (value 1)"),
            labels: [("version", version), ("commit", commit)]
        ).set(1.0)
        if let start = Self.startTimeSeconds() { startTime.set(start) }
    }

    /// Reads /proc and sets the gauges.
    public func refresh() {
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        if let statm = Self.read("/proc/self/statm") {
            let fields = statm.split(separator: " ")
            if fields.count > 1, let size = Double(fields[0]), let rss = Double(fields[1]) {
                virtualMemory.set(size * pageSize)
                resident.set(rss * pageSize)
            }
        }
        if let stat = Self.statFields() {
            let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
            // Fields after the command: state is [0]; utime [11], stime [12] (man 5 proc, 14 and 15).
            if stat.count > 12, let user = Double(stat[11]), let system = Double(stat[12]), ticks > 0 {
                let total = (user + system) / ticks
                cpuSeen.withLock { seen in
                    if total > seen { cpu.increment(by: total - seen) }
                    seen = max(seen, total)
                }
            }
        }
        openFDs.set(Double(Self.countOpenFDs()))
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 { maxFDs.set(Double(limit.rlim_cur)) }
    }

    public func render(into buffer: inout [UInt8]) {
        refresh()
        registry.emit(into: &buffer)
    }

    // MARK: - /proc

    /// /proc/self/stat after the `(comm)` field (which may hold spaces).
    static func statFields() -> [Substring]? {
        guard let stat = read("/proc/self/stat"), let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    static func startTimeSeconds() -> Double? {
        guard let stat = statFields(), stat.count > 19, let started = Double(stat[19]),
            let procStat = read("/proc/stat"),
            let line = procStat.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
            let boot = Double(String(line.dropFirst(6)).trimmingCharacters(in: " "))
        else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return ticks > 0 ? boot + started / ticks : nil
    }

    static func countOpenFDs() -> Int {
        guard let directory = opendir("/proc/self/fd") else { return 0 }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let first = withUnsafeBytes(of: entry.pointee.d_name) { $0.first ?? 0 }
            if first != UInt8(ascii: ".") { count += 1 }
        }
        return max(0, count - 1)  // the directory stream's own descriptor
    }

    /// A small text file, whole (at most 64 KiB).
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 65_536 {
            let got = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 4096) }
            if got <= 0 { break }
            bytes += chunk[0..<got]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The version and git commit of this build. The commit comes from the environment
/// (`IGMEDIA_BUILD_COMMIT`) or from the `igmedia-fcgi.commit` file `make` writes next to the
/// binary; `unknown` otherwise.
public enum BuildInfo {
    public static let version = "2.4.0"

    public static let commit: String = {
        if let value = getenv("IGMEDIA_BUILD_COMMIT").map({ String(cString: $0) }), let clean = sanitized(value) { return clean }
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if length > 0 {
            let exe = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if let slash = exe.lastIndex(of: "/"),
                let text = ProcessMetrics.read(String(exe[...slash]) + "igmedia-fcgi.commit"),
                let clean = sanitized(text)
            {
                return clean
            }
        }
        return "unknown"
    }()

    /// A hex commit id (7…40 characters), else nil: a label value never carries anything else.
    static func sanitized(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: " \t\r\n")
        guard (7...40).contains(trimmed.utf8.count), trimmed.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
        else { return nil }
        return trimmed
    }
}
