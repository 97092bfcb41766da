/// Cloudinary's error rules (reference §3.7): statuses to `UpstreamError` kinds, and messages from
/// `{"error":{"message":…}}` made safe to log.
extension CloudinaryClient {
    /// Longest Cloudinary message kept (its invalid-signature text quotes the whole string to sign).
    static let maxMessageCharacters = 200

    /// nil for 2xx. 404 on upload-from-URL means the source is gone (an expired Instagram CDN link),
    /// which retrying with the same URL will not fix, hence `.rejected` rather than `.notFound`.
    static func errorKind(status: Int) -> UpstreamError.Kind? {
        switch status {
        case 200..<300: return nil
        case 420, 429: return .rateLimited
        case 401, 403: return .auth
        case 423, 500...: return .server
        default: return .rejected
        }
    }

    /// The JSON body of a 2xx answer; otherwise the error its status stands for.
    func checked(_ response: HTTPClientResponse) throws(UpstreamError) -> JSONValue {
        if let kind = Self.errorKind(status: response.status) {
            let contentType = response.headers["Content-Type"] ?? "no content type"
            var message = Self.errorText(response).map { Self.safeMessage($0, redacting: secrets) }
                ?? "answer is not a JSON error (\(Self.safeMessage(contentType, redacting: secrets)))"
            if let requestID = response.headers["X-Request-Id"], !requestID.isEmpty {
                message += " [x-request-id \(Self.safeMessage(requestID, redacting: secrets))]"
            }
            throw UpstreamError(service: Self.service, kind: kind, status: response.status, message: message)
        }
        return try core.json(response)
    }

    /// What must never appear in a message: the API secret and the Basic credentials.
    var secrets: [String] {
        [config.apiSecret, String(basicAuthorization.dropFirst("Basic ".count))]
    }

    static func errorText(_ response: HTTPClientResponse) -> String? {
        guard let answer = try? JSONParser.parse(response.body, maxDepth: 16) else { return nil }
        return answer["error"]?["message"]?.stringValue ?? answer["error"]?.stringValue
    }

    /// `text` without secrets, signatures, URL query strings or control characters, clipped.
    static func safeMessage(_ text: String, redacting secrets: [String]) -> String {
        UpstreamMessage.redact(text, secrets: secrets, maxLength: maxMessageCharacters, redactHexRuns: true)
    }
}
