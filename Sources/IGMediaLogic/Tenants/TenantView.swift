/// What a tenant, an operator or the CLI may see of a tenant: never a secret or a token.
public struct TenantView: Sendable {
    public let tenant: Tenant
    public let photosCount: Int
    public let tokenState: TokenState

    public init(tenant: Tenant, photosCount: Int, now: Double, expiringDays: Int) {
        self.tenant = tenant
        self.photosCount = photosCount
        self.tokenState = tenant.health.state(
            now: now, hasToken: tenant.instagramAccessToken != nil, apiType: tenant.apiType, expiringDays: expiringDays)
    }

    public var json: JSONValue {
        let health = tenant.health
        func optional(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }
        return .object([
            ("id", .string(tenant.id)),
            ("name", .string(tenant.name)),
            ("apiType", .string(tenant.apiType.rawValue)),
            ("createdAt", optional(tenant.createdAt)),
            ("photosCount", .int(photosCount)),
            ("tokenState", .string(tokenState.rawValue)),
            ("tokenExpiresAt", optional(health.tokenExpiresAt.map { ISO8601.format($0) })),
            ("lastSyncAt", optional(health.lastSyncAt)),
            ("lastSyncOutcome", optional(health.lastSyncOutcome)),
            ("lastErrorCode", optional(health.lastErrorCode?.rawValue)),
            ("lastErrorAt", optional(health.lastErrorAt)),
            ("consecutiveFailures", .int(health.consecutiveFailures)),
        ])
    }
}

extension TenantRepository {
    /// The view of a tenant, or nil when it does not exist or is being deleted.
    public func view(_ tenantID: String, now: Double, expiringDays: Int) throws -> TenantView? {
        guard let tenant = try load(tenantID), tenant.deletingSince == nil else { return nil }
        let recorded = try store.run(RedisCommand("HGET", RedisArgument(keys.tenant(tenantID)), RedisArgument(TenantField.photosCount)))
        return TenantView(
            tenant: tenant, photosCount: try photosCount(tenantID, recorded: recorded.stringValue), now: now,
            expiringDays: expiringDays)
    }
}
