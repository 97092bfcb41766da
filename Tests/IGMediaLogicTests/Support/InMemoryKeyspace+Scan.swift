import IGMediaLogic

/// `SCAN` and its glob patterns.
extension InMemoryKeyspace {
    /// `SCAN cursor [MATCH pattern] [COUNT n] [TYPE type]`. The cursor is the creation sequence of
    /// the next key to examine, so every key that exists for the whole scan is returned exactly
    /// once; COUNT is how many keys are examined, as in Redis, so a batch may be empty before the
    /// cursor comes back to 0.
    mutating func scan(_ a: [Bytes], _ now: Int) throws(Failure) -> RedisValue {
        guard a[1].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let cursor = Int(String(decoding: a[1], as: UTF8.self)) else {
            throw Failure(message: "ERR invalid cursor")
        }
        var pattern: Bytes?
        var count = 10
        var type: String?
        var index = 2
        while index < a.count {
            guard index + 1 < a.count else { throw .syntax }
            let value = a[index + 1]
            switch String(decoding: a[index], as: UTF8.self).uppercased() {
            case "MATCH": pattern = value
            case "COUNT":
                guard let number = Self.integer(value) else { throw .notInteger }
                guard number >= 1 else { throw .syntax }
                count = number
            case "TYPE": type = String(decoding: value, as: UTF8.self).lowercased()
            default: throw .syntax
            }
            index += 2
        }
        let ahead = entries.filter { $0.value.sequence >= cursor }.sorted { $0.value.sequence < $1.value.sequence }
        var found: [RedisValue] = []
        for (key, _) in ahead.prefix(count) {
            guard let entry = live(key, now) else { continue }
            if let pattern, !Self.glob(pattern[...], key[...]) { continue }
            if let type, type != entry.value.typeName { continue }
            found.append(.bytes(key))
        }
        let next = ahead.count > count ? ahead[count].value.sequence : 0
        return .array([.bytes(Array(String(next).utf8)), .array(found)])
    }

    /// Redis's glob (`stringmatchlen`): `*`, `?`, `[abc]`, `[^a-z]`, and `\` quoting.
    static func glob(_ pattern: ArraySlice<UInt8>, _ string: ArraySlice<UInt8>) -> Bool {
        var p = pattern
        var s = string
        while let c = p.first {
            switch c {
            case UInt8(ascii: "*"):
                while p.first == UInt8(ascii: "*") { p = p.dropFirst() }
                if p.isEmpty { return true }
                for start in s.indices where glob(p, s[start...]) { return true }
                return false
            case UInt8(ascii: "?"):
                guard !s.isEmpty else { return false }
            case UInt8(ascii: "["):
                guard let character = s.first else { return false }
                p = p.dropFirst()
                let negated = p.first == UInt8(ascii: "^")
                if negated { p = p.dropFirst() }
                var matched = false
                // An unclosed class runs to the end of the pattern.
                while let member = p.first, member != UInt8(ascii: "]") {
                    let rest = Array(p)
                    if member == UInt8(ascii: "\\"), rest.count >= 2 {
                        matched = matched || rest[1] == character
                        p = p.dropFirst(2)
                    } else if rest.count >= 3, rest[1] == UInt8(ascii: "-") {
                        let (low, high) = (min(rest[0], rest[2]), max(rest[0], rest[2]))
                        matched = matched || (low...high).contains(character)
                        p = p.dropFirst(3)
                    } else {
                        matched = matched || member == character
                        p = p.dropFirst()
                    }
                }
                guard matched != negated else { return false }
            case UInt8(ascii: "\\") where p.count >= 2:
                p = p.dropFirst()
                guard s.first == p.first else { return false }
            default:
                guard s.first == c else { return false }
            }
            p = p.dropFirst()
            s = s.dropFirst()
        }
        return s.isEmpty
    }
}

extension InMemoryKeyspace.Value {
    /// What `TYPE` would answer.
    var typeName: String {
        switch self {
        case .string: return "string"
        case .hash: return "hash"
        case .set: return "set"
        case .zset: return "zset"
        case .stream: return "stream"
        }
    }
}
