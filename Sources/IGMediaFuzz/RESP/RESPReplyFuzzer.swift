import IGMediaLogic

/// Replies from the store, as RESPConnection reads them: whatever bytes a broken or hostile server
/// sends, decoding ends in a value, "need more bytes" or `Malformed`, never a trap or a huge
/// allocation (the sanitizer's RSS limit catches the latter).
enum RESPReplyFuzzer {
    /// Small enough that a hostile length is refused long before the RSS limit.
    static let replyLimit = 1 << 20

    static func run(_ input: [UInt8]) {
        var index = 0
        while index < input.count {
            let start = index
            let value: RedisValue?
            do {
                value = try RESPCodec.decode(input, from: &index, maximumReplyBytes: replyLimit)
            } catch {
                require(index == start, "a malformed reply moved the cursor")
                return
            }
            guard value != nil else {
                require(index == start, "an incomplete reply moved the cursor")
                return
            }
            require(index > start && index <= input.count, "cursor \(index) after a reply from \(start)")
            checkPrefixes(Array(input[start..<index]))
        }
    }

    /// Every strict prefix of a complete reply needs more bytes: a reply split across two reads
    /// must never be taken for a different one or for garbage.
    static func checkPrefixes(_ reply: [UInt8]) {
        for cut in stride(from: 0, to: reply.count, by: max(1, reply.count / 16)) {
            var index = 0
            let prefix = Array(reply[0..<cut])
            do {
                let value = try RESPCodec.decode(prefix, from: &index, maximumReplyBytes: replyLimit)
                require(value == nil && index == 0, "a \(cut)-byte prefix of a \(reply.count)-byte reply decoded")
            } catch {
                fatalError("RESP invariant violated: a \(cut)-byte prefix of a valid reply was malformed")
            }
        }
    }

    static func require(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { fatalError("RESP invariant violated: \(message())") }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    RESPReplyFuzzer.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
