import IGMediaLogic

/// Hashes and sets. Small Redis hashes answer in insertion order, so these keep it too.
extension InMemoryKeyspace {
    mutating func hset(_ a: [Bytes], _ now: Int) throws(Failure) -> RedisValue {
        // Redis checks the pairs when it runs the command, not while queueing it in MULTI.
        guard a.count % 2 == 0 else { throw .arity("hset") }
        var hash = OrderedBytes<Bytes>()
        if let entry = live(a[1], now) {
            guard case .hash(let existing) = entry.value else { throw .wrongType }
            hash = existing
        }
        var added = 0
        for pair in stride(from: 2, to: a.count, by: 2) where hash.insert(a[pair], a[pair + 1]) { added += 1 }
        put(a[1], .hash(hash), expiresAt: live(a[1], now)?.expiresAt, now)
        return .integer(added)
    }

    mutating func hgetall(_ key: Bytes, _ now: Int) throws(Failure) -> RedisValue {
        guard let entry = live(key, now) else { return .array([]) }
        guard case .hash(let hash) = entry.value else { throw .wrongType }
        return .array(hash.elements.flatMap { [RedisValue.bytes($0.key), .bytes($0.value)] })
    }

    mutating func hdel(_ a: [Bytes], _ now: Int) throws(Failure) -> RedisValue {
        guard let entry = live(a[1], now) else { return .integer(0) }
        guard case .hash(var hash) = entry.value else { throw .wrongType }
        var removed = 0
        for field in a.dropFirst(2) where hash.remove(field) { removed += 1 }
        // Redis deletes a hash whose last field goes.
        if hash.isEmpty { entries[a[1]] = nil } else { entries[a[1]]?.value = .hash(hash) }
        return .integer(removed)
    }

    mutating func sadd(_ a: [Bytes], _ now: Int) throws(Failure) -> RedisValue {
        var set = OrderedBytes<Void>()
        if let entry = live(a[1], now) {
            guard case .set(let existing) = entry.value else { throw .wrongType }
            set = existing
        }
        var added = 0
        for member in a.dropFirst(2) where set.insert(member, ()) { added += 1 }
        put(a[1], .set(set), expiresAt: live(a[1], now)?.expiresAt, now)
        return .integer(added)
    }

    mutating func smembers(_ key: Bytes, _ now: Int) throws(Failure) -> RedisValue {
        guard let entry = live(key, now) else { return .array([]) }
        guard case .set(let set) = entry.value else { throw .wrongType }
        return .array(set.elements.map { .bytes($0.key) })
    }
}

/// Byte-string keys in insertion order.
struct OrderedBytes<Value> {
    private(set) var keys: [[UInt8]] = []
    private var values: [[UInt8]: Value] = [:]

    var isEmpty: Bool { keys.isEmpty }
    var elements: [(key: [UInt8], value: Value)] { keys.map { ($0, values[$0]!) } }  // every key has a value

    /// Sets the value; true when the key is new.
    mutating func insert(_ key: [UInt8], _ value: Value) -> Bool {
        let isNew = values.updateValue(value, forKey: key) == nil
        if isNew { keys.append(key) }
        return isNew
    }

    /// True when the key was there.
    mutating func remove(_ key: [UInt8]) -> Bool {
        guard values.removeValue(forKey: key) != nil else { return false }
        keys.removeAll { $0 == key }
        return true
    }
}
