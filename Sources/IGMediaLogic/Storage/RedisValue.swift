/// A Redis reply, the same whichever backend produced it.
public enum RedisValue: Sendable, Equatable {
    case null
    case integer(Int)
    /// A bulk string: arbitrary bytes.
    case bytes([UInt8])
    /// A simple status such as `OK` or `QUEUED`.
    case status(String)
    /// A command-level error (`WRONGTYPE ...`). The connection is still fine.
    case error(String)
    case array([RedisValue])

    public var bytesValue: [UInt8]? {
        switch self {
        case .bytes(let b): return b
        case .status(let s): return Array(s.utf8)
        default: return nil
        }
    }

    public var stringValue: String? {
        bytesValue.flatMap { String(validating: $0, as: UTF8.self) }
    }

    public var intValue: Int? {
        switch self {
        case .integer(let i): return i
        case .bytes(let b): return Int(String(decoding: b, as: UTF8.self))
        default: return nil
        }
    }

    public var arrayValue: [RedisValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var isNull: Bool { self == .null }

    /// An HGETALL reply as a dictionary of UTF-8 fields.
    public var hashValue: [String: String]? {
        guard let items = arrayValue, items.count % 2 == 0 else { return nil }
        var result: [String: String] = [:]
        var index = 0
        while index < items.count {
            guard let field = items[index].stringValue, let value = items[index + 1].stringValue else { return nil }
            result[field] = value
            index += 2
        }
        return result
    }
}

/// One command: the name and its arguments as bytes.
public struct RedisCommand: Sendable, Equatable {
    public var arguments: [[UInt8]]

    public init(_ name: String, _ arguments: [RedisArgument]) {
        self.arguments = [Array(name.utf8)] + arguments.map(\.bytes)
    }

    public init(_ name: String, _ arguments: RedisArgument...) {
        self.init(name, arguments)
    }

    public var name: String { String(decoding: arguments.first ?? [], as: UTF8.self) }
}

/// Anything that can be a command argument.
public struct RedisArgument: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public init(_ text: String) { self.bytes = Array(text.utf8) }
    public init(_ key: RedisKey) { self.bytes = Array(key.rawValue.utf8) }
    public init(_ number: Int) { self.bytes = Array(String(number).utf8) }
    public init(stringLiteral value: String) { self.init(value) }
    public init(integerLiteral value: Int) { self.init(value) }
}
