/// Shared JSON body rules for the POST endpoints.
enum JSONBody {
    /// The body as a JSON object: 400 when it is not JSON, not an object, or not sent as JSON.
    static func object(_ request: Request) throws(HTTPError) -> JSONValue {
        guard isJSON(request.headers["Content-Type"]) else {
            throw HTTPError.validation("Content-Type must be application/json")
        }
        guard !request.body.isEmpty else { throw HTTPError.validation("Request body is required") }
        let value: JSONValue
        do {
            value = try JSONParser.parse(request.body, maxDepth: 16)
        } catch {
            throw HTTPError.validation("Request body is not valid JSON: \(error.reason)")
        }
        guard case .object = value else { throw HTTPError.validation("Request body must be a JSON object") }
        return value
    }

    /// `application/json` or `application/<anything>+json`, parameters (charset) allowed.
    static func isJSON(_ header: String?) -> Bool {
        guard let header else { return false }
        let mediaType = header.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0]
            .trimmingSpaces().lowercased()
        if mediaType == "application/json" { return true }
        guard mediaType.hasPrefix("application/"), mediaType.hasSuffix("+json") else { return false }
        let subtype = mediaType.dropFirst("application/".count).dropLast("+json".count)
        return !subtype.isEmpty && subtype.allSatisfy { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }
    }

    /// A string id, or an integer literal kept as its digits (ids exceed 2^53).
    static func identifier(_ value: JSONValue?, field: String, required: Bool, problems: inout [String]) -> String? {
        switch value {
        case nil, .null?:
            if required { problems.append("\(field) is required") }
            return nil
        case .string(let text)?:
            let trimmed = text.trimmingCharacters(in: " \t\r\n")
            if trimmed.isEmpty {
                problems.append("\(field) must not be empty")
                return nil
            }
            if trimmed.utf8.count > 64 || !trimmed.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) {
                problems.append("\(field) must be at most 64 letters, digits, '_' or '-'")
                return nil
            }
            return trimmed
        case .number(let digits)? where !digits.hasPrefix("-") && digits.allSatisfy(\.isNumber) && digits.count <= 64:
            return digits
        default:
            problems.append("\(field) must be a string or a positive integer")
            return nil
        }
    }
}
