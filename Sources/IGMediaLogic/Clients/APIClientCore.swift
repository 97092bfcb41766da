#if canImport(Glibc)
import Glibc
#endif

/// What every outbound client shares: URL building, form/JSON bodies, sending through the
/// transport, mapping transport failures (`TransportErrorClassifier`) and JSON decoding. Retries
/// are the callers' `RetryPolicy`.
/// Service façades (Instagram, Cloudinary, QStash) only add their paths and error rules.
public struct APIClientCore: Sendable {
    public let service: String
    public let baseURL: String
    public let transport: any HTTPTransport
    public let timeoutMilliseconds: Int

    public init(service: String, baseURL: String, transport: any HTTPTransport, timeoutMilliseconds: Int) {
        self.service = service
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.transport = transport
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// `baseURL + path + ?query`, every query name and value percent-encoded.
    public func url(_ path: String, query: [(String, String)] = []) -> String {
        var url = baseURL + (path.hasPrefix("/") ? path : "/" + path)
        if !query.isEmpty { url += "?" + Self.formEncode(query) }
        return url
    }

    public func request(
        _ method: String, _ path: String, query: [(String, String)] = [], headers: [(String, String)] = [],
        body: [UInt8] = []
    ) -> HTTPClientRequest {
        HTTPClientRequest(
            method: method, url: url(path, query: query), headers: headers, body: body,
            timeoutMilliseconds: timeoutMilliseconds)
    }

    /// Sends one request; transport failures become `UpstreamError`, any HTTP status is returned.
    public func send(_ request: HTTPClientRequest) throws(UpstreamError) -> HTTPClientResponse {
        do {
            return try transport.send(request)
        } catch {
            throw transportError(error)
        }
    }

    /// Sends requests in parallel, at most `concurrency` at a time; results in order.
    public func sendAll(_ requests: [HTTPClientRequest], concurrency: Int) -> [Result<HTTPClientResponse, UpstreamError>] {
        transport.sendAll(requests, concurrency: concurrency).map { result in
            result.mapError { transportError($0) }
        }
    }

    public func transportError(_ error: TransportError) -> UpstreamError {
        TransportErrorClassifier.error(error, service: service, timeoutMilliseconds: timeoutMilliseconds)
    }

    /// The body as JSON, or a `.malformed` error naming the status.
    public func json(_ response: HTTPClientResponse) throws(UpstreamError) -> JSONValue {
        do {
            return try JSONParser.parse(response.body, maxDepth: 64)
        } catch {
            throw UpstreamError(service: service, kind: .malformed, status: response.status, message: "answer is not JSON")
        }
    }

    /// `application/x-www-form-urlencoded` (RFC 3986 unreserved characters kept).
    public static func formEncode(_ fields: [(String, String)]) -> String {
        fields.map { "\(PercentDecoding.encode($0.0))=\(PercentDecoding.encode($0.1))" }.joined(separator: "&")
    }

    /// A `multipart/form-data` body and its content type.
    public static func multipart(_ fields: [(String, String)]) -> (body: [UInt8], contentType: String) {
        let boundary = "igmedia-" + Digest.hex(SecureRandom.bytes(12))
        var body: [UInt8] = []
        for (name, value) in fields {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n".utf8)
            body += Array(value.utf8) + [0x0D, 0x0A]
        }
        body += Array("--\(boundary)--\r\n".utf8)
        return (body, "multipart/form-data; boundary=\(boundary)")
    }
}
