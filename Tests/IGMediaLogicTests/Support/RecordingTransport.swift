import Foundation

@testable import IGMediaLogic

/// A scripted `HTTPTransport`: `respond` answers every request, and every request is recorded.
/// `sendAll` really runs requests concurrently (one thread per slot, at most `concurrency`), holding
/// each for `holdMilliseconds`, and records the widest overlap it saw.
final class RecordingTransport: HTTPTransport, @unchecked Sendable {
    /// A request as the responder sees it.
    struct Call: Sendable {
        let request: HTTPClientRequest
        /// Form fields of a multipart or urlencoded body.
        let fields: [(String, String)]
        /// 1 for the first request with this method, URL and `public_id`, 2 for the next, ...
        let attempt: Int

        func field(_ name: String) -> String? { fields.first { $0.0 == name }?.1 }
    }

    typealias Responder = @Sendable (Call) -> Result<HTTPClientResponse, TransportError>

    private let lock = NSLock()
    private let respond: Responder
    private let holdMilliseconds: Int
    private var calls: [Call] = []
    private var batches: [(count: Int, concurrency: Int)] = []
    private var inFlight = 0
    private var widest = 0

    init(holdMilliseconds: Int = 0, respond: @escaping Responder) {
        self.holdMilliseconds = holdMilliseconds
        self.respond = respond
    }

    var recorded: [Call] { lock.withLock { calls } }
    /// `(requests, concurrency)` of every `sendAll` call.
    var sendAllCalls: [(count: Int, concurrency: Int)] { lock.withLock { batches } }
    var maxConcurrentRequests: Int { lock.withLock { widest } }

    func send(_ request: HTTPClientRequest) throws(TransportError) -> HTTPClientResponse {
        let call = lock.withLock { () -> Call in
            inFlight += 1
            widest = max(widest, inFlight)
            let fields = Self.formFields(of: request)
            let key = Self.key(request, fields)
            let attempt = calls.filter { Self.key($0.request, $0.fields) == key }.count + 1
            let call = Call(request: request, fields: fields, attempt: attempt)
            calls.append(call)
            return call
        }
        if holdMilliseconds > 0 { usleep(UInt32(holdMilliseconds * 1000)) }
        let result = respond(call)
        lock.withLock { inFlight -= 1 }
        return try result.get()
    }

    func sendAll(_ requests: [HTTPClientRequest], concurrency: Int) -> [Result<HTTPClientResponse, TransportError>] {
        lock.withLock { batches.append((requests.count, concurrency)) }
        let results = ResultSlots(count: requests.count)
        let group = DispatchGroup()
        for _ in 0..<min(max(1, concurrency), requests.count) {
            group.enter()
            Thread {
                while let index = results.claim() {
                    let outcome = Result { () throws(TransportError) in try self.send(requests[index]) }
                    results.store(outcome, at: index)
                }
                group.leave()
            }.start()
        }
        group.wait()
        return results.values
    }

    /// A response with a text body (JSON unless told otherwise).
    static func response(_ status: Int, _ body: String, contentType: String = "application/json") -> HTTPClientResponse {
        HTTPClientResponse(status: status, headers: HTTPHeaders([("Content-Type", contentType)]), body: Array(body.utf8))
    }

    private static func key(_ request: HTTPClientRequest, _ fields: [(String, String)]) -> String {
        request.method + " " + request.url + " " + (fields.first { $0.0 == "public_id" }?.1 ?? "")
    }

    /// Fields of a `multipart/form-data` or `application/x-www-form-urlencoded` body.
    static func formFields(of request: HTTPClientRequest) -> [(String, String)] {
        let contentType = request.headers.first { $0.0.lowercased() == "content-type" }?.1 ?? ""
        let body = String(decoding: request.body, as: UTF8.self)
        if contentType.hasPrefix("application/x-www-form-urlencoded") {
            return (try? PercentDecoding.decodeQuery(body)) ?? []
        }
        guard contentType.hasPrefix("multipart/form-data"), let range = contentType.range(of: "boundary=") else { return [] }
        let boundary = "--" + contentType[range.upperBound...]
        return body.components(separatedBy: boundary).compactMap { part -> (String, String)? in
            guard let split = part.range(of: "\r\n\r\n"),
                  let nameStart = part.range(of: "name=\""),
                  let nameEnd = part[nameStart.upperBound...].firstIndex(of: "\"")
            else { return nil }
            var value = String(part[split.upperBound...])
            if value.hasSuffix("\r\n") { value.removeLast(1) }  // "\r\n" is one Character
            return (String(part[nameStart.upperBound..<nameEnd]), value)
        }
    }
}

/// Results of a `sendAll` being filled in by several threads.
private final class ResultSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<HTTPClientResponse, TransportError>?]
    private var next = 0

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func claim() -> Int? {
        lock.withLock {
            guard next < slots.count else { return nil }
            next += 1
            return next - 1
        }
    }

    func store(_ result: Result<HTTPClientResponse, TransportError>, at index: Int) {
        lock.withLock { slots[index] = result }
    }

    var values: [Result<HTTPClientResponse, TransportError>] {
        lock.withLock { slots.map { $0 ?? .failure(.failed("not sent")) } }
    }
}
