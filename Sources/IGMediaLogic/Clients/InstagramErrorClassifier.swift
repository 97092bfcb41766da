/// Turns Instagram answers into `UpstreamError`s (reference §4.6): the body decides first — the
/// Graph shape `{"error":{"message","type","code","error_subcode","fbtrace_id"}}` or the
/// api.instagram.com shape `{"error_type","code","error_message"}` — then the HTTP status.
/// The order is next-capabilities §2.3's: token and permission codes, then the throttles, then
/// Meta's `is_transient` hint, then what is left.
///
/// Messages are Instagram's own text, clipped, with every known secret scrubbed and the query of
/// any URL dropped, so they are safe to log and to store as a tenant's last error.
enum InstagramErrorClassifier {
    /// The `service` of every Instagram `UpstreamError`.
    static let service = "instagram"
    static let maxMessageLength = 300

    /// The kind for a Graph error `code` (nil when the code is not one the table decides).
    static func kind(graphCode code: Int) -> UpstreamError.Kind? {
        switch code {
        case 190, 102: return .auth
        // 368 is a temporary policy block: back off like a throttle, never hammer it. 80000-80014
        // are the Business-Use-Case throttles (80002 Instagram, 80001 Pages, ...).
        case 4, 17, 32, 341, 368, 613, 80000...80014: return .rateLimited
        case 1, 2: return .server
        case 10, 200...299: return .auth
        case 100: return .rejected
        default: return nil
        }
    }

    /// The kind for an HTTP status when the body did not decide.
    static func kind(status: Int) -> UpstreamError.Kind {
        switch status {
        case 401: return .auth
        case 404: return .notFound
        case 429: return .rateLimited
        case 400..<500: return .rejected
        case 500..<600: return .server
        default: return .malformed
        }
    }

    /// The JSON body of a successful answer, or the error it stands for. `secrets` are scrubbed
    /// from any message (tokens, app secret, authorization code).
    static func check(_ response: HTTPClientResponse, secrets: [String]) -> Result<JSONValue, UpstreamError> {
        let status = response.status
        let json = try? JSONParser.parse(response.body, maxDepth: 64)
        if let json, var error = error(in: json, status: status, secrets: secrets) {
            if error.kind == .rateLimited { error.retryAfterSeconds = regainAccessSeconds(response.headers) }
            return .failure(error)
        }
        guard (200..<300).contains(status) else {
            let what = json == nil ? "a non-JSON body" : "an unrecognised JSON body"
            let decided = kind(status: status)
            return .failure(
                UpstreamError(
                    service: service, kind: decided, status: status, message: "HTTP \(status) with \(what)",
                    retryAfterSeconds: decided == .rateLimited ? regainAccessSeconds(response.headers) : nil))
        }
        guard let json else {
            return .failure(UpstreamError(service: service, kind: .malformed, status: status, message: "answer is not JSON"))
        }
        return .success(json)
    }

    /// The error described by a JSON body in either of Instagram's two shapes, or nil.
    static func error(in json: JSONValue, status: Int, secrets: [String]) -> UpstreamError? {
        if let graph = json["error"], case .object = graph {
            let code = graph["code"]?.intValue
            var details: [String] = []
            if let type = graph["type"]?.stringValue { details.append(type) }
            if let subcode = graph["error_subcode"]?.intValue { details.append("subcode \(subcode)") }
            if let trace = graph["fbtrace_id"]?.stringValue { details.append("fbtrace_id \(trace)") }
            let text = graph["message"]?.stringValue ?? graph["error_user_msg"]?.stringValue ?? "error without a message"
            let transient = graph["is_transient"]?.boolValue == true
            return make(
                code: code, subcode: graph["error_subcode"]?.intValue ?? graph["subcode"]?.intValue, status: status,
                transient: transient, text: text, details: details, secrets: secrets)
        }
        if let errorType = json["error_type"]?.stringValue {
            let text = json["error_message"]?.stringValue ?? "error without a message"
            return make(
                code: json["code"]?.intValue, subcode: nil, status: status, transient: false, text: text, details: [errorType],
                secrets: secrets)
        }
        return nil
    }

    private static func make(
        code: Int?, subcode: Int?, status: Int, transient: Bool, text: String, details: [String], secrets: [String]
    ) -> UpstreamError {
        // A Graph error inside a 2xx still is an error; the status then says nothing.
        var decided = code.flatMap { kind(graphCode: $0) } ?? (status >= 400 ? kind(status: status) : .rejected)
        // Meta's hint never overrules a dead token, a missing permission or a throttle.
        if transient, decided != .auth, decided != .rateLimited { decided = .server }
        var message = redact(text, secrets: secrets)
        if !details.isEmpty { message += " (" + details.map { redact($0, secrets: secrets) }.joined(separator: ", ") + ")" }
        return UpstreamError(service: service, kind: decided, status: status, message: message, code: code, subcode: subcode)
    }

    /// How long Meta says the throttled business use case stays blocked:
    /// `X-Business-Use-Case-Usage` is `{"<id>":[{…,"estimated_time_to_regain_access":<minutes>}]}`
    /// (0 = not blocked). The longest of them, in seconds; nil when no header says so.
    static func regainAccessSeconds(_ headers: HTTPHeaders) -> Int? {
        guard let text = headers["X-Business-Use-Case-Usage"], text.utf8.count <= 8192,
            let usage = try? JSONParser.parse(Array(text.utf8), maxDepth: 8), case .object(let objects) = usage
        else { return nil }
        var minutes: Int?
        for (_, entries) in objects {
            for entry in entries.arrayValue ?? [] {
                if let wait = entry["estimated_time_to_regain_access"]?.intValue, wait > 0, wait <= 1440 {
                    minutes = max(minutes ?? 0, wait)
                }
            }
        }
        return minutes.map { $0 * 60 }
    }

    /// `text` without any of `secrets`, without URL queries, clipped to a loggable length.
    static func redact(_ text: String, secrets: [String]) -> String {
        UpstreamMessage.redact(text, secrets: secrets, maxLength: maxMessageLength)
    }
}
