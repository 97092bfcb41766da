/// Cloudinary's answers as `UpstreamError`s (reference §3.7): the status decides the kind, the
/// message comes from `{"error":{"message":…}}` (else the `X-Cld-Error` header, Cloudinary's
/// explanation where there is no JSON body), made safe to log, with Cloudinary's request id.
enum CloudinaryErrorClassifier {
    static let service = "cloudinary"
    /// Longest Cloudinary message kept (its invalid-signature text quotes the whole string to sign).
    static let maxMessageCharacters = 200

    /// nil for 2xx. 404 on upload-from-URL means the source is gone (an expired Instagram CDN link),
    /// which retrying with the same URL will not fix, hence `.rejected` rather than `.notFound`.
    /// 423 is "still processing": retry later, like a 5xx.
    static func kind(status: Int) -> UpstreamError.Kind? {
        switch status {
        case 200..<300: return nil
        case 420, 429: return .rateLimited
        case 401, 403: return .auth
        case 423, 500...: return .server
        default: return .rejected
        }
    }

    /// The error a non-2xx answer stands for; nil for 2xx. `secrets` never reach the message.
    static func error(_ response: HTTPClientResponse, secrets: [String]) -> UpstreamError? {
        guard let kind = kind(status: response.status) else { return nil }
        let contentType = response.headers["Content-Type"] ?? "no content type"
        var message = (errorText(response) ?? response.headers["X-Cld-Error"].flatMap { $0.isEmpty ? nil : $0 })
            .map { safeMessage($0, redacting: secrets) }
            ?? "answer is not a JSON error (\(safeMessage(contentType, redacting: secrets)))"
        if let requestID = response.headers["X-Request-Id"], !requestID.isEmpty {
            message += " [x-request-id \(safeMessage(requestID, redacting: secrets))]"
        }
        return UpstreamError(
            service: service, kind: kind, status: response.status, message: message,
            retryAfterSeconds: UpstreamError.retryAfter(response.headers))
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
