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
    /// Hash: a tenant's webhook (url, events, sealed signing secrets, rotation grace).
    public func webhook(_ tenantID: String) -> RedisKey { RedisKey("\(prefix)webhook:\(tenantID)") }
    /// List: a tenant's last delivery ids, newest first (at most 50).
    public func webhookDeliveries(_ tenantID: String) -> RedisKey { RedisKey("\(prefix)webhook:\(tenantID):deliveries") }
    /// Hash: one event's delivery (body, destination snapshot, attempts, status, last error).
    public func webhookDelivery(_ id: String) -> RedisKey { RedisKey("\(prefix)webhook:delivery:\(id)") }
    /// Sorted set: delivery id → when it is due (unix ms); a claimed one is pushed a lease ahead.
    public var webhooksDue: RedisKey { RedisKey("\(prefix)webhooks:due") }
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

    /// Stream of changes the in-process caches must see (`feed` → a tenant whose feed was
    /// written or removed, `token` → an auth token re-pointed or removed), capped at about
    /// `ChangeFollower.streamLength` entries. Read by every responder's `ChangeFollower`.
    public var changes: RedisKey { RedisKey("\(prefix)changes") }

    /// String `1`: every seed tenant (a `tenant:{id}` hash the old service wrote without an index)
    /// has been added to `tenantIndex`, so listing tenants never scans the keyspace again.
    public var tenantIndexComplete: RedisKey { RedisKey("\(prefix)tenants:indexed") }
    /// String: the id of the sync run in progress (expires with the run's time limit).
    public var syncRunCurrent: RedisKey { RedisKey("\(prefix)sync:run:current") }
    /// String: the id of the last sync run that finished.
    public var syncRunLast: RedisKey { RedisKey("\(prefix)sync:run:last") }
    /// Hash: one sync run's state and counters (kept a week).
    public func syncRun(_ id: String) -> RedisKey { RedisKey("\(prefix)sync:run:\(id)") }
    /// Stream: the run's work, one entry per tenant, shared by consumer group `workers`.
    public func syncRunQueue(_ id: String) -> RedisKey { RedisKey("\(prefix)sync:run:\(id):queue") }
    /// Set: tenants already queued in the run (a set scan may return a member twice).
    public func syncRunQueued(_ id: String) -> RedisKey { RedisKey("\(prefix)sync:run:\(id):queued") }
    /// List: the run's last failures (`tenant: reason`), newest first, at most 50.
    public func syncRunErrors(_ id: String) -> RedisKey { RedisKey("\(prefix)sync:run:\(id):errors") }
    /// String (with PX): Meta rate-limited the whole app until this unix time.
    public var graphAppBlocked: RedisKey { RedisKey("\(prefix)ratelimit:graph:app") }

    /// String: SHA-256 (hex) of a management token → tenant id.
    public func managementToken(hash: String) -> RedisKey { RedisKey("\(prefix)mgmt_token:\(hash)") }
    /// Set of tenants whose token Instagram declared dead: skipped by every sync until a new token.
    public var invalidTenants: RedisKey { RedisKey("\(prefix)tenants:invalid") }
    /// Sorted set: tenant → its token's expiry (unix seconds), for expiring/expired lookups by range.
    public var tokenExpiry: RedisKey { RedisKey("\(prefix)tenants:token_expiry") }
    /// Sorted set: tenant → its last successful sync (unix seconds).
    public var lastSuccess: RedisKey { RedisKey("\(prefix)tenants:last_success") }
    /// Sorted set: tenant → its last failed sync (unix seconds), removed by a success.
    public var failingTenants: RedisKey { RedisKey("\(prefix)tenants:failing") }
    /// Set of tenants registered without an Instagram token (state `missing`).
    public var tenantsWithoutToken: RedisKey { RedisKey("\(prefix)tenants:no_token") }
    /// Set of tenants whose deletion started and has not finished (a repeat or the timer finishes it).
    public var deletingTenants: RedisKey { RedisKey("\(prefix)tenants:deleting") }
    /// Set of the message ids recorded under `qstashSeen` for one tenant, so a delete finds them.
    public func qstashSeenIndex(_ tenantID: String) -> RedisKey { RedisKey("\(prefix)qstash:seen-index:\(tenantID)") }
    /// Set of tenant ids whose Instagram account has this blind index (a keyed HMAC of the id).
    public func accountIndex(_ blindIndex: String) -> RedisKey { RedisKey("\(prefix)meta:account:\(blindIndex)") }
    /// Hash: the status of one Meta data-deletion request.
    public func dataDeletion(_ code: String) -> RedisKey { RedisKey("\(prefix)meta:deletion:\(code)") }
    /// String: a Meta callback already handled (`user_id` + `issued_at`), kept for a day.
    public func metaCallbackSeen(_ digest: String) -> RedisKey { RedisKey("\(prefix)meta:seen:\(digest)") }
}
