/// RESP2 encoding of commands and incremental decoding of replies.
public enum RESPCodec {
    static func encode(_ commands: [RedisCommand], into out: inout [UInt8]) {
        for command in commands {
            out.append(UInt8(ascii: "*"))
            out.append(contentsOf: String(command.arguments.count).utf8)
            out.append(contentsOf: [0x0D, 0x0A])
            for argument in command.arguments {
                out.append(UInt8(ascii: "$"))
                out.append(contentsOf: String(argument.count).utf8)
                out.append(contentsOf: [0x0D, 0x0A])
                out.append(contentsOf: argument)
                out.append(contentsOf: [0x0D, 0x0A])
            }
        }
    }

    public struct Malformed: Error {}

    /// Redis's own `proto-max-bulk-len`: no server sends a longer bulk string.
    public static let maximumBulkLength = 512 * 1024 * 1024

    /// Parses one reply starting at `index`. Returns nil when more bytes are needed.
    ///
    /// A reply's lengths are not trusted: a bulk longer than `maximumReplyBytes` (or 512 MB), an
    /// array with more elements than that many bytes could hold, or a length that is not a
    /// decimal `Int` is `Malformed`, never an overflow or a huge allocation.
    public static func decode(_ buffer: [UInt8], from index: inout Int, maximumReplyBytes: Int = maximumBulkLength)
        throws(Malformed) -> RedisValue? {
        var cursor = index
        let limit = min(max(maximumReplyBytes, 0), maximumBulkLength)
        guard let value = try decodeValue(buffer, &cursor, depth: 0, limit: limit) else { return nil }
        index = cursor
        return value
    }

    private static func readLine(_ buffer: [UInt8], _ cursor: inout Int) -> ArraySlice<UInt8>? {
        var i = cursor
        while i + 1 < buffer.count {
            if buffer[i] == 0x0D && buffer[i + 1] == 0x0A {
                let line = buffer[cursor..<i]
                cursor = i + 2
                return line
            }
            i += 1
        }
        return nil
    }

    /// A decimal integer with an optional `-`, as Redis writes them: no `+`, spaces or `_`.
    private static func integer(_ line: ArraySlice<UInt8>) throws(Malformed) -> Int {
        let digits = line.first == UInt8(ascii: "-") ? line.dropFirst() : line[...]
        guard !digits.isEmpty, digits.count <= 19, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let value = Int(String(decoding: line, as: UTF8.self))
        else { throw Malformed() }
        return value
    }

    /// A length header: -1 (null) or 0...limit.
    private static func length(_ line: ArraySlice<UInt8>, limit: Int) throws(Malformed) -> Int {
        let value = try integer(line)
        guard value >= -1, value <= limit else { throw Malformed() }
        return value
    }

    private static func decodeValue(_ buffer: [UInt8], _ cursor: inout Int, depth: Int, limit: Int)
        throws(Malformed) -> RedisValue? {
        guard depth < 16 else { throw Malformed() }
        guard cursor < buffer.count else { return nil }
        let type = buffer[cursor]
        var i = cursor + 1
        guard let line = readLine(buffer, &i) else { return nil }
        switch type {
        case UInt8(ascii: "+"):
            cursor = i
            return .status(String(decoding: line, as: UTF8.self))
        case UInt8(ascii: "-"):
            cursor = i
            return .error(String(decoding: line, as: UTF8.self))
        case UInt8(ascii: ":"):
            cursor = i
            return .integer(try integer(line))
        case UInt8(ascii: "$"):
            let length = try length(line, limit: limit)
            if length < 0 {
                cursor = i
                return .null
            }
            // length <= 512 MB and i < buffer.count: the sum cannot overflow.
            guard buffer.count - i >= length + 2 else { return nil }
            guard buffer[i + length] == 0x0D, buffer[i + length + 1] == 0x0A else { throw Malformed() }
            let value = Array(buffer[i..<(i + length)])
            cursor = i + length + 2
            return .bytes(value)
        case UInt8(ascii: "*"):
            // Every element takes at least three bytes ("+\r\n").
            let count = try length(line, limit: limit / 3)
            if count < 0 {
                cursor = i
                return .null
            }
            var elements: [RedisValue] = []
            // Reserve only what the bytes already here could hold; the rest grows as it arrives.
            elements.reserveCapacity(min(count, (buffer.count - i) / 3))
            for _ in 0..<count {
                guard let element = try decodeValue(buffer, &i, depth: depth + 1, limit: limit) else { return nil }
                elements.append(element)
            }
            cursor = i
            return .array(elements)
        default:
            throw Malformed()
        }
    }
}
