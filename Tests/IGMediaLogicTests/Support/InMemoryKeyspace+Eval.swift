import IGMediaLogic

/// `EVAL` of the scripts the service sends, each written again in Swift: there is no Lua here.
extension InMemoryKeyspace {
    typealias Script = @Sendable (inout InMemoryKeyspace, _ keys: [Bytes], _ arguments: [Bytes], _ now: Int) throws(Failure) -> RedisValue

    /// `SyncLock`'s release, verbatim. The store suite runs `SyncLock` on every backend, so a
    /// change to the real script shows up there as this store's "no Swift version" error.
    static let compareAndDelete =
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end"

    static let scripts: [Bytes: Script] = [
        Array(compareAndDelete.utf8): { keyspace, keys, arguments, now throws(Failure) in
            guard let key = keys.first, let expected = arguments.first else {
                throw Failure(message: "ERR Error running script: KEYS[1] and ARGV[1] are required")
            }
            guard try keyspace.string(key, now) == expected else { return .integer(0) }
            keyspace.entries[key] = nil
            return .integer(1)
        },
    ]

    /// `EVAL script numkeys key... arg...`
    mutating func eval(_ a: [Bytes], _ now: Int) throws(Failure) -> RedisValue {
        guard let keyCount = Self.integer(a[2]) else { throw .notInteger }
        guard keyCount >= 0 else { throw Failure(message: "ERR Number of keys can't be negative") }
        guard keyCount <= a.count - 3 else { throw Failure(message: "ERR Number of keys can't be greater than number of args") }
        guard let script = Self.scripts[a[1]] else {
            throw Failure(message: "ERR InMemoryRedisStore has no Swift version of this script: add it to InMemoryKeyspace.scripts")
        }
        return try script(&self, Array(a[3..<(3 + keyCount)]), Array(a[(3 + keyCount)...]), now)
    }
}
