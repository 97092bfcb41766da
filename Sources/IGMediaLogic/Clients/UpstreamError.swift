/// A failure of an outbound service call. `message` is safe to log and to show: it never carries
/// a token, secret, signature or a URL with credentials in its query.
public struct UpstreamError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// DNS, connect, reset: no HTTP answer.
        case transport
        case timeout
        /// 429, Graph throttle codes (4/17/32/341/368/613, 80000-80014), Cloudinary 420.
        case rateLimited
        /// Token or key invalid, expired or revoked (Graph 190/102, HTTP 401), or a permission
        /// missing (Graph 10, 200-299; Cloudinary and QStash 403).
        case auth
        /// The request was refused as invalid (4xx validation); retrying will not help.
        case rejected
        case notFound
        /// 5xx, Graph codes 1/2 or `is_transient`, Cloudinary 423: try again later.
        case server
        /// An answer this client cannot read.
        case malformed
    }

    public var service: String
    public var kind: Kind
    public var status: Int?
    public var message: String
    /// Service-specific error code (Graph `code`), when there is one.
    public var code: Int?
    /// The Graph `error_subcode` (`subcode` inside debug_token's answer), when there is one.
    public var subcode: Int?
    /// The vendor's `Retry-After`, in seconds, when it sent one.
    public var retryAfterSeconds: Int?

    public init(
        service: String, kind: Kind, status: Int? = nil, message: String, code: Int? = nil, subcode: Int? = nil,
        retryAfterSeconds: Int? = nil
    ) {
        self.subcode = subcode
        self.service = service
        self.kind = kind
        self.status = status
        self.message = message
        self.code = code
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// `Retry-After` as delta-seconds (the HTTP-date form is not used by these vendors): 0...86400.
    static func retryAfter(_ headers: HTTPHeaders) -> Int? {
        guard let text = headers["Retry-After"], text.utf8.count <= 6, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let seconds = Int(text), seconds <= 86_400
        else { return nil }
        return seconds
    }

    public var description: String {
        var text = "\(service) \(kind.rawValue)"
        if let status { text += " (HTTP \(status)" + (code.map { ", code \($0)" } ?? "") + ")" }
        return text + ": \(message)"
    }
}
