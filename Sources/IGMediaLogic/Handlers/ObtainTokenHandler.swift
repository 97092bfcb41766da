/// `POST /auth/obtain-token`: exchanges an Instagram authorization code for a long-lived token.
public struct ObtainTokenHandler: RequestHandler {
    let instagram: any InstagramAPI
    let redirectURI: String?

    public init(instagram: any InstagramAPI, redirectURI: String?) {
        self.instagram = instagram
        self.redirectURI = redirectURI
    }

    struct Body {
        var embedURL: String
        var code: String
        var appID: String
        var appSecret: String
    }

    static func decode(_ request: Request) throws(HTTPError) -> Body {
        let object = try JSONBody.object(request)
        var problems: [String] = []
        func string(_ field: String, max: Int) -> String {
            switch object[field] {
            case .string(let value)?:
                let trimmed = value.trimmingCharacters(in: " \t\r\n")
                if trimmed.isEmpty { problems.append("\(field) must not be empty") }
                if trimmed.utf8.count > max { problems.append("\(field) must be at most \(max) bytes") }
                return trimmed
            case nil: problems.append("\(field) is required")
            default: problems.append("\(field) must be a string")
            }
            return ""
        }
        let embedURL = string("embedUrl", max: 2048)
        if !embedURL.isEmpty && !EnvironmentReader.isHTTPURL(embedURL) { problems.append("embedUrl must be an http(s) URL") }
        var code = string("code", max: 2048)
        if code.hasSuffix("#_") { code.removeLast(2) }
        let appID = JSONBody.identifier(object["instagramAppId"], field: "instagramAppId", required: true, problems: &problems)
        let appSecret = string("instagramAppSecret", max: 512)
        guard problems.isEmpty else { throw HTTPError.validation("Validation failed: " + problems.joined(separator: "; ")) }
        return Body(embedURL: embedURL, code: code, appID: appID ?? "", appSecret: appSecret)
    }

    public func handle(_ request: Request) throws -> Response {
        let body = try Self.decode(request)
        let token: InstagramToken
        do {
            token = try instagram.exchangeCode(
                code: body.code, appID: body.appID, appSecret: body.appSecret, redirectURI: redirectURI ?? body.embedURL)
        } catch {
            throw HTTPError.internalError("Token exchange failed: \(error.message)")
        }
        let testData: String
        do {
            testData = try instagram.firstMediaPageJSON(accessToken: token.accessToken, limit: 3)
        } catch {
            testData = JSONWriter.string(.object([("error", .string(error.message))]))
        }
        return Envelope.success(.object([
            ("success", .bool(true)),
            ("longLivedToken", .string(token.accessToken)),
            ("testData", .string(testData)),
        ]))
    }
}
