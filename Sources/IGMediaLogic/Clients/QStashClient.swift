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

        public init(destination: String, body: [UInt8], deduplicationID: String?, retries: Int = 3) {
            self.destination = destination
            self.body = body
            self.deduplicationID = deduplicationID
            self.retries = retries
        }
    }

    public struct Published: Sendable, Equatable {
        public var messageID: String
        public var deduplicated: Bool
    }

    func request(_ message: Message) -> HTTPClientRequest {
        var headers = [
            ("Authorization", "Bearer \(token)"),
            ("Content-Type", "application/json"),
            ("Upstash-Method", "POST"),
            ("Upstash-Retries", String(message.retries)),
        ]
        if let id = message.deduplicationID { headers.append(("Upstash-Deduplication-Id", id)) }
        return core.request("POST", "/v2/publish/" + message.destination, headers: headers, body: message.body)
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
