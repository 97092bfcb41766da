import Testing

@testable import IGMediaLogic

/// Replies from a broken or hostile store: lengths are never trusted (security review, finding 4).
@Suite("RESP reply decoding")
struct RESPCodecTests {
    static func decode(_ text: String, limit: Int = RESPCodec.maximumBulkLength) throws(RESPCodec.Malformed)
        -> (RedisValue?, Int) {
        var index = 0
        let value = try RESPCodec.decode(Array(text.utf8), from: &index, maximumReplyBytes: limit)
        return (value, index)
    }

    @Test("well-formed replies of every type decode, and report how much they consumed")
    func wellFormed() throws {
        #expect(try Self.decode("+OK\r\n") == (.status("OK"), 5))
        #expect(try Self.decode("-ERR no\r\n") == (.error("ERR no"), 9))
        #expect(try Self.decode(":-42\r\n") == (.integer(-42), 6))
        #expect(try Self.decode("$3\r\nfoo\r\n") == (.bytes(Array("foo".utf8)), 9))
        #expect(try Self.decode("$-1\r\n") == (.null, 5))
        #expect(try Self.decode("*-1\r\n") == (.null, 5))
        #expect(try Self.decode("*2\r\n:1\r\n$0\r\n\r\n") == (.array([.integer(1), .bytes([])]), 14))
        #expect(try Self.decode(":-9223372036854775808\r\n").0 == .integer(Int.min))
    }

    @Test("a reply cut anywhere needs more bytes, never decodes to something else")
    func incomplete() throws {
        let whole = "*3\r\n$5\r\nhello\r\n:12\r\n*1\r\n+OK\r\n"
        for cut in 0..<whole.utf8.count {
            var index = 0
            let value = try RESPCodec.decode(Array(whole.utf8.prefix(cut)), from: &index)
            #expect(value == nil && index == 0, "cut at \(cut)")
        }
    }

    @Test(
        "hostile lengths are malformed at once: no overflow trap, no huge allocation, no waiting for 512 MB",
        arguments: [
            "$9223372036854775806\r\n", "$9223372036854775807\r\n", "*999999999999999\r\n", "*9223372036854775807\r\n",
            "$536870913\r\n", "$-2\r\n", "*-2\r\n", "$+5\r\nhello\r\n", "$ 5\r\nhello\r\n", "$5x\r\nhello\r\n",
            ":99999999999999999999\r\n", ":\r\n", ":-\r\n", "$\r\n", "$5\r\nhelloXY", "!3\r\nabc\r\n",
            "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n",
        ])
    func hostile(reply: String) {
        #expect(throws: RESPCodec.Malformed.self) { try Self.decode(reply) }
    }

    @Test("a bulk or array larger than the connection's reply limit is malformed before its bytes arrive")
    func connectionLimit() throws {
        #expect(throws: RESPCodec.Malformed.self) { try Self.decode("$1025\r\n", limit: 1024) }
        #expect(throws: RESPCodec.Malformed.self) { try Self.decode("*342\r\n", limit: 1024) }
        #expect(try Self.decode("$1024\r\n", limit: 1024) == (nil, 0))
        #expect(try Self.decode("*341\r\n", limit: 1024) == (nil, 0))
    }
}
