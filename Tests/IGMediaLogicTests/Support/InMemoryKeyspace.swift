import IGMediaLogic

/// The data of an `InMemoryRedisStore` and the commands over it, as Redis 7 runs them.
/// Not thread-safe: the store holds it under its lock.
struct InMemoryKeyspace {
    typealias Bytes = [UInt8]

    enum Value {
        case string(Bytes)
        case hash(OrderedBytes<Bytes>)
        case set(OrderedBytes<Void>)
        case zset([Bytes: Double])
        case stream(InMemoryStream)
    }

    struct Entry {
        var value: Value
        /// Absolute expiry in Unix milliseconds; nil lives forever.
        var expiresAt: Int?
        /// Creation order: SCAN's cursor, so a deletion never makes the scan skip a key.
        let sequence: Int
    }

    /// A command-level failure: becomes a `.error` reply, the store itself is fine.
    struct Failure: Error {
        let message: String
        static let wrongType = Failure(message: "WRONGTYPE Operation against a key holding the wrong kind of value")
        static let syntax = Failure(message: "ERR syntax error")
        static let notInteger = Failure(message: "ERR value is not an integer or out of range")
        static func arity(_ name: String) -> Failure {
            Failure(message: "ERR wrong number of arguments for '\(name.lowercased())' command")
        }
    }

    typealias Implementation = @Sendable (inout InMemoryKeyspace, [Bytes], Int) throws(Failure) -> RedisValue

    /// Redis's arity: positive is exact, negative is a minimum; the name counts.
    struct Command: Sendable {
        let arity: Int
        let run: Implementation
    }

    var entries: [Bytes: Entry] = [:]
    private var nextSequence = 1

    static let commands: [String: Command] = [
        "GET": Command(arity: 2) { ks, a, now throws(Failure) in try ks.string(a[1], now).map(RedisValue.bytes) ?? .null },
        "SET": Command(arity: -3) { ks, a, now throws(Failure) in try ks.set(a, now) },
        "DEL": Command(arity: -2) { ks, a, now throws(Failure) in
            var removed = 0
            for key in a.dropFirst() where ks.live(key, now) != nil {
                ks.entries[key] = nil
                removed += 1
            }
            return .integer(removed)
        },
        "EXISTS": Command(arity: -2) { ks, a, now throws(Failure) in .integer(a.dropFirst().filter { ks.live($0, now) != nil }.count) },
        "INCR": Command(arity: 2) { ks, a, now throws(Failure) in try ks.increment(a[1], by: 1, now) },
        "INCRBY": Command(arity: 3) { ks, a, now throws(Failure) in
            guard let step = Self.integer(a[2]) else { throw .notInteger }
            return try ks.increment(a[1], by: step, now)
        },
        "PTTL": Command(arity: 2) { ks, a, now throws(Failure) in
            guard let entry = ks.live(a[1], now) else { return .integer(-2) }
            return .integer(entry.expiresAt.map { $0 - now } ?? -1)
        },
        "HSET": Command(arity: -4) { ks, a, now throws(Failure) in try ks.hset(a, now) },
        "HGETALL": Command(arity: 2) { ks, a, now throws(Failure) in try ks.hgetall(a[1], now) },
        "HDEL": Command(arity: -3) { ks, a, now throws(Failure) in try ks.hdel(a, now) },
        "SADD": Command(arity: -3) { ks, a, now throws(Failure) in try ks.sadd(a, now) },
        "SMEMBERS": Command(arity: 2) { ks, a, now throws(Failure) in try ks.smembers(a[1], now) },
        "SCAN": Command(arity: -2) { ks, a, now throws(Failure) in try ks.scan(a, now) },
        "EVAL": Command(arity: -3) { ks, a, now throws(Failure) in try ks.eval(a, now) },
    ].merging(Self.moreCommands) { first, _ in first }.merging(Self.streamCommands) { first, _ in first }

    /// Why Redis would refuse the command while queueing it in MULTI (unknown or wrong arity).
    static func queueingError(_ arguments: [Bytes]) -> Failure? {
        let name = String(decoding: arguments.first ?? [], as: UTF8.self)
        guard let command = commands[name.uppercased()] else {
            let shown = arguments.dropFirst().prefix(8).map { "'\(String(decoding: $0.prefix(128), as: UTF8.self))' " }
            return Failure(message: "ERR unknown command '\(name)', with args beginning with: \(shown.joined())")
        }
        let count = arguments.count
        return (command.arity >= 0 ? count == command.arity : count >= -command.arity) ? nil : .arity(name)
    }

    mutating func execute(_ arguments: [Bytes], now: Int) -> RedisValue {
        if let refused = Self.queueingError(arguments) { return .error(refused.message) }
        let name = String(decoding: arguments[0], as: UTF8.self).uppercased()
        do {
            // queueingError found it, so the command is in the table.
            return try Self.commands[name]!.run(&self, arguments, now)
        } catch {
            return .error(error.message)
        }
    }

    // MARK: - Keys

    /// The entry under `key` unless it has expired; an expired one is removed, as Redis does on access.
    mutating func live(_ key: Bytes, _ now: Int) -> Entry? {
        guard let entry = entries[key] else { return nil }
        if let expiresAt = entry.expiresAt, expiresAt <= now {
            entries[key] = nil
            return nil
        }
        return entry
    }

    /// Stores `value` under `key`, keeping the key's place in SCAN order when it already exists.
    mutating func put(_ key: Bytes, _ value: Value, expiresAt: Int?, _ now: Int) {
        let sequence = live(key, now)?.sequence ?? nextSequence
        if sequence == nextSequence { nextSequence += 1 }
        entries[key] = Entry(value: value, expiresAt: expiresAt, sequence: sequence)
    }

    mutating func string(_ key: Bytes, _ now: Int) throws(Failure) -> Bytes? {
        guard let entry = live(key, now) else { return nil }
        guard case .string(let bytes) = entry.value else { throw .wrongType }
        return bytes
    }

    /// Redis's strict integer syntax (string2ll): optional '-', no '+', no leading zeros or spaces.
    static func integer(_ bytes: Bytes) -> Int? {
        let digits = bytes.first == UInt8(ascii: "-") ? bytes.dropFirst() : bytes[...]
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        guard digits.first != 0x30 || (digits.count == 1 && bytes.count == 1) else { return nil }
        return Int(String(decoding: bytes, as: UTF8.self))
    }

    private mutating func increment(_ key: Bytes, by step: Int, _ now: Int) throws(Failure) -> RedisValue {
        let current = try string(key, now).map { bytes throws(Failure) in
            guard let value = Self.integer(bytes) else { throw .notInteger }
            return value
        } ?? 0
        let (sum, overflow) = current.addingReportingOverflow(step)
        guard !overflow else { throw Failure(message: "ERR increment or decrement would overflow") }
        put(key, .string(Array(String(sum).utf8)), expiresAt: live(key, now)?.expiresAt, now)
        return .integer(sum)
    }

    /// `SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]`
    private mutating func set(_ a: [Bytes], _ now: Int) throws(Failure) -> RedisValue {
        var condition: String?
        var get = false
        var expiry: (option: String, amount: Bytes)?
        var keepTTL = false
        var index = 3
        while index < a.count {
            let option = String(decoding: a[index], as: UTF8.self).uppercased()
            switch option {
            case "NX", "XX":
                guard condition == nil || condition == option else { throw .syntax }
                condition = option
            case "GET":
                get = true
            case "KEEPTTL":
                guard expiry == nil else { throw .syntax }
                keepTTL = true
            case "EX", "PX", "EXAT", "PXAT":
                guard expiry == nil, !keepTTL, index + 1 < a.count else { throw .syntax }
                expiry = (option, a[index + 1])
                index += 1
            default:
                throw .syntax
            }
            index += 1
        }
        var expiresAt: Int?
        if let (option, amount) = expiry {
            guard let number = Self.integer(amount) else { throw .notInteger }
            let milliseconds = option.hasPrefix("P") ? (number, false) : number.multipliedReportingOverflow(by: 1000)
            let absolute = option.hasSuffix("AT") ? (milliseconds.0, false) : milliseconds.0.addingReportingOverflow(now)
            guard number > 0, !milliseconds.1, !absolute.1 else {
                throw Failure(message: "ERR invalid expire time in 'set' command")
            }
            expiresAt = absolute.0
        }
        let existing = live(a[1], now)
        var old: Bytes?
        if get, let existing {
            guard case .string(let bytes) = existing.value else { throw .wrongType }
            old = bytes
        }
        let applies = condition == nil || (condition == "NX") == (existing == nil)
        if applies {
            put(a[1], .string(a[2]), expiresAt: keepTTL ? existing?.expiresAt : expiresAt, now)
        }
        if get { return old.map(RedisValue.bytes) ?? .null }
        return applies ? .status("OK") : .null
    }
}
