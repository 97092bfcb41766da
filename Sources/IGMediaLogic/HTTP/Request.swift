/// One HTTP request as the application sees it: decoded once from CGI params, never touched by C.
public struct Request: Sendable {
    public var method: String
    /// The path without query string, percent-decoded.
    public var path: String
    /// The raw query string as received.
    public var rawQuery: String
    /// Query parameters, percent-decoded (`+` is a space), in order; repeated names kept.
    public var query: [(name: String, value: String)]
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Correlates the log line, the response header and upstream calls.
    public var requestID: String
    /// Path parameters filled in by the router (e.g. `tenantId`).
    public var pathParameters: [String: String] = [:]

    public init(
        method: String, path: String, rawQuery: String = "", query: [(String, String)] = [],
        headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [], requestID: String = ""
    ) {
        self.method = method
        self.path = path
        self.rawQuery = rawQuery
        self.query = query.map { (name: $0.0, value: $0.1) }
        self.headers = headers
        self.body = body
        self.requestID = requestID
    }

    /// The first value of query parameter `name`.
    public func queryValue(_ name: String) -> String? {
        query.first(where: { $0.name == name })?.value
    }

    /// The credentials of an `Authorization: Bearer <token>` header (scheme case-insensitive),
    /// or nil when the header is missing, repeated, or malformed.
    public var bearerToken: String? {
        let values = headers.values("Authorization")
        guard values.count == 1 else { return nil }
        // On bytes: a Character view would glue a space to a following combining mark and miss it.
        var value = values[0]
        return value.withUTF8 { bytes -> String? in
            guard bytes.count > 7 else { return nil }
            let scheme: [UInt8] = Array("bearer ".utf8)
            for i in 0..<7 where bytes[i] | (i < 6 ? 0x20 : 0) != scheme[i] { return nil }
            var start = 7
            var end = bytes.count
            while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
            while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
            guard start < end else { return nil }
            let token = UnsafeBufferPointer(rebasing: bytes[start..<end])
            guard !token.contains(0x20) else { return nil }
            return String(decoding: token, as: UTF8.self)
        }
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return s
    }
}
