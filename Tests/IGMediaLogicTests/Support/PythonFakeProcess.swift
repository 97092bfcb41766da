import Foundation

@testable import IGMediaLogic

/// One of the loopback fakes of Tests/fakes as a subprocess (`python3 -m Tests.fakes.<module>`), with
/// a JSON client for its `/__control/` API. Killed with SIGKILL: children inherit the test runner's
/// blocked-signal mask, so SIGTERM may be ignored.
final class PythonFakeProcess: @unchecked Sendable {
    let baseURL: String
    private let process: Process
    private let directory: URL
    private let transport = CurlTransport()

    init(module: String, arguments: [String] = []) throws {
        directory = makeTemporaryDirectory("fake-\(module)")
        let ready = directory.appendingPathComponent("ready")
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-m", "Tests.fakes.\(module)", "--port", "0", "--ready-file", ready.path] + arguments
        process.currentDirectoryURL = repositoryRoot
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if let text = try? String(contentsOf: ready, encoding: .utf8), !text.isEmpty {
                baseURL = text.trimmingCharacters(in: .whitespacesAndNewlines)
                return
            }
            usleep(20_000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        throw TestProcessError(description: "\(module) fake did not start")
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// `method baseURL + path` with an optional JSON body; the answer as JSON (fails on non-2xx).
    @discardableResult
    func call(_ method: String, _ path: String, _ body: JSONValue? = nil) throws -> JSONValue {
        let request = HTTPClientRequest(
            method: method, url: baseURL + path, headers: [("Content-Type", "application/json")],
            body: body.map(JSONWriter.encode) ?? [], timeoutMilliseconds: 10_000)
        let response = try transport.send(request)
        guard (200..<300).contains(response.status) else {
            let text = String(decoding: response.body, as: UTF8.self)
            throw TestProcessError(description: "\(method) \(path): HTTP \(response.status) \(text)")
        }
        return try JSONParser.parse(response.body, maxDepth: 64)
    }

    /// `POST /__control/<name>`.
    @discardableResult
    func control(_ name: String, _ body: JSONValue = .object([])) throws -> JSONValue {
        try call("POST", "/__control/\(name)", body)
    }

    /// `GET /__control/counters` as integers.
    func counters() throws -> [String: Int] {
        guard case .object(let members) = try call("GET", "/__control/counters") else { return [:] }
        return Dictionary(members.compactMap { name, value in value.intValue.map { (name, $0) } }, uniquingKeysWith: { $1 })
    }
}
