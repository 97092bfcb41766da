extension InstagramGraphClient {
    /// What api.instagram.com answers for an authorization code (reference §4.2 step 2).
    struct ShortLivedToken: Equatable {
        var accessToken: String
        /// Digits as sent; a JSON number ≥ 2^53 keeps its literal text.
        var userID: String?
        var permissions: [String]
    }

    public func refreshToken(
        apiType: APIType, accessToken: String, appID: String?, appSecret: String
    ) throws(UpstreamError) -> InstagramToken {
        let secrets = [accessToken, appSecret]
        switch apiType {
        case .instagramLogin:
            let query = [("grant_type", "ig_refresh_token"), ("access_token", accessToken)]
            return try Self.token(get(graph, "/refresh_access_token", query: query, secrets: secrets), userID: nil)
        case .facebookLogin:
            guard let appID, !appID.isEmpty else {
                throw Self.rejected("FACEBOOK_LOGIN token refresh needs instagramAppId")
            }
            let query = [
                ("grant_type", "fb_exchange_token"), ("client_id", appID), ("client_secret", appSecret),
                ("fb_exchange_token", accessToken),
            ]
            let json = try get(facebook, "/\(graphVersion)/oauth/access_token", query: query, secrets: secrets)
            return try Self.token(json, userID: nil)
        }
    }

    public func exchangeCode(code: String, appID: String, appSecret: String, redirectURI: String) throws(UpstreamError) -> InstagramToken {
        let form = APIClientCore.formEncode([
            ("client_id", appID), ("client_secret", appSecret), ("grant_type", "authorization_code"),
            ("redirect_uri", redirectURI), ("code", code),
        ])
        let request = api.request(
            "POST", "/oauth/access_token",
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
            body: Array(form.utf8))
        // Sent once: a code is single-use, so a retry after a lost answer could only fail with
        // "This authorization code has been used" and hide the real error.
        let short = try Self.shortLivedToken(call(api, request, secrets: [code, appSecret]))
        let query = [("grant_type", "ig_exchange_token"), ("client_secret", appSecret), ("access_token", short.accessToken)]
        let json = try get(graph, "/access_token", query: query, secrets: [code, appSecret, short.accessToken])
        return try Self.token(json, userID: short.userID)
    }

    /// Accepts both observed shapes: `{"data":[{access_token,user_id,permissions}]}` and the flat
    /// object; `permissions` as a CSV string or an array.
    static func shortLivedToken(_ json: JSONValue) throws(UpstreamError) -> ShortLivedToken {
        let record = json["data"]?.arrayValue?.first ?? json
        guard let token = record["access_token"]?.stringValue, !token.isEmpty else {
            throw malformed("code exchange answer has no access_token")
        }
        let permissions: [String]
        switch record["permissions"] {
        case .string(let csv)?:
            permissions = csv.split(separator: ",").map { String($0).trimmingCharacters(in: " ") }.filter { !$0.isEmpty }
        case .array(let items)?:
            permissions = items.compactMap(\.stringValue)
        default:
            permissions = []
        }
        return ShortLivedToken(accessToken: token, userID: record["user_id"]?.idString, permissions: permissions)
    }

    /// `{"access_token","token_type","expires_in"}`; `expires_in` may be missing (Facebook).
    static func token(_ json: JSONValue, userID: String?) throws(UpstreamError) -> InstagramToken {
        guard let token = json["access_token"]?.stringValue, !token.isEmpty else {
            throw malformed("token answer has no access_token")
        }
        return InstagramToken(accessToken: token, expiresIn: json["expires_in"]?.intValue, userID: userID)
    }
}
