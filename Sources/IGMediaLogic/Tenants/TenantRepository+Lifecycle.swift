/// Token replacement and credential rotation: each one MULTI/EXEC, so a failure leaves either
/// the old state or the new one, and a repeat simply does it again.
extension TenantRepository {
    /// Stores a new Instagram token (sealed) and resets the health fields: the tenant is synced
    /// again. `expiresAt` nil = unknown.
    public func replaceAccessToken(tenantID: String, token: String, at timestamp: String, expiresAt: Double?) throws(StoreError) {
        let tenant = RedisArgument(keys.tenant(tenantID))
        let id = RedisArgument(tenantID)
        var fields = [
            RedisArgument(TenantField.accessToken), RedisArgument(seal(token, tenantID, TenantField.accessToken)),
            RedisArgument(TenantField.tokenUpdate), RedisArgument(timestamp),
        ]
        var commands: [RedisCommand] = []
        if let expiresAt {
            fields += [RedisArgument(TenantField.tokenExpiresAt), RedisArgument(Int(expiresAt))]
            commands.append(RedisCommand("ZADD", RedisArgument(keys.tokenExpiry), RedisArgument(Int(expiresAt)), id))
        } else {
            commands.append(RedisCommand("HDEL", tenant, RedisArgument(TenantField.tokenExpiresAt)))
            commands.append(RedisCommand("ZREM", RedisArgument(keys.tokenExpiry), id))
        }
        commands.insert(RedisCommand("HSET", [tenant] + fields), at: 0)
        commands.append(RedisCommand("HDEL", [tenant] + TenantField.healthFields.map { RedisArgument($0) }))
        commands.append(RedisCommand("SREM", RedisArgument(keys.invalidTenants), id))
        commands.append(RedisCommand("SREM", RedisArgument(keys.tenantsWithoutToken), id))
        commands.append(RedisCommand("ZREM", RedisArgument(keys.failingTenants), id))
        try checked(store.transaction(commands))
    }

    /// Points a new auth token at the tenant. The replaced one keeps working for `graceSeconds`
    /// (0: stops at once); one replaced earlier stops now, so at most two are ever valid.
    public func rotateAuthToken(_ tenant: Tenant, newToken: String, graceSeconds: Int) throws(StoreError) {
        let hash = RedisArgument(keys.tenant(tenant.id))
        let old = RedisArgument(keys.authToken(tenant.authToken))
        var commands = [RedisCommand("SET", RedisArgument(keys.authToken(newToken)), RedisArgument(tenant.id))]
        if graceSeconds > 0 {
            // SET again with the expiry (not EXPIRE): also correct when the mapping had vanished.
            commands.append(RedisCommand("SET", old, RedisArgument(tenant.id), "EX", RedisArgument(graceSeconds)))
            commands.append(RedisCommand(
                "HSET", hash, RedisArgument(TenantField.authToken), RedisArgument(newToken),
                RedisArgument(TenantField.previousAuthToken), RedisArgument(tenant.authToken)))
        } else {
            commands.append(RedisCommand("DEL", old))
            commands.append(RedisCommand("HSET", hash, RedisArgument(TenantField.authToken), RedisArgument(newToken)))
            commands.append(RedisCommand("HDEL", hash, RedisArgument(TenantField.previousAuthToken)))
        }
        var replaced = [tenant.authToken]
        if let previous = tenant.previousAuthToken, previous != tenant.authToken, previous != newToken {
            commands.append(RedisCommand("DEL", RedisArgument(keys.authToken(previous))))
            replaced.append(previous)
        }
        // Every responder re-reads the replaced tokens (and their remaining grace) at once.
        commands.append(changeRecord(tokens: replaced))
        try checked(store.transaction(commands))
    }

    /// Replaces the management token (no grace: it is a secret, not an embed).
    public func setManagementToken(_ tenant: Tenant, newToken: String) throws(StoreError) {
        let newHash = ManagementToken.hash(newToken)
        var commands = [
            RedisCommand("SET", RedisArgument(keys.managementToken(hash: newHash)), RedisArgument(tenant.id)),
            RedisCommand("HSET", RedisArgument(keys.tenant(tenant.id)), RedisArgument(TenantField.managementTokenHash), RedisArgument(newHash)),
        ]
        if let oldHash = tenant.managementTokenHash, oldHash != newHash {
            commands.append(RedisCommand("DEL", RedisArgument(keys.managementToken(hash: oldHash))))
        }
        try checked(store.transaction(commands))
    }

    /// How many items the stored feed has: the count written by the last sync, or (for feeds
    /// written before it was recorded) the stored array's length.
    public func photosCount(_ tenantID: String, recorded: String?) throws(StoreError) -> Int {
        if let recorded, let count = Int(recorded) { return count }
        guard let bytes = try store.run(RedisCommand("GET", RedisArgument(keys.photos(tenantID)))).bytesValue,
            let json = try? JSONParser.parse(bytes, maxDepth: 64)
        else { return 0 }
        return json.arrayValue?.count ?? 0
    }

    /// The raw tenant hash (nothing opened), or nil.
    public func rawHash(_ tenantID: String) throws(StoreError) -> [String: String]? {
        let hash = try store.run(RedisCommand("HGETALL", RedisArgument(keys.tenant(tenantID)))).hashValue ?? [:]
        return hash.isEmpty ? nil : hash
    }
}

extension TenantRepository {
    /// The tenants connected to an Instagram account (or app-scoped user) id, through the blind
    /// index under every key of the ring (a rekey moves entries to the first key's index).
    public func tenantIDs(forAccount accountID: String) throws(StoreError) -> [String] {
        let indexes = secrets.blindIndexes(accountID)
        let replies = try store.pipeline(indexes.map { RedisCommand("SMEMBERS", RedisArgument(keys.accountIndex($0))) })
        var ids: [String] = []
        for reply in replies {
            for member in reply.arrayValue ?? [] {
                if let id = member.stringValue, !ids.contains(id) { ids.append(id) }
            }
        }
        return ids
    }

    /// Records the app-scoped user id a Facebook Login token belongs to (sealed) and adds the
    /// tenant to its blind index, so Meta's callbacks, which name that id, find the tenant.
    public func indexMetaUser(_ userID: String, tenantID: String, previousIndex: String?) throws(StoreError) {
        let index = secrets.blindIndexes(userID)[0]
        let id = RedisArgument(tenantID)
        var commands = [
            RedisCommand(
                "HSET", RedisArgument(keys.tenant(tenantID)),
                RedisArgument(TenantField.metaUserID), RedisArgument(seal(userID, tenantID, TenantField.metaUserID)),
                RedisArgument(TenantField.metaUserIndex), RedisArgument(index)),
            RedisCommand("SADD", RedisArgument(keys.accountIndex(index)), id),
        ]
        if let previousIndex, previousIndex != index {
            commands.append(RedisCommand("SREM", RedisArgument(keys.accountIndex(previousIndex)), id))
        }
        try checked(store.transaction(commands))
    }
}
