/// The validated body of `POST /register`.
public struct RegisterRequest: Sendable, Equatable {
    public var name: String
    public var instagramAccountID: String
    public var instagramAccountSecret: String
    public var instagramAccessToken: String?
    public var instagramAppID: String?
    public var apiType: APIType

    /// 100 characters of four-byte scripts, or of a letter with a few combining marks each.
    static let maximumNameBytes = 400

    /// Parses and validates the body; every violation is named in one 400.
    public static func decode(_ request: Request) throws(HTTPError) -> RegisterRequest {
        let object = try JSONBody.object(request)
        var problems: [String] = []

        var name = ""
        if let value = object["name"]?.stringValue, value.utf8.count > Self.maximumNameBytes {
            // Bytes first: 100 characters can hide any number of combining marks, and counting
            // characters of a megabyte costs milliseconds.
            problems.append("name must be at most \(Self.maximumNameBytes) bytes")
        } else if let value = object["name"]?.stringValue {
            name = value.trimmingCharacters(in: " \t\r\n")
            if name.count < 3 { problems.append("name must be at least 3 characters") }
            if name.count > 100 { problems.append("name must be at most 100 characters") }
            if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                problems.append("name must not contain control characters")
            }
        } else {
            problems.append(object["name"] == nil ? "name is required" : "name must be a string")
        }

        let accountID = JSONBody.identifier(object["instagramAccountId"], field: "instagramAccountId", required: true, problems: &problems)
        let appID = JSONBody.identifier(object["instagramAppId"], field: "instagramAppId", required: false, problems: &problems)

        var secret = ""
        switch object["instagramAccountSecret"] {
        case .string(let value)? where !value.trimmingCharacters(in: " \t\r\n").isEmpty:
            if value.utf8.count > 512 { problems.append("instagramAccountSecret must be at most 512 bytes") }
            secret = value
        case .string?: problems.append("instagramAccountSecret must not be empty")
        case nil: problems.append("instagramAccountSecret is required")
        default: problems.append("instagramAccountSecret must be a string")
        }

        var token: String?
        switch object["instagramAccessToken"] {
        case nil, .null?: break
        case .string(let value)?:
            let trimmed = value.trimmingCharacters(in: " \t\r\n")
            if trimmed.utf8.count > 4096 { problems.append("instagramAccessToken must be at most 4096 bytes") }
            // Scalars, not Characters: a space followed by a combining mark is one Character.
            if trimmed.unicodeScalars.contains(where: { $0 == " " || Character($0).isNewline }) {
                problems.append("instagramAccessToken must not contain whitespace")
            }
            token = trimmed.isEmpty ? nil : trimmed
        default: problems.append("instagramAccessToken must be a string")
        }

        var apiType = APIType.instagramLogin
        if let raw = object["apiType"]?.stringValue, let parsed = APIType(rawValue: raw) {
            apiType = parsed
        } else {
            problems.append(object["apiType"] == nil ? "apiType is required" : "apiType must be FACEBOOK_LOGIN or INSTAGRAM_LOGIN")
        }

        guard problems.isEmpty else { throw HTTPError.validation("Validation failed: " + problems.joined(separator: "; ")) }
        return RegisterRequest(
            name: name, instagramAccountID: accountID ?? "", instagramAccountSecret: secret,
            instagramAccessToken: token, instagramAppID: appID, apiType: apiType)
    }
}
