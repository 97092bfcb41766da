/// The writes and reads of a sync.
extension TenantRepository {
    /// Every asset mirrored for the tenant → its secure URL. A field this service never wrote
    /// (not an `AssetKey`) is left alone.
    public func mirroredAssets(_ tenantID: String) throws(StoreError) -> [AssetKey: String] {
        let reply = try store.run(RedisCommand("HGETALL", RedisArgument(keys.mirroredAssets(tenantID))))
        var assets: [AssetKey: String] = [:]
        for (field, url) in reply.hashValue ?? [:] {
            if let key = AssetKey(stored: field) { assets[key] = url }
        }
        return assets
    }

    /// Everything a finished sync changes, in one MULTI/EXEC: the feed (one SET with the TTL, so
    /// readers never see a partial list), its ETag, the asset map and `last_sync`.
    public func commitSync(
        tenantID: String, feedJSON: [UInt8], etag: String, ttlSeconds: Int, addedAssets: [AssetKey: String],
        removedAssets: [AssetKey], syncedAt: String
    ) throws(StoreError) {
        var commands = [
            RedisCommand("SET", RedisArgument(keys.photos(tenantID)), RedisArgument(feedJSON), "EX", RedisArgument(ttlSeconds)),
            RedisCommand("SET", RedisArgument(keys.photosETag(tenantID)), RedisArgument(etag), "EX", RedisArgument(ttlSeconds)),
            RedisCommand("HSET", RedisArgument(keys.tenant(tenantID)), RedisArgument(TenantField.lastSync), RedisArgument(syncedAt)),
            RedisCommand("HDEL", RedisArgument(keys.tenant(tenantID)), RedisArgument(TenantField.lastError)),
        ]
        if !addedAssets.isEmpty {
            var arguments = [RedisArgument(keys.mirroredAssets(tenantID))]
            for (key, url) in addedAssets.sorted(by: { $0.key < $1.key }) {
                arguments += [RedisArgument(key.stored), RedisArgument(url)]
            }
            commands.append(RedisCommand("HSET", arguments))
        }
        if !removedAssets.isEmpty {
            commands.append(RedisCommand("HDEL", [RedisArgument(keys.mirroredAssets(tenantID))] + removedAssets.map { RedisArgument($0.stored) }))
        }
        try checked(store.transaction(commands))
    }

    /// Stores a refreshed Instagram token (sealed) and when it was refreshed.
    public func updateAccessToken(tenantID: String, token: String, at timestamp: String) throws(StoreError) {
        _ = try store.run(RedisCommand(
            "HSET", RedisArgument(keys.tenant(tenantID)),
            RedisArgument(TenantField.accessToken), RedisArgument(seal(token, tenantID, TenantField.accessToken)),
            RedisArgument(TenantField.tokenUpdate), RedisArgument(timestamp)))
    }

    /// Records why the last sync failed (already redacted), leaving the feed as it was.
    public func recordSyncError(tenantID: String, message: String, at timestamp: String) throws(StoreError) {
        _ = try store.run(RedisCommand(
            "HSET", RedisArgument(keys.tenant(tenantID)),
            RedisArgument(TenantField.lastError), RedisArgument("\(timestamp) \(message.prefix(300))")))
    }

    private func checked(_ results: [RedisValue]) throws(StoreError) {
        for result in results {
            if case .error(let message) = result { throw .commandFailed(String(message.prefix(80))) }
        }
    }
}
