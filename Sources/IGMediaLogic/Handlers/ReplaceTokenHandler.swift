import Logging

/// `PUT /tenant/instagram-token` (management token) `{"instagramAccessToken":"…"}`: checks the
/// token with Instagram (one call), stores it sealed, resets the health fields and syncs at once.
/// A token Instagram refuses is a 400 naming the reason, and nothing stored changes.
public struct ReplaceTokenHandler: RequestHandler {
    let endpoints: TenantEndpoints
    let instagram: any InstagramAPI
    let engine: SyncEngine?
    let logger: Logger

    public init(endpoints: TenantEndpoints, instagram: any InstagramAPI, engine: SyncEngine?, logger: Logger) {
        self.endpoints = endpoints
        self.instagram = instagram
        self.engine = engine
        self.logger = logger
    }

    public func handle(_ request: Request) throws -> Response {
        let tenant = try endpoints.managedTenant(request)
        let token = try Self.token(request)
        let inspection: TokenInspection
        do {
            inspection = try instagram.inspectToken(
                apiType: tenant.apiType, accessToken: token, appID: tenant.instagramAppID, appSecret: tenant.instagramAccountSecret)
        } catch {
            throw Self.refusal(error)
        }
        // Instagram Login answers with the account the token belongs to: never let one tenant
        // point itself at another account's media.
        if tenant.apiType == .instagramLogin, let owner = inspection.userID, owner != tenant.instagramAccountID {
            throw HTTPError.validation("instagramAccessToken belongs to another Instagram account than this tenant's")
        }
        let now = endpoints.clock.now()
        try endpoints.repository.replaceAccessToken(
            tenantID: tenant.id, token: token, at: ISO8601.format(now), expiresAt: inspection.expiresAt)
        if tenant.apiType == .facebookLogin, let userID = inspection.userID, userID != tenant.instagramAccountID {
            let previous = try endpoints.repository.rawHash(tenant.id)?[TenantField.metaUserIndex]
            try endpoints.repository.indexMetaUser(userID, tenantID: tenant.id, previousIndex: previous)
        }
        logger.info("instagram token replaced", metadata: ["tenant": "\(tenant.id)", "request": "\(request.requestID)"])
        var data: [(String, JSONValue)] = []
        if let engine {
            switch Result(catching: { () throws(SyncError) in try engine.sync(tenantID: tenant.id) }) {
            case .success(let result): data.append(("sync", result.json))
            case .failure(let error):
                data.append(("note", .string("The token was stored, but the first sync failed: \(error). It is retried on the next scheduled sync.")))
            }
        }
        data.insert(("tenant", try endpoints.view(tenant.id).json), at: 0)
        return Envelope.success(.object(data))
    }

    static func token(_ request: Request) throws -> String {
        let body = try JSONBody.object(request)
        guard let value = body["instagramAccessToken"] else { throw HTTPError.validation("instagramAccessToken is required") }
        guard let text = value.stringValue else { throw HTTPError.validation("instagramAccessToken must be a string") }
        let token = text.trimmingCharacters(in: " \t\r\n")
        guard !token.isEmpty else { throw HTTPError.validation("instagramAccessToken must not be empty") }
        guard token.utf8.count <= 4096 else { throw HTTPError.validation("instagramAccessToken must be at most 4096 bytes") }
        guard !token.unicodeScalars.contains(where: { $0 == " " || Character($0).isNewline }) else {
            throw HTTPError.validation("instagramAccessToken must not contain whitespace")
        }
        return token
    }

    /// Instagram's refusal as a 400 naming our code; an outage as a 503 (the old token stays).
    static func refusal(_ error: UpstreamError) -> HTTPError {
        let code = HealthErrorCode.classify(error)
        switch code {
        case .upstreamUnavailable, .rateLimited:
            return HTTPError(
                .serviceUnavailable, "Instagram could not check the token (\(code.rawValue)); nothing was changed, try again",
                headers: [("Retry-After", "30")])
        default:
            var detail = error.code.map { "code \($0)" } ?? "HTTP \(error.status ?? 0)"
            if let subcode = error.subcode { detail += ", subcode \(subcode)" }
            return HTTPError.validation("instagramAccessToken was refused by Instagram: \(code.rawValue) (\(detail))")
        }
    }
}
