/// An outbound HTTP request. `url` may carry secrets (Graph tokens): never log it.
public struct HTTPClientRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]
    public var timeoutMilliseconds: Int

    public init(method: String, url: String, headers: [(String, String)] = [], body: [UInt8] = [], timeoutMilliseconds: Int) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeoutMilliseconds = timeoutMilliseconds
    }
}

public struct HTTPClientResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// How long the transfer took (curl's total time), when the transport knows.
    public var elapsedNanoseconds: UInt64?

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// A request that got no HTTP answer. Descriptions never include the URL.
public enum TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    case timeout
    case connectionFailed(String)
    case responseTooLarge
    case failed(String)

    public var description: String {
        switch self {
        case .timeout: return "timed out"
        case .connectionFailed(let why): return "connection failed: \(why)"
        case .responseTooLarge: return "response too large"
        case .failed(let why): return "transport failed: \(why)"
        }
    }
}

/// Outbound HTTP. `CurlTransport` is the real one; tests may pass a recording fake.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPClientRequest) throws(TransportError) -> HTTPClientResponse
    /// Sends every request, at most `concurrency` at a time; results in request order.
    func sendAll(_ requests: [HTTPClientRequest], concurrency: Int) -> [Result<HTTPClientResponse, TransportError>]
}
