/// A per-tenant lock in the store: `SET key owner NX PX ttl`, released only by its owner, so a
/// QStash retry and the timer never sync one tenant twice at once. A crashed holder's lock
/// expires after the TTL.
public struct SyncLock: Sendable {
    let store: any RedisStore
    let keys: KeySpace
    let ttlMilliseconds: Int

    public init(store: any RedisStore, keys: KeySpace, ttlSeconds: Int) {
        self.store = store
        self.keys = keys
        self.ttlMilliseconds = ttlSeconds * 1000
    }

    /// The owner token when acquired, nil when someone else holds the lock.
    public func acquire(_ tenantID: String) throws(StoreError) -> String? {
        let owner = UUIDv4.make()
        let reply = try store.run(RedisCommand(
            "SET", RedisArgument(keys.syncLock(tenantID)), RedisArgument(owner), "NX", "PX", RedisArgument(ttlMilliseconds)))
        return reply == .status("OK") ? owner : nil
    }

    // Compare-and-delete in one step: never release a lock that expired and was re-taken.
    private static let releaseScript =
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end"

    /// Releases the lock if `owner` still holds it. Returns whether it did.
    @discardableResult
    public func release(_ tenantID: String, owner: String) throws(StoreError) -> Bool {
        let reply = try store.run(RedisCommand(
            "EVAL", RedisArgument(Self.releaseScript), 1, RedisArgument(keys.syncLock(tenantID)), RedisArgument(owner)))
        return reply.intValue == 1
    }
}
