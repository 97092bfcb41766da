import Foundation

@testable import IGMediaLogic

/// An in-memory `HTTPTransport`: answers from scripts keyed by method and a prefix of
/// `host + path` (e.g. `"graph.test/v23.0/me/media"`), and records every request.
/// Each script plays its replies in order and repeats the last one; the longest matching prefix wins.
final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    enum Reply {
        case response(HTTPClientResponse)
        case failure(TransportError)

        static func json(_ text: String, status: Int = 200) -> Reply {
            .response(HTTPClientResponse(status: status, headers: HTTPHeaders([("Content-Type", "application/json")]), body: Array(text.utf8)))
        }

        static func text(_ text: String, status: Int, contentType: String = "text/html") -> Reply {
            .response(HTTPClientResponse(status: status, headers: HTTPHeaders([("Content-Type", contentType)]), body: Array(text.utf8)))
        }
    }

    /// A request as sent, with its URL taken apart for assertions.
    struct Recorded {
        let method: String
        let url: String
        let host: String
        let path: String
        let query: [(String, String)]
        let headers: [(String, String)]
        let body: String

        /// `host + path`, the key scripts match on.
        var target: String { host + path }

        func query(_ name: String) -> String? { query.last(where: { $0.0 == name })?.1 }

        /// The body as form fields.
        var form: [(String, String)] { (try? PercentDecoding.decodeQuery(body)) ?? [] }
        func form(_ name: String) -> String? { form.last(where: { $0.0 == name })?.1 }
    }

    private struct Script {
        let method: String
        let prefix: String
        var replies: [Reply]
    }

    private let lock = NSLock()
    private var scripts: [Script] = []
    private var recorded: [Recorded] = []

    /// Adds a script; replies play in order, the last one repeats.
    func on(_ method: String, _ prefix: String, _ replies: Reply...) {
        precondition(!replies.isEmpty, "a script needs at least one reply")
        lock.withLock { scripts.append(Script(method: method, prefix: prefix, replies: replies)) }
    }

    var requests: [Recorded] { lock.withLock { recorded } }

    func send(_ request: HTTPClientRequest) throws(TransportError) -> HTTPClientResponse {
        let entry = Self.record(request)
        let reply: Reply = lock.withLock {
            recorded.append(entry)
            let candidates = scripts.indices.filter {
                scripts[$0].method == request.method && entry.target.hasPrefix(scripts[$0].prefix)
            }
            guard let best = candidates.max(by: { scripts[$0].prefix.count < scripts[$1].prefix.count }) else {
                return .text("no script for \(request.method) \(entry.target)", status: 404, contentType: "text/plain")
            }
            let next = scripts[best].replies[0]
            if scripts[best].replies.count > 1 { scripts[best].replies.removeFirst() }
            return next
        }
        switch reply {
        case .response(let response): return response
        case .failure(let error): throw error
        }
    }

    func sendAll(_ requests: [HTTPClientRequest], concurrency: Int) -> [Result<HTTPClientResponse, TransportError>] {
        requests.map { request in Result { () throws(TransportError) in try send(request) } }
    }

    private static func record(_ request: HTTPClientRequest) -> Recorded {
        var rest = Substring(request.url)
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        let hostEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let host = String(rest[..<hostEnd])
        let pathAndQuery = rest[hostEnd...]
        let parts = pathAndQuery.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = parts.first.map(String.init) ?? ""
        let query = parts.count > 1 ? ((try? PercentDecoding.decodeQuery(String(parts[1]))) ?? []) : []
        return Recorded(
            method: request.method, url: request.url, host: host, path: path, query: query, headers: request.headers,
            body: String(decoding: request.body, as: UTF8.self))
    }
}
