/// The writes and reads of a sync.
extension TenantRepository {
    /// Every asset mirrored for the tenant → its secure URL. A field this service never wrote
    /// (not an `AssetKey`) is left alone.
    public func mirroredAssets(_ tenantID: String) throws(StoreError) -> [AssetKey: String] {
        let key = RedisArgument(keys.mirroredAssets(tenantID))
        let reply = try store.pipeline([RedisCommand("GET", key)])[0]
        switch reply {
        case .bytes(let packed):
            return AssetMapCoding.unpack(packed, tenantID: tenantID)
        case .error(let message) where message.hasPrefix("WRONGTYPE"):
            // A hash written before the packed string (either field spelling).
            let hash = try store.run(RedisCommand("HGETALL", key)).hashValue ?? [:]
            let prefixes = hash.filter { $0.key.hasPrefix("~") }
            var assets: [AssetKey: String] = [:]
            for (field, value) in hash {
                if let asset = AssetMapCoding.key(field: field, tenantID: tenantID),
                    let url = AssetMapCoding.decode(value: value, key: asset, prefixes: prefixes)
                {
                    assets[asset] = url
                }
            }
            return assets
        case .error(let message):
            throw .commandFailed(String(message.prefix(80)))
        default:
            return [:]
        }
    }

    /// Everything a finished sync changes, in one MULTI/EXEC: the feed (one SET with the TTL, so
    /// readers never see a partial list), its ETag, the asset map and `last_sync`.
    /// Returns the ETag the feed had before (nil: none), so a caller can tell a changed feed.
    @discardableResult
    public func commitSync(
        tenantID: String, feedJSON: [UInt8], etag: String, ttlSeconds: Int, addedAssets: [AssetKey: String],
        removedAssets: [AssetKey], syncedAt: String, photosCount: Int = 0, existingAssets: [AssetKey: String]? = nil
    ) throws(StoreError) -> String? {
        var commands = [
            RedisCommand("SET", RedisArgument(keys.photos(tenantID)), RedisArgument(feedJSON), "EX", RedisArgument(ttlSeconds)),
            RedisCommand("SET", RedisArgument(keys.photosETag(tenantID)), RedisArgument(etag), "EX", RedisArgument(ttlSeconds), "GET"),
            RedisCommand(
                "HSET", RedisArgument(keys.tenant(tenantID)), RedisArgument(TenantField.lastSync), RedisArgument(syncedAt),
                RedisArgument(TenantField.lastSyncOutcome), "ok", RedisArgument(TenantField.consecutiveFailures), "0",
                RedisArgument(TenantField.photosCount), RedisArgument(photosCount)),
            RedisCommand(
                "HDEL", RedisArgument(keys.tenant(tenantID)), RedisArgument(TenantField.lastError),
                RedisArgument(TenantField.lastErrorCode), RedisArgument(TenantField.lastErrorAt)),
            RedisCommand("ZADD", RedisArgument(keys.lastSuccess), RedisArgument(unixSeconds(syncedAt)), RedisArgument(tenantID)),
            RedisCommand("ZREM", RedisArgument(keys.failingTenants), RedisArgument(tenantID)),
            changeRecord(feeds: [tenantID]),
        ]
        if let existingAssets {
            // The whole map, packed into one string (it replaces an older hash in the same write).
            var assets = existingAssets
            for key in removedAssets { assets[key] = nil }
            assets.merge(addedAssets) { _, new in new }
            let key = RedisArgument(keys.mirroredAssets(tenantID))
            if assets.isEmpty {
                commands.append(RedisCommand("DEL", key))
            } else {
                commands.append(RedisCommand("SET", key, RedisArgument(AssetMapCoding.pack(assets, tenantID: tenantID))))
            }
        }
        return try checkedReplies(store.transaction(commands))[1].stringValue
    }

    /// Stores a refreshed Instagram token (sealed), when it was refreshed and, when Instagram said,
    /// when it expires; a successful refresh clears a recorded refresh failure.
    public func updateAccessToken(
        tenantID: String, token: String, at timestamp: String, expiresAt: Double? = nil
    ) throws(StoreError) {
        let tenant = RedisArgument(keys.tenant(tenantID))
        var fields = [
            RedisArgument(TenantField.accessToken), RedisArgument(seal(token, tenantID, TenantField.accessToken)),
            RedisArgument(TenantField.tokenUpdate), RedisArgument(timestamp),
        ]
        var commands: [RedisCommand] = []
        if let expiresAt {
            fields += [RedisArgument(TenantField.tokenExpiresAt), RedisArgument(Int(expiresAt))]
            commands.append(RedisCommand("ZADD", RedisArgument(keys.tokenExpiry), RedisArgument(Int(expiresAt)), RedisArgument(tenantID)))
        }
        commands.insert(RedisCommand("HSET", [tenant] + fields), at: 0)
        commands.append(RedisCommand("HDEL", tenant, RedisArgument(TenantField.refreshFailedAt)))
        try checked(store.transaction(commands))
    }

    /// Records that a token refresh failed (the token may still work until it expires).
    public func recordRefreshFailure(tenantID: String, at timestamp: String) throws(StoreError) {
        _ = try store.run(RedisCommand(
            "HSET", RedisArgument(keys.tenant(tenantID)), RedisArgument(TenantField.refreshFailedAt), RedisArgument(timestamp)))
    }

    /// Records why the last sync failed (already redacted), leaving the feed as it was: the
    /// message, our stable code, when, one more consecutive failure and, for a dead token, the
    /// mark that stops every further sync until a new token is given.
    /// Returns the tenant's consecutive failures, this one included.
    @discardableResult
    public func recordSyncError(
        tenantID: String, message: String, code: HealthErrorCode = .upstreamRejected, at timestamp: String
    ) throws(StoreError) -> Int {
        let tenant = RedisArgument(keys.tenant(tenantID))
        var fields = [
            RedisArgument(TenantField.lastError), RedisArgument("\(timestamp) \(message.prefix(300))"),
            RedisArgument(TenantField.lastErrorCode), RedisArgument(code.rawValue),
            RedisArgument(TenantField.lastErrorAt), RedisArgument(timestamp),
            RedisArgument(TenantField.lastSyncOutcome), "failed",
        ]
        if code.invalidatesToken { fields += [RedisArgument(TenantField.tokenInvalid), RedisArgument(code.rawValue)] }
        var commands = [RedisCommand("HSET", [tenant] + fields)]
        commands.append(RedisCommand("HINCRBY", tenant, RedisArgument(TenantField.consecutiveFailures), 1))
        commands.append(RedisCommand("ZADD", RedisArgument(keys.failingTenants), RedisArgument(unixSeconds(timestamp)), RedisArgument(tenantID)))
        if code.invalidatesToken { commands.append(RedisCommand("SADD", RedisArgument(keys.invalidTenants), RedisArgument(tenantID))) }
        return try checkedReplies(store.transaction(commands))[1].intValue ?? 0
    }

    /// Meta throttled the tenant (or the app): deferred until `until`, recorded as
    /// `RATE_LIMITED`, never as a failure that invalidates the token.
    public func recordRateLimited(
        tenantID: String, until: Double, at timestamp: String, strike: Bool, reason: String? = nil
    ) throws(StoreError) {
        let tenant = RedisArgument(keys.tenant(tenantID))
        var commands = [RedisCommand(
            "HSET", tenant,
            RedisArgument(TenantField.lastError), RedisArgument("\(timestamp) deferred: Meta's rate limit until \(ISO8601.format(until))" + (reason.map { ": \($0.prefix(200))" } ?? "")),
            RedisArgument(TenantField.lastErrorCode), RedisArgument(HealthErrorCode.rateLimited.rawValue),
            RedisArgument(TenantField.lastErrorAt), RedisArgument(timestamp),
            RedisArgument(TenantField.rateLimitedUntil), RedisArgument(String(Int(until))))]
        if strike { commands.append(RedisCommand("HINCRBY", tenant, RedisArgument(TenantField.rateLimitStrikes), 1)) }
        try checked(store.transaction(commands))
    }

    /// After a successful fetch: the throttle strikes start over; `until` (usage near the limit)
    /// defers the next sync of this tenant's account.
    public func recordFetchUsage(tenantID: String, deferUntil until: Double?) throws(StoreError) {
        let tenant = RedisArgument(keys.tenant(tenantID))
        var commands = [RedisCommand("HDEL", tenant, RedisArgument(TenantField.rateLimitStrikes))]
        if let until {
            commands.append(RedisCommand("HSET", tenant, RedisArgument(TenantField.rateLimitedUntil), RedisArgument(String(Int(until)))))
        } else {
            commands.append(RedisCommand("HDEL", tenant, RedisArgument(TenantField.rateLimitedUntil)))
        }
        try checked(store.pipeline(commands))
    }

    /// Marks the tenant's token dead without a sync (Meta's deauthorize callback).
    public func markTokenInvalid(tenantID: String, code: HealthErrorCode, at timestamp: String) throws(StoreError) {
        try recordSyncError(tenantID: tenantID, message: "token revoked by the user (deauthorized)", code: code, at: timestamp)
    }

    /// Tenants whose deletion started and has not finished (not synced, not served).
    public func deletingTenantIDs() throws(StoreError) -> Set<String> {
        let reply = try store.run(RedisCommand("SMEMBERS", RedisArgument(keys.deletingTenants)))
        return Set((reply.arrayValue ?? []).compactMap(\.stringValue))
    }

    /// Tenant ids Instagram declared dead, or whose token expired by `now`: not synced.
    public func unsyncableTenantIDs(now: Double) throws(StoreError) -> Set<String> {
        let replies = try store.pipeline([
            RedisCommand("SMEMBERS", RedisArgument(keys.invalidTenants)),
            RedisCommand("ZRANGEBYSCORE", RedisArgument(keys.tokenExpiry), "-inf", RedisArgument(Int(now))),
        ])
        var ids = Set<String>()
        for reply in replies {
            if case .error(let message) = reply { throw .commandFailed(String(message.prefix(80))) }
            for member in reply.arrayValue ?? [] { if let id = member.stringValue { ids.insert(id) } }
        }
        return ids
    }

    /// Appends to the change stream in the same transaction as the write it announces, so a
    /// responder that sees the change reads the new value. At most a handful of entries per command.
    public func changeRecord(feeds: [String] = [], tokens: [String] = []) -> RedisCommand {
        var arguments = [
            RedisArgument(keys.changes), "MAXLEN", "~", RedisArgument(ChangeFollower.streamLength), "*",
        ]
        for id in feeds { arguments += ["feed", RedisArgument(id)] }
        for token in tokens { arguments += ["token", RedisArgument(token)] }
        return RedisCommand("XADD", arguments)
    }

    /// The ids of `page` that a sync would not refuse (not invalid, not expired, not being
    /// deleted), in one round trip whatever the page size.
    public func syncable(_ page: [String], now: Double) throws(StoreError) -> [String] {
        guard !page.isEmpty else { return [] }
        let ids = page.map { RedisArgument($0) }
        let replies = try checkedReplies(store.pipeline([
            RedisCommand("SMISMEMBER", [RedisArgument(keys.invalidTenants)] + ids),
            RedisCommand("SMISMEMBER", [RedisArgument(keys.deletingTenants)] + ids),
            RedisCommand("ZMSCORE", [RedisArgument(keys.tokenExpiry)] + ids),
        ]))
        let invalid = replies[0].arrayValue ?? []
        let deleting = replies[1].arrayValue ?? []
        let expiry = replies[2].arrayValue ?? []
        guard invalid.count == page.count, deleting.count == page.count, expiry.count == page.count else {
            throw .protocolError("unexpected reply size")
        }
        return page.indices.compactMap { index in
            if invalid[index].intValue == 1 || deleting[index].intValue == 1 { return nil }
            if let expires = expiry[index].stringValue.flatMap(Double.init), expires <= now { return nil }
            return page[index]
        }
    }

    func unixSeconds(_ timestamp: String) -> Int {
        Int(ISO8601.parse(timestamp) ?? 0)
    }

    /// The replies, or the first command error among them.
    func checkedReplies(_ results: [RedisValue]) throws(StoreError) -> [RedisValue] {
        try checked(results)
        return results
    }

    func checked(_ results: [RedisValue]) throws(StoreError) {
        for result in results {
            if case .error(let message) = result { throw .commandFailed(String(message.prefix(80))) }
        }
    }
}
