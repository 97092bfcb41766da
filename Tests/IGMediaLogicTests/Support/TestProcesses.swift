import Foundation

/// Picks a free loopback TCP port by binding port 0 and releasing it.
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

func makeTemporaryDirectory(_ label: String) -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("igmedia-\(label)-\(UUID().uuidString.prefix(8))")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The repository root (for Tests/fakes).
let repositoryRoot: URL = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<4 { url.deleteLastPathComponent() }
    return url
}()

/// A real redis-server on a free loopback port, private to one test.
final class RedisServerProcess: @unchecked Sendable {
    let port: Int
    let directory: URL
    private var process: Process?

    init() throws {
        port = freePort()
        directory = makeTemporaryDirectory("redis")
        try start()
    }

    var url: String { "redis://127.0.0.1:\(port)" }

    func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        process.arguments = [
            "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", directory.path, "--enable-debug-command", "local",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        try waitForPort(port)
    }

    func stop() {
        guard let process, process.isRunning else { return }
        // SIGKILL: children inherit the test runner's blocked-signal mask, so SIGTERM may be ignored.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// The Upstash REST fake from Tests/fakes, executing commands on `redis`.
final class UpstashFakeProcess: @unchecked Sendable {
    let token = "upstash-test-token"
    private let fake: PythonFakeProcess

    var baseURL: String { fake.baseURL }

    init(redis: RedisServerProcess) throws {
        fake = try PythonFakeProcess(module: "upstash", arguments: ["--redis-port", "\(redis.port)", "--token", token])
    }
}

struct TestProcessError: Error, CustomStringConvertible {
    let description: String
}

func waitForPort(_ port: Int, timeout: TimeInterval = 10) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        close(fd)
        if rc == 0 { return }
        usleep(20_000)
    }
    throw TestProcessError(description: "port \(port) did not open")
}
