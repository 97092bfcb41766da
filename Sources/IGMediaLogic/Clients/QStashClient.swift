/// Publishes messages to Upstash QStash (`POST /v2/publish/<destination>`).
public struct QStashClient: Sendable {
    let core: APIClientCore
    let token: String
    let clock: any Clock

    public init(
        baseURL: String, token: String, transport: any HTTPTransport, timeoutMilliseconds: Int = 10_000,
        clock: any Clock = SystemClock()
    ) {
        core = APIClientCore(
            service: QStashErrorClassifier.service, baseURL: baseURL, transport: transport, timeoutMilliseconds: timeoutMilliseconds)
        self.token = token
        self.clock = clock
    }

    public struct Message: Sendable {
        /// Full destination URL, appended verbatim after `/v2/publish/`.
        public var destination: String
        public var body: [UInt8]
        public var deduplicationID: String?
        public var retries: Int
        /// QStash flow control: deliveries of this key in flight at once (`parallelism=N`).
        public var flowControl: FlowControl?

        public init(destination: String, body: [UInt8], deduplicationID: String?, retries: Int = 3, flowControl: FlowControl? = nil) {
            self.destination = destination
            self.body = body
            self.deduplicationID = deduplicationID
            self.retries = retries
            self.flowControl = flowControl
        }

        /// The `Upstash-*` headers of the message (without the API token).
        var headers: [(String, String)] {
            var headers = [
                ("Content-Type", "application/json"),
                ("Upstash-Method", "POST"),
                ("Upstash-Retries", String(retries)),
            ]
            if let id = deduplicationID { headers.append(("Upstash-Deduplication-Id", id)) }
            if let flowControl {
                headers.append(("Upstash-Flow-Control-Key", flowControl.key))
                headers.append(("Upstash-Flow-Control-Value", "parallelism=\(flowControl.parallelism)"))
            }
            return headers
        }
    }

    public struct FlowControl: Sendable, Equatable {
        public var key: String
        public var parallelism: Int

        public init(key: String, parallelism: Int) {
            self.key = key
            self.parallelism = parallelism
        }
    }

    /// Messages per `POST /v2/batch` call (the documented maximum is not stated; 100 is what
    /// the SDKs' users chunk at).
    public static let batchSize = 100

    public struct Published: Sendable, Equatable {
        public var messageID: String
        public var deduplicated: Bool
    }

    func request(_ message: Message) -> HTTPClientRequest {
        core.request("POST", "/v2/publish/" + message.destination, headers: [("Authorization", "Bearer \(token)")] + message.headers, body: message.body)
    }

    /// One `POST /v2/batch` call: an array of `{destination, headers, body}` (body as a string).
    func batchRequest(_ messages: ArraySlice<Message>) -> HTTPClientRequest {
        let items = messages.map { message in
            JSONValue.object([
                ("destination", .string(message.destination)),
                ("headers", .object(message.headers.map { ($0.0, JSONValue.string($0.1)) })),
                ("body", .string(String(decoding: message.body, as: UTF8.self))),
            ])
        }
        return core.request(
            "POST", "/v2/batch", headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
            body: JSONWriter.encode(.array(items)))
    }

    /// Publishes through the batch API, `batchSize` messages per call, `concurrency` calls at a
    /// time. A call that fails fails its messages (each reported), the other calls still go out;
    /// an item QStash refused inside a successful call fails alone.
    public func publishBatched(_ messages: [Message], concurrency: Int = 8) -> [Result<Published, UpstreamError>] {
        let chunks = stride(from: 0, to: messages.count, by: Self.batchSize).map { $0..<min($0 + Self.batchSize, messages.count) }
        let responses = core.sendAll(chunks.map { batchRequest(messages[$0]) }, concurrency: concurrency)
        var results: [Result<Published, UpstreamError>] = []
        results.reserveCapacity(messages.count)
        for (range, response) in zip(chunks, responses) {
            switch response.flatMap({ response in Result { () throws(UpstreamError) in try parseBatch(response, count: range.count) } }) {
            case .success(let items): results += items
            case .failure(let error): results += Array(repeating: .failure(error), count: range.count)
            }
        }
        return results
    }

    func parseBatch(_ response: HTTPClientResponse, count: Int) throws(UpstreamError) -> [Result<Published, UpstreamError>] {
        if let error = QStashErrorClassifier.error(response, token: token, now: clock.now()) { throw error }
        guard let items = try core.json(response).arrayValue, items.count == count else {
            throw UpstreamError(
                service: QStashErrorClassifier.service, kind: .malformed, status: response.status, message: "batch answer does not match the request")
        }
        return items.map { item in
            if let id = item["messageId"]?.stringValue {
                return .success(Published(messageID: id, deduplicated: item["deduplicated"]?.boolValue ?? false))
            }
            let text = UpstreamMessage.redact(item["error"]?.stringValue ?? "not published", secrets: [token], maxLength: 200)
            return .failure(UpstreamError(service: QStashErrorClassifier.service, kind: .rejected, status: response.status, message: text))
        }
    }

    /// Publishes every message in parallel (bounded); one failure never stops the others.
    public func publishAll(_ messages: [Message], concurrency: Int = 8) -> [Result<Published, UpstreamError>] {
        let notSent = UpstreamError(service: QStashErrorClassifier.service, kind: .transport, message: "not sent")
        return Self.publishPolicy.runRounds(messages.count, notSent: notSent) { indices in
            core.sendAll(indices.map { request(messages[$0]) }, concurrency: concurrency).map { result in
                result.flatMap { response in Result { () throws(UpstreamError) in try parse(response) } }
            }
        }
    }

    /// Never retried here (QStash's SDKs retry transport failures only, never an HTTP answer): a
    /// message that fails is reported for its tenant, and the next scheduled `/sync` publishes it
    /// again.
    static let publishPolicy = RetryPolicy.once

    func parse(_ response: HTTPClientResponse) throws(UpstreamError) -> Published {
        if let error = QStashErrorClassifier.error(response, token: token, now: clock.now()) { throw error }
        let json = try core.json(response)
        guard let id = json["messageId"]?.stringValue else {
            throw UpstreamError(service: QStashErrorClassifier.service, kind: .malformed, status: response.status, message: "no messageId in the answer")
        }
        return Published(messageID: id, deduplicated: json["deduplicated"]?.boolValue ?? false)
    }
}
