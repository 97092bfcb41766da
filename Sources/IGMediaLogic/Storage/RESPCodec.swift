/// RESP2 encoding of commands and incremental decoding of replies.
enum RESPCodec {
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

    struct Malformed: Error {}

    /// Parses one reply starting at `index`. Returns nil when more bytes are needed.
    static func decode(_ buffer: [UInt8], from index: inout Int) throws(Malformed) -> RedisValue? {
        var cursor = index
        guard let value = try decodeValue(buffer, &cursor, depth: 0) else { return nil }
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

    private static func integer(_ line: ArraySlice<UInt8>) throws(Malformed) -> Int {
        guard let value = Int(String(decoding: line, as: UTF8.self)) else { throw Malformed() }
        return value
    }

    private static func decodeValue(_ buffer: [UInt8], _ cursor: inout Int, depth: Int) throws(Malformed) -> RedisValue? {
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
            let length = try integer(line)
            if length < 0 {
                cursor = i
                return .null
            }
            guard i + length + 2 <= buffer.count else { return nil }
            let value = Array(buffer[i..<(i + length)])
            cursor = i + length + 2
            return .bytes(value)
        case UInt8(ascii: "*"):
            let count = try integer(line)
            if count < 0 {
                cursor = i
                return .null
            }
            var elements: [RedisValue] = []
            elements.reserveCapacity(count)
            for _ in 0..<count {
                guard let element = try decodeValue(buffer, &i, depth: depth + 1) else { return nil }
                elements.append(element)
            }
            cursor = i
            return .array(elements)
        default:
            throw Malformed()
        }
    }
}
