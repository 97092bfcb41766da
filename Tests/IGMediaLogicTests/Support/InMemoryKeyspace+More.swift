import IGMediaLogic

/// The rest of what the tenant lifecycle sends: single hash fields, set removal and counts,
/// expiry, and sorted sets (scores as Redis doubles, ranges with `(` exclusive bounds).
extension InMemoryKeyspace {
    static let moreCommands: [String: Command] = [
        "HGET": Command(arity: 3) { ks, a, now throws(Failure) in
            guard let entry = ks.live(a[1], now) else { return .null }
            guard case .hash(let hash) = entry.value else { throw .wrongType }
            return hash.elements.first { $0.key == a[2] }.map { .bytes($0.value) } ?? .null
        },
        "HINCRBY": Command(arity: 4) { ks, a, now throws(Failure) in
            guard let step = Self.integer(a[3]) else { throw .notInteger }
            var current = 0
            if let entry = ks.live(a[1], now) {
                guard case .hash(let hash) = entry.value else { throw .wrongType }
                if let value = hash.elements.first(where: { $0.key == a[2] })?.value {
                    guard let parsed = Self.integer(value) else { throw Failure(message: "ERR hash value is not an integer") }
                    current = parsed
                }
            }
            _ = try ks.hset([Array("HSET".utf8), a[1], a[2], Array(String(current + step).utf8)], now)
            return .integer(current + step)
        },
        "SREM": Command(arity: -3) { ks, a, now throws(Failure) in
            guard let entry = ks.live(a[1], now) else { return .integer(0) }
            guard case .set(var set) = entry.value else { throw .wrongType }
            var removed = 0
            for member in a.dropFirst(2) where set.remove(member) { removed += 1 }
            if set.isEmpty { ks.entries[a[1]] = nil } else { ks.entries[a[1]]?.value = .set(set) }
            return .integer(removed)
        },
        "SCARD": Command(arity: 2) { ks, a, now throws(Failure) in
            guard let entry = ks.live(a[1], now) else { return .integer(0) }
            guard case .set(let set) = entry.value else { throw .wrongType }
            return .integer(set.elements.count)
        },
        "SSCAN": Command(arity: -3) { ks, a, now throws(Failure) in
            // One page with every member: a valid SSCAN answer (cursor 0 = done).
            guard let entry = ks.live(a[1], now) else { return .array([.bytes(Array("0".utf8)), .array([])]) }
            guard case .set(let set) = entry.value else { throw .wrongType }
            return .array([.bytes(Array("0".utf8)), .array(set.elements.map { .bytes($0.key) })])
        },
        "SMISMEMBER": Command(arity: -3) { ks, a, now throws(Failure) in
            guard let entry = ks.live(a[1], now) else { return .array(a.dropFirst(2).map { _ in .integer(0) }) }
            guard case .set(let set) = entry.value else { throw .wrongType }
            let members = Set(set.elements.map(\.key))
            return .array(a.dropFirst(2).map { .integer(members.contains($0) ? 1 : 0) })
        },
        "ZMSCORE": Command(arity: -3) { ks, a, now throws(Failure) in
            let zset = try ks.zset(a[1], now)
            return .array(a.dropFirst(2).map { member in zset[member].map { .bytes(Array(String(Int($0)).utf8)) } ?? .null })
        },
        "EXPIRE": Command(arity: 3) { ks, a, now throws(Failure) in
            guard let seconds = Self.integer(a[2]) else { throw .notInteger }
            guard ks.live(a[1], now) != nil else { return .integer(0) }
            ks.entries[a[1]]?.expiresAt = now + seconds * 1000
            return .integer(1)
        },
        "ZADD": Command(arity: -4) { ks, a, now throws(Failure) in
            guard a.count % 2 == 0 else { throw .syntax }
            var zset = try ks.zset(a[1], now)
            var added = 0
            for pair in stride(from: 2, to: a.count, by: 2) {
                guard let score = Double(String(decoding: a[pair], as: UTF8.self)) else { throw Failure(message: "ERR value is not a valid float") }
                if zset.updateValue(score, forKey: a[pair + 1]) == nil { added += 1 }
            }
            ks.put(a[1], .zset(zset), expiresAt: ks.live(a[1], now)?.expiresAt, now)
            return .integer(added)
        },
        "ZREM": Command(arity: -3) { ks, a, now throws(Failure) in
            var zset = try ks.zset(a[1], now)
            var removed = 0
            for member in a.dropFirst(2) where zset.removeValue(forKey: member) != nil { removed += 1 }
            if zset.isEmpty { ks.entries[a[1]] = nil } else { ks.entries[a[1]]?.value = .zset(zset) }
            return .integer(removed)
        },
        "ZCOUNT": Command(arity: 4) { ks, a, now throws(Failure) in
            let zset = try ks.zset(a[1], now)
            let low = try Self.bound(a[2]), high = try Self.bound(a[3])
            return .integer(zset.values.filter { Self.within($0, low, high) }.count)
        },
        "ZRANGEBYSCORE": Command(arity: -4) { ks, a, now throws(Failure) in
            let low = try Self.bound(a[2]), high = try Self.bound(a[3])
            var members = try ks.sorted(a[1], now).filter { Self.within($0.1, low, high) }
            if a.count == 7, String(decoding: a[4], as: UTF8.self).uppercased() == "LIMIT",
                let offset = Self.integer(a[5]), let count = Self.integer(a[6])
            {
                members = Array(members.dropFirst(offset).prefix(count < 0 ? members.count : count))
            }
            return .array(members.map { .bytes($0.0) })
        },
        "ZRANGE": Command(arity: -4) { ks, a, now throws(Failure) in
            guard let start = Self.integer(a[2]), let stop = Self.integer(a[3]), start >= 0, stop >= start else { throw .syntax }
            let withScores = a.count == 5 && String(decoding: a[4], as: UTF8.self).uppercased() == "WITHSCORES"
            let members = try ks.sorted(a[1], now).dropFirst(start).prefix(stop - start + 1)
            return .array(members.flatMap { member -> [RedisValue] in
                withScores ? [.bytes(member.0), .bytes(Array(String(member.1).utf8))] : [.bytes(member.0)]
            })
        },
    ]

    mutating func zset(_ key: Bytes, _ now: Int) throws(Failure) -> [Bytes: Double] {
        guard let entry = live(key, now) else { return [:] }
        guard case .zset(let zset) = entry.value else { throw .wrongType }
        return zset
    }

    mutating func sorted(_ key: Bytes, _ now: Int) throws(Failure) -> [(Bytes, Double)] {
        try zset(key, now).sorted { $0.value != $1.value ? $0.value < $1.value : $0.key.lexicographicallyPrecedes($1.key) }
            .map { ($0.key, $0.value) }
    }

    /// A score bound: a number, `-inf`/`+inf`, or `(number` (exclusive).
    static func bound(_ bytes: Bytes) throws(Failure) -> (value: Double, exclusive: Bool) {
        var text = String(decoding: bytes, as: UTF8.self)
        let exclusive = text.hasPrefix("(")
        if exclusive { text.removeFirst() }
        switch text.lowercased() {
        case "-inf": return (-.infinity, exclusive)
        case "+inf", "inf": return (.infinity, exclusive)
        default:
            guard let value = Double(text) else { throw Failure(message: "ERR min or max is not a float") }
            return (value, exclusive)
        }
    }

    static func within(_ score: Double, _ low: (value: Double, exclusive: Bool), _ high: (value: Double, exclusive: Bool)) -> Bool {
        (low.exclusive ? score > low.value : score >= low.value) && (high.exclusive ? score < high.value : score <= high.value)
    }
}
