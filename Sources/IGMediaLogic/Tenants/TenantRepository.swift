/// Tenants, auth tokens and feeds in the store, with secrets sealed at rest.
public struct TenantRepository: Sendable {
    public let store: any RedisStore
    public let keys: KeySpace
    public let secrets: SecretBox

    public init(store: any RedisStore, keys: KeySpace, secrets: SecretBox) {
        self.store = store
        self.keys = keys
        self.secrets = secrets
    }

    /// Writes the tenant hash, its token mapping and the index in one MULTI/EXEC, so no crash
    /// leaves a token without a tenant.
    public func create(_ tenant: Tenant) throws(StoreError) {
        var fields: [RedisArgument] = [
            RedisArgument(TenantField.name), RedisArgument(tenant.name),
            RedisArgument(TenantField.authToken), RedisArgument(tenant.authToken),
            RedisArgument(TenantField.apiType), RedisArgument(tenant.apiType.rawValue),
            RedisArgument(TenantField.accountID), RedisArgument(seal(tenant.instagramAccountID, tenant.id, TenantField.accountID)),
            RedisArgument(TenantField.accountSecret), RedisArgument(seal(tenant.instagramAccountSecret, tenant.id, TenantField.accountSecret)),
        ]
        if let token = tenant.instagramAccessToken {
            fields += [RedisArgument(TenantField.accessToken), RedisArgument(seal(token, tenant.id, TenantField.accessToken))]
        }
        let blindIndex = secrets.blindIndexes(tenant.instagramAccountID)[0]
        for (field, value) in [
            (TenantField.appID, tenant.instagramAppID), (TenantField.tokenUpdate, tenant.tokenUpdate),
            (TenantField.createdAt, tenant.createdAt), (TenantField.managementTokenHash, tenant.managementTokenHash),
            (TenantField.tokenExpiresAt, tenant.health.tokenExpiresAt.map { String(Int($0)) }),
            (TenantField.blindIndex, blindIndex),
        ] {
            if let value { fields += [RedisArgument(field), RedisArgument(value)] }
        }
        var commands = [
            RedisCommand("HSET", [RedisArgument(keys.tenant(tenant.id))] + fields),
            RedisCommand("SET", RedisArgument(keys.authToken(tenant.authToken)), RedisArgument(tenant.id)),
            RedisCommand("SADD", RedisArgument(keys.tenantIndex), RedisArgument(tenant.id)),
            RedisCommand("SADD", RedisArgument(keys.accountIndex(blindIndex)), RedisArgument(tenant.id)),
        ]
        if let hash = tenant.managementTokenHash {
            commands.append(RedisCommand("SET", RedisArgument(keys.managementToken(hash: hash)), RedisArgument(tenant.id)))
        }
        if tenant.instagramAccessToken == nil {
            commands.append(RedisCommand("SADD", RedisArgument(keys.tenantsWithoutToken), RedisArgument(tenant.id)))
        }
        if let expiresAt = tenant.health.tokenExpiresAt {
            commands.append(RedisCommand("ZADD", RedisArgument(keys.tokenExpiry), RedisArgument(Int(expiresAt)), RedisArgument(tenant.id)))
        }
        let results = try store.transaction(commands)
        for result in results {
            if case .error(let message) = result { throw .commandFailed(String(message.prefix(80))) }
        }
    }

    /// The tenant id an auth token maps to, or nil.
    public func tenantID(forAuthToken token: String) throws(StoreError) -> String? {
        try store.run(RedisCommand("GET", RedisArgument(keys.authToken(token)))).stringValue
    }

    /// The tenant id an auth token maps to and, for a rotated-away token in its grace period, the
    /// milliseconds it has left (nil: no expiry). One round trip.
    public func authTokenLookup(_ token: String) throws(StoreError) -> (tenantID: String, remainingMilliseconds: Int?)? {
        let key = RedisArgument(keys.authToken(token))
        let replies = try store.pipeline([RedisCommand("GET", key), RedisCommand("PTTL", key)])
        guard let id = replies[0].stringValue else { return nil }
        let ttl = replies[1].intValue ?? -1
        return (id, ttl >= 0 ? ttl : nil)
    }

    /// The tenant id of a management token (looked up by its SHA-256), or nil.
    public func tenantID(forManagementToken token: String) throws(StoreError) -> String? {
        try store.run(RedisCommand("GET", RedisArgument(keys.managementToken(hash: ManagementToken.hash(token))))).stringValue
    }

    /// The tenant with decrypted secrets, or nil when it does not exist.
    /// Throws `TenantRepositoryError.undecryptable` when a sealed field fails to open.
    public func load(_ tenantID: String) throws -> Tenant? {
        let reply = try store.run(RedisCommand("HGETALL", RedisArgument(keys.tenant(tenantID))))
        guard let hash = reply.hashValue, !hash.isEmpty else { return nil }
        guard let name = hash[TenantField.name], let authToken = hash[TenantField.authToken],
              let apiType = hash[TenantField.apiType].flatMap(APIType.init(rawValue:)) else {
            throw TenantRepositoryError.incomplete(tenantID: tenantID)
        }
        func open(_ field: String) throws -> String? {
            guard let sealed = hash[field], !sealed.isEmpty else { return nil }
            do {
                return try secrets.open(sealed, tenantID: tenantID, field: field)
            } catch {
                throw TenantRepositoryError.undecryptable(tenantID: tenantID, field: field)
            }
        }
        guard let accountID = try open(TenantField.accountID), let accountSecret = try open(TenantField.accountSecret) else {
            throw TenantRepositoryError.incomplete(tenantID: tenantID)
        }
        var tenant = Tenant(
            id: tenantID, name: name, authToken: authToken, apiType: apiType, instagramAccountID: accountID,
            instagramAccountSecret: accountSecret, instagramAccessToken: try open(TenantField.accessToken),
            instagramAppID: hash[TenantField.appID], lastSync: hash[TenantField.lastSync],
            tokenUpdate: hash[TenantField.tokenUpdate], createdAt: hash[TenantField.createdAt],
            lastError: hash[TenantField.lastError])
        tenant.health = Self.health(hash)
        tenant.managementTokenHash = hash[TenantField.managementTokenHash]
        tenant.previousAuthToken = hash[TenantField.previousAuthToken]
        tenant.deletingSince = hash[TenantField.deletingSince]
        return tenant
    }

    /// The health fields of a tenant hash; unreadable values count as absent.
    static func health(_ hash: [String: String]) -> TokenHealth {
        var health = TokenHealth(
            tokenExpiresAt: hash[TenantField.tokenExpiresAt].flatMap(Double.init),
            lastSyncAt: hash[TenantField.lastSync], lastSyncOutcome: hash[TenantField.lastSyncOutcome],
            lastErrorCode: hash[TenantField.lastErrorCode].flatMap(HealthErrorCode.init(rawValue:)),
            lastErrorAt: hash[TenantField.lastErrorAt],
            consecutiveFailures: hash[TenantField.consecutiveFailures].flatMap { Int($0) } ?? 0,
            invalidReason: hash[TenantField.tokenInvalid].flatMap(HealthErrorCode.init(rawValue:)),
            refreshFailedAt: hash[TenantField.refreshFailedAt])
        health.rateLimitedUntil = hash[TenantField.rateLimitedUntil].flatMap(Double.init)
        health.rateLimitStrikes = hash[TenantField.rateLimitStrikes].flatMap { Int($0) } ?? 0
        return health
    }

    /// What GET /photos needs in one round trip: whether the tenant exists and its stored feed.
    public struct FeedRead: Sendable {
        public var tenantExists: Bool
        /// The stored JSON array, exactly as written; nil when there is none.
        public var photosJSON: [UInt8]?
        public var etag: String?
    }

    public func readFeed(_ tenantID: String) throws(StoreError) -> FeedRead {
        let replies = try store.pipeline([
            RedisCommand("EXISTS", RedisArgument(keys.tenant(tenantID))),
            RedisCommand("GET", RedisArgument(keys.photos(tenantID))),
            RedisCommand("GET", RedisArgument(keys.photosETag(tenantID))),
        ])
        for reply in replies {
            if case .error(let message) = reply { throw .commandFailed(String(message.prefix(80))) }
        }
        return FeedRead(
            tenantExists: (replies[0].intValue ?? 0) > 0, photosJSON: replies[1].bytesValue,
            etag: replies[2].stringValue)
    }

    /// Every tenant id, sorted (for tools over a bounded set; the sync reads `forEachTenantPage`).
    public func allTenantIDs() throws(StoreError) -> [String] {
        var ids = Set<String>()
        try forEachTenantPage { page in ids.formUnion(page) }
        return ids.sorted()
    }

    /// The tenant index in pages of about `pageSize` ids read with a cursor (SSCAN), so no reply
    /// holds every tenant. A page may repeat an id seen before (SSCAN's guarantee during a
    /// rehash); callers that must not see one twice dedupe (the sync run does, in the store).
    public func forEachTenantPage(pageSize: Int = 500, _ body: ([String]) throws(StoreError) -> Void) throws(StoreError) {
        try ensureIndexed()
        var cursor = "0"
        repeat {
            let page = try tenantPage(cursor: cursor, pageSize: pageSize)
            if !page.ids.isEmpty { try body(page.ids) }
            cursor = page.next
        } while cursor != "0"
    }

    /// One SSCAN step over the tenant index; `next` is "0" at the end.
    public func tenantPage(cursor: String, pageSize: Int) throws(StoreError) -> (ids: [String], next: String) {
        let reply = try store.run(RedisCommand("SSCAN", RedisArgument(keys.tenantIndex), RedisArgument(cursor), "COUNT", RedisArgument(pageSize)))
        guard let parts = reply.arrayValue, parts.count == 2, let next = parts[0].stringValue, let found = parts[1].arrayValue else {
            throw .protocolError("unexpected SSCAN reply")
        }
        return (found.compactMap(\.stringValue), next)
    }

    /// Adds the seed service's tenants (hashes without an index entry) to the index, once: a
    /// keyspace SCAN the first time only, then a marker key says it is done.
    public func ensureIndexed() throws(StoreError) {
        if try store.run(RedisCommand("EXISTS", RedisArgument(keys.tenantIndexComplete))).intValue == 1 { return }
        let prefix = keys.tenant("").rawValue
        var cursor = "0"
        repeat {
            let reply = try store.run(RedisCommand("SCAN", RedisArgument(cursor), "MATCH", RedisArgument(prefix + "*"), "COUNT", 1000))
            guard let parts = reply.arrayValue, parts.count == 2, let next = parts[0].stringValue, let found = parts[1].arrayValue else {
                throw .protocolError("unexpected SCAN reply")
            }
            var ids: [RedisArgument] = []
            for key in found {
                guard let text = key.stringValue, text.hasPrefix(prefix) else { continue }
                let id = String(text.dropFirst(prefix.count))
                if !id.isEmpty && !id.contains(":") { ids.append(RedisArgument(id)) }
            }
            if !ids.isEmpty {
                // A tenant being deleted left the index on purpose; it stays out.
                let deleting = try store.run(RedisCommand("SMEMBERS", RedisArgument(keys.deletingTenants)))
                let skip = Set((deleting.arrayValue ?? []).compactMap(\.bytesValue))
                let kept = ids.filter { !skip.contains($0.bytes) }
                if !kept.isEmpty { _ = try store.run(RedisCommand("SADD", [RedisArgument(keys.tenantIndex)] + kept)) }
            }
            cursor = next
        } while cursor != "0"
        _ = try store.run(RedisCommand("SET", RedisArgument(keys.tenantIndexComplete), "1"))
    }

    func seal(_ value: String, _ tenantID: String, _ field: String) -> String {
        secrets.seal(value, tenantID: tenantID, field: field)
    }
}

/// A tenant record that cannot be used. Descriptions name the tenant and field, never values.
public enum TenantRepositoryError: Error, Sendable, CustomStringConvertible, ClientVisibleError {
    case undecryptable(tenantID: String, field: String)
    case incomplete(tenantID: String)

    public var description: String {
        switch self {
        case .undecryptable(let id, let field): return "tenant \(id): field \(field) failed to decrypt"
        case .incomplete(let id): return "tenant \(id): record is incomplete"
        }
    }

    public var httpError: HTTPError { .internalError() }
}
