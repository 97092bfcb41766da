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
        let value = values[0]
        guard value.utf8.count > 7 else { return nil }
        let scheme = value.prefix(7)
        guard scheme.lowercased() == "bearer " else { return nil }
        let token = value.dropFirst(7).trimmingSpaces()
        guard !token.isEmpty, !token.contains(" ") else { return nil }
        return String(token)
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
