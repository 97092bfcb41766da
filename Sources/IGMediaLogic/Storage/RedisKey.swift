/// A fully prefixed key. Only `KeySpace` makes them, so the prefix is applied in one place.
public struct RedisKey: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String
    fileprivate init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
}

/// The key layout. The first three are the seed service's, unchanged, so data written by the
/// old service keeps its meaning; the rest are ours.
public struct KeySpace: Sendable {
    public let prefix: String

    public init(prefix: String) { self.prefix = prefix }

    /// Hash: name, authToken, encrypted Instagram credentials, apiType, last_sync, token_update.
    public func tenant(_ tenantID: String) -> RedisKey { RedisKey("\(prefix)tenant:\(tenantID)") }
    /// String: auth token → tenant id.
    public func authToken(_ token: String) -> RedisKey { RedisKey("\(prefix)auth_token:\(token)") }
    /// String: the feed's JSON array, with the photos TTL.
    public func photos(_ tenantID: String) -> RedisKey { RedisKey("\(prefix)instagram:\(tenantID):photos") }
    /// String: the strong ETag of the stored feed, written together with it.
    public func photosETag(_ tenantID: String) -> RedisKey { RedisKey("\(prefix)instagram:\(tenantID):photos:etag") }
    /// Hash: CDN asset (`AssetKey.stored`, `{resourceType}:{publicId}`) → its secure URL, for diff sync.
    public func mirroredAssets(_ tenantID: String) -> RedisKey { RedisKey("\(prefix)instagram:\(tenantID):assets") }
    /// Set of every tenant id, so listing tenants needs no SCAN.
    public var tenantIndex: RedisKey { RedisKey("\(prefix)tenants") }
    /// Per-tenant sync lock (SET NX PX with an owner token).
    public func syncLock(_ tenantID: String) -> RedisKey { RedisKey("\(prefix)lock:sync:\(tenantID)") }
    /// A QStash message id already processed for this tenant (at-least-once delivery). The tenant,
    /// taken from the signed URL, binds the unsigned header: a replay cannot claim another
    /// tenant's delivery.
    public func qstashSeen(tenantID: String, messageID: String) -> RedisKey {
        RedisKey("\(prefix)qstash:seen:\(tenantID):\(messageID)")
    }
    /// The signed `jti` of a delivery already accepted, kept until the token expires: a captured
    /// delivery replayed within its lifetime is answered as a duplicate.
    public func qstashToken(_ tokenID: String) -> RedisKey { RedisKey("\(prefix)qstash:jti:\(tokenID)") }
}
