/// QStash API answers as `UpstreamError`s (reference §2.2): `{"error":"…"}` with 400, 401, 404,
/// 412 (quota exceeded), 429 (rate limited, with `RateLimit-*` or `Burst-RateLimit-*` headers) or
/// a 5xx.
enum QStashErrorClassifier {
    static let service = "qstash"

    /// nil for a 2xx (200 published, 201 created, 202 a duplicate accepted: next-capabilities §7.3).
    static func kind(status: Int) -> UpstreamError.Kind? {
        switch status {
        case 200..<300: return nil
        case 429: return .rateLimited
        case 401, 403: return .auth
        case 404: return .notFound
        case 500...599: return .server
        // 412: the plan's message quota is spent; it does not come back within a retry.
        default: return .rejected
        }
    }

    /// The error a non-success answer stands for; nil for a 2xx. QStash may quote the token
    /// back ("token … is not valid"), so it is scrubbed.
    static func error(_ response: HTTPClientResponse, token: String, now: Double) -> UpstreamError? {
        guard let kind = kind(status: response.status) else { return nil }
        let text = (try? JSONParser.parse(response.body))?["error"]?.stringValue ?? "HTTP \(response.status)"
        let message = UpstreamMessage.redact(text, secrets: [token], maxLength: 200)
        return UpstreamError(
            service: service, kind: kind, status: response.status, message: message,
            retryAfterSeconds: kind == .rateLimited ? retryAfter(response.headers, now: now) : nil)
    }

    /// `Retry-After`, else the reset (a unix time) of the burst or the daily limit.
    static func retryAfter(_ headers: HTTPHeaders, now: Double) -> Int? {
        if let seconds = UpstreamError.retryAfter(headers) { return seconds }
        for name in ["Burst-RateLimit-Reset", "RateLimit-Reset"] {
            guard let text = headers[name], text.utf8.count <= 12, let reset = Int(text) else { continue }
            return min(86_400, max(0, reset - Int(now)))
        }
        return nil
    }
}
