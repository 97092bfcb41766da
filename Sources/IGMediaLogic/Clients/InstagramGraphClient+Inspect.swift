extension InstagramGraphClient {
    public func inspectToken(
        apiType: APIType, accessToken: String, appID: String?, appSecret: String
    ) throws(UpstreamError) -> TokenInspection {
        let secrets = [accessToken, appSecret]
        switch apiType {
        case .instagramLogin:
            // next-capabilities §1.6: `debug_token` is not known to work for Instagram Login tokens.
            let json = try get(
                graph, "/\(graphVersion)/me", query: [("fields", "user_id,username"), ("access_token", accessToken)],
                secrets: secrets)
            return TokenInspection(expiresAt: nil, userID: json["user_id"]?.idString ?? json["id"]?.idString)
        case .facebookLogin:
            guard let appID, !appID.isEmpty else {
                let json = try get(
                    facebook, "/\(graphVersion)/me", query: [("fields", "id"), ("access_token", accessToken)], secrets: secrets)
                return TokenInspection(expiresAt: nil, userID: json["id"]?.idString)
            }
            let query = [("input_token", accessToken), ("access_token", "\(appID)|\(appSecret)")]
            let json = try get(facebook, "/\(graphVersion)/debug_token", query: query, secrets: secrets + ["\(appID)|\(appSecret)"])
            return try Self.inspection(json, appID: appID, secrets: secrets)
        }
    }

    /// `debug_token`'s `data` (§1.5): an invalid token is HTTP 200 with `is_valid:false` and an
    /// `error` whose subcode key is `subcode`; `expires_at` 0 means never.
    static func inspection(_ json: JSONValue, appID: String, secrets: [String]) throws(UpstreamError) -> TokenInspection {
        guard let data = json["data"], case .object = data else { throw malformed("debug_token answer has no data") }
        guard data["is_valid"]?.boolValue == true else {
            let error = data["error"]
            let code = error?["code"]?.intValue ?? 190
            let message = InstagramErrorClassifier.redact(
                error?["message"]?.stringValue ?? "token is not valid", secrets: secrets)
            throw UpstreamError(
                service: InstagramErrorClassifier.service, kind: .auth, status: 200, message: message, code: code,
                subcode: error?["subcode"]?.intValue ?? error?["error_subcode"]?.intValue)
        }
        if let owner = data["app_id"]?.idString, owner != appID {
            throw rejected("the token was issued for another app")
        }
        let expiresAt = data["expires_at"]?.intValue.flatMap { $0 > 0 ? Double($0) : nil }
        return TokenInspection(expiresAt: expiresAt, userID: data["user_id"]?.idString)
    }
}
