/// `GET /instagram-callback`: shows the OAuth authorization code Instagram redirected with.
public struct InstagramCallbackHandler: RequestHandler {
    public init() {}

    public func handle(_ request: Request) throws -> Response {
        if let error = request.queryValue("error"), !error.isEmpty {
            let description = request.queryValue("error_description").flatMap { $0.isEmpty ? nil : $0 }
                ?? request.queryValue("error_reason").flatMap { $0.isEmpty ? nil : $0 }
                ?? error
            throw HTTPError.validation("Instagram authorization failed: \(Self.clip(description))")
        }
        guard var code = request.queryValue("code") else {
            throw HTTPError.validation("Query parameter 'code' is required")
        }
        // Instagram appends "#_" to the code on the redirect; pasted codes keep it.
        if code.hasSuffix("#_") { code.removeLast(2) }
        code = code.trimmingCharacters(in: " \t")
        guard !code.isEmpty else { throw HTTPError.validation("Query parameter 'code' must not be empty") }
        guard code.utf8.count <= 2048 else { throw HTTPError.validation("Query parameter 'code' is too long") }
        guard !code.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw HTTPError.validation("Query parameter 'code' must not contain control characters")
        }
        return Envelope.success(.object([("code", .string(code))]))
    }

    private static func clip(_ text: String) -> String {
        let flat = String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : Character($0) })
        return flat.count <= 300 ? flat : String(flat.prefix(300)) + "…"
    }
}
