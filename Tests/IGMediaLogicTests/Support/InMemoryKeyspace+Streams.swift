import IGMediaLogic

/// A stream's entries in id order (`ms-seq`), as the change stream uses them: XADD with an
/// approximate MAXLEN, XREAD without BLOCK, XREVRANGE for the newest id.
struct InMemoryStream {
    var entries: [(id: (Int, Int), fields: [[UInt8]])] = []
    var last = (0, 0)

    static func parse(_ bytes: [UInt8]) -> (Int, Int)? {
        let text = String(decoding: bytes, as: UTF8.self)
        let parts = text.split(separator: "-", maxSplits: 1)
        guard let ms = Int(parts.first ?? "") else { return nil }
        return (ms, parts.count > 1 ? (Int(parts[1]) ?? 0) : 0)
    }

    static func render(_ id: (Int, Int)) -> RedisValue { .bytes(Array("\(id.0)-\(id.1)".utf8)) }
}

extension InMemoryKeyspace {
    static let streamCommands: [String: Command] = [
        "XADD": Command(arity: -5) { ks, a, now throws(Failure) in
            var stream = try ks.stream(a[1], now) ?? InMemoryStream()
            var index = 2
            var maxLength: Int?
            if String(decoding: a[index], as: UTF8.self).uppercased() == "MAXLEN" {
                index += 1
                if a[index] == Array("~".utf8) || a[index] == Array("=".utf8) { index += 1 }
                guard let length = Self.integer(a[index]) else { throw .notInteger }
                maxLength = length
                index += 1
            }
            guard a[index] == Array("*".utf8) else { throw .syntax }
            let fields = Array(a[(index + 1)...])
            guard !fields.isEmpty, fields.count % 2 == 0 else { throw .arity("xadd") }
            let id = now > stream.last.0 ? (now, 0) : (stream.last.0, stream.last.1 + 1)
            stream.last = id
            stream.entries.append((id, fields))
            if let maxLength, stream.entries.count > maxLength { stream.entries.removeFirst(stream.entries.count - maxLength) }
            ks.put(a[1], .stream(stream), expiresAt: nil, now)
            return InMemoryStream.render(id)
        },
        "XREVRANGE": Command(arity: -4) { ks, a, now throws(Failure) in
            let count = a.count >= 6 ? Self.integer(a[5]) ?? Int.max : Int.max
            let entries = try ks.stream(a[1], now)?.entries.reversed().prefix(count) ?? []
            return .array(entries.map { .array([InMemoryStream.render($0.id), .array($0.fields.map(RedisValue.bytes))]) })
        },
        "XREAD": Command(arity: -4) { ks, a, now throws(Failure) in
            // XREAD COUNT n STREAMS key id
            guard a.count == 6, let count = Self.integer(a[2]), let after = InMemoryStream.parse(a[5]) else { throw .syntax }
            let entries = (try ks.stream(a[4], now)?.entries ?? []).filter { $0.id > after }.prefix(count)
            if entries.isEmpty { return .null }
            let rendered = RedisValue.array(entries.map { .array([InMemoryStream.render($0.id), .array($0.fields.map(RedisValue.bytes))]) })
            return .array([.array([.bytes(a[4]), rendered])])
        },
    ]

    mutating func stream(_ key: Bytes, _ now: Int) throws(Failure) -> InMemoryStream? {
        guard let entry = live(key, now) else { return nil }
        guard case .stream(let stream) = entry.value else { throw .wrongType }
        return stream
    }
}
