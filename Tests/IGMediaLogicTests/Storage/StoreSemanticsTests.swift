import Testing

@testable import IGMediaLogic

/// The Redis behaviour the service relies on, run against every backend so the in-memory store's
/// answers are the real server's.
@Suite("Redis semantics the service relies on, every backend", .serialized)
struct StoreSemanticsTests {
    @Test("SET NX GET claims a key once and answers what holds it (the webhook's message claim)", arguments: StoreFixture.backends)
    func claim(backend: String) throws {
        let fixture = try StoreFixture.make(backend)
        defer { withExtendedLifetime(fixture) {} }
        let store = fixture.store
        #expect(try store.run(RedisCommand("SET", "seen:m1", "processing", "NX", "GET", "EX", 900)) == .null)
        #expect(try store.run(RedisCommand("SET", "seen:m1", "processing", "NX", "GET", "EX", 900)).stringValue == "processing")
        let ttl = try #require(try store.run(RedisCommand("PTTL", "seen:m1")).intValue)
        #expect(ttl > 890_000 && ttl <= 900_000)
        #expect(try store.run(RedisCommand("SET", "seen:m1", "done", "EX", 86_400)) == .status("OK"))
        #expect(try store.run(RedisCommand("SET", "seen:m1", "processing", "NX", "GET", "EX", 900)).stringValue == "done")
        #expect(try store.run(RedisCommand("SET", "fresh", "v", "XX")) == .null)
        #expect(try store.run(RedisCommand("EXISTS", "fresh")) == .integer(0))
    }

    @Test("keys expire after their TTL, and a plain SET clears the TTL", arguments: StoreFixture.backends)
    func expiry(backend: String) throws {
        let fixture = try StoreFixture.make(backend)
        defer { withExtendedLifetime(fixture) {} }
        let store = fixture.store
        _ = try store.run(RedisCommand("SET", "short", "v", "PX", 100))
        _ = try store.run(RedisCommand("SET", "cleared", "v", "PX", 100))
        _ = try store.run(RedisCommand("SET", "cleared", "w"))
        _ = try store.run(RedisCommand("SET", "kept", "v", "PX", 100))
        _ = try store.run(RedisCommand("SET", "kept", "w", "KEEPTTL"))
        #expect(try store.run(RedisCommand("PTTL", "cleared")) == .integer(-1))
        #expect(try store.run(RedisCommand("PTTL", "missing")) == .integer(-2))
        fixture.elapse(250)
        #expect(try store.run(RedisCommand("GET", "short")) == .null)
        #expect(try store.run(RedisCommand("GET", "kept")) == .null)
        #expect(try store.run(RedisCommand("EXISTS", "short", "kept", "cleared", "cleared")) == .integer(2))
        #expect(try store.run(RedisCommand("SET", "short", "again", "NX")) == .status("OK"))
    }

    @Test("hashes and sets count what changed; an emptied hash is gone", arguments: StoreFixture.backends)
    func hashesAndSets(backend: String) throws {
        let fixture = try StoreFixture.make(backend)
        defer { withExtendedLifetime(fixture) {} }
        let store = fixture.store
        #expect(try store.run(RedisCommand("HSET", "h", "a", "1", "b", "2")) == .integer(2))
        #expect(try store.run(RedisCommand("HSET", "h", "a", "3", "c", "4")) == .integer(1))
        #expect(try store.run(RedisCommand("HGETALL", "h")).hashValue == ["a": "3", "b": "2", "c": "4"])
        #expect(try store.run(RedisCommand("HDEL", "h", "a", "nope")) == .integer(1))
        #expect(try store.run(RedisCommand("HDEL", "h", "b", "c")) == .integer(2))
        #expect(try store.run(RedisCommand("EXISTS", "h")) == .integer(0))
        #expect(try store.run(RedisCommand("HGETALL", "h")) == .array([]))
        #expect(try store.run(RedisCommand("HDEL", "h", "a")) == .integer(0))

        #expect(try store.run(RedisCommand("SADD", "s", "x", "y", "x")) == .integer(2))
        #expect(try store.run(RedisCommand("SADD", "s", "y", "z")) == .integer(1))
        let members = try #require(try store.run(RedisCommand("SMEMBERS", "s")).arrayValue)
        #expect(Set(members.compactMap(\.stringValue)) == ["x", "y", "z"] && members.count == 3)
        #expect(try store.run(RedisCommand("SMEMBERS", "nothing")) == .array([]))
        _ = try store.run(RedisCommand("SET", "k", "v"))
        #expect(try store.run(RedisCommand("DEL", "s", "k", "k", "nope")) == .integer(2))
        #expect(try store.run(RedisCommand("EXISTS", "s", "k")) == .integer(0))
    }

    @Test("Redis's own error replies: wrong type, syntax, arity, integers, expire times", arguments: StoreFixture.backends)
    func errorReplies(backend: String) throws {
        let fixture = try StoreFixture.make(backend)
        defer { withExtendedLifetime(fixture) {} }
        let store = fixture.store
        _ = try store.run(RedisCommand("SET", "str", "text"))
        _ = try store.run(RedisCommand("SADD", "set", "m"))
        let replies = try store.pipeline([
            RedisCommand("HGETALL", "str"), RedisCommand("HSET", "str", "f", "v"), RedisCommand("HDEL", "str", "f"),
            RedisCommand("SADD", "str", "m"), RedisCommand("SMEMBERS", "str"), RedisCommand("GET", "set"),
            RedisCommand("SET", "set", "v", "GET"), RedisCommand("SET", "k", "v", "EX", 0),
            RedisCommand("SET", "k", "v", "PX", "soon"), RedisCommand("SET", "k", "v", "NX", "XX"),
            RedisCommand("SET", "k", "v", "EX", 5, "PX", 5), RedisCommand("SET", "k", "v", "BOGUS"),
            RedisCommand("HSET", "h", "f"), RedisCommand("HSET", "h", "f", "v", "g"), RedisCommand("GET"),
            RedisCommand("INCR", "str"), RedisCommand("INCRBY", "n", "1.5"), RedisCommand("SCAN", "x"),
            RedisCommand("SCAN", "0", "COUNT", 0), RedisCommand("EXISTS", "k", "h"),
        ])
        let wrongType = RedisValue.error("WRONGTYPE Operation against a key holding the wrong kind of value")
        let syntax = RedisValue.error("ERR syntax error")
        let notInteger = RedisValue.error("ERR value is not an integer or out of range")
        let hsetArity = RedisValue.error("ERR wrong number of arguments for 'hset' command")
        #expect(replies == [
            wrongType, wrongType, wrongType, wrongType, wrongType, wrongType, wrongType,
            .error("ERR invalid expire time in 'set' command"), notInteger, syntax, syntax, syntax,
            hsetArity, hsetArity, .error("ERR wrong number of arguments for 'get' command"),
            notInteger, notInteger, .error("ERR invalid cursor"), syntax, .integer(0),
        ])
        #expect(try store.run(RedisCommand("SET", "set", "overwritten")) == .status("OK"))
        #expect(try store.run(RedisCommand("GET", "set")).stringValue == "overwritten")
    }

    @Test("a transaction applies every command around one that fails at run time, and none when one is refused", arguments: StoreFixture.backends)
    func transactionErrors(backend: String) throws {
        let fixture = try StoreFixture.make(backend)
        defer { withExtendedLifetime(fixture) {} }
        let store = fixture.store
        _ = try store.run(RedisCommand("SET", "str", "text"))
        let replies = try store.transaction([
            RedisCommand("SET", "a", "1"), RedisCommand("HSET", "str", "f", "v"), RedisCommand("SADD", "s", "x"),
        ])
        #expect(replies.count == 3)
        #expect(replies[0] == .status("OK") && replies[2] == .integer(1))
        #expect(replies[1] == .error("WRONGTYPE Operation against a key holding the wrong kind of value"))
        #expect(try store.run(RedisCommand("GET", "a")).stringValue == "1")

        #expect(throws: StoreError.self) { try store.transaction([RedisCommand("SET", "c", "1"), RedisCommand("GET")]) }
        #expect(throws: StoreError.commandFailed("ERR wrong number of arguments for 'get' command")) {
            try store.run(RedisCommand("GET"))
        }
        #expect(try store.run(RedisCommand("EXISTS", "c")) == .integer(0))
        #expect(try store.transaction([]) == [])
    }

    @Test("SCAN matches Redis globs and returns every key that stays, while others are deleted", arguments: StoreFixture.backends)
    func scanGlobs(backend: String) throws {
        let fixture = try StoreFixture.make(backend)
        defer { withExtendedLifetime(fixture) {} }
        let store = fixture.store
        for key in ["ab", "a*b", "axb", "acb", "b", "a[b"] { _ = try store.run(RedisCommand("SET", RedisArgument(key), "v")) }
        _ = try store.run(RedisCommand("HSET", "ahash", "f", "v"))
        func scan(_ pattern: String, type: String? = nil, count: Int = 3, deleting: [String] = []) throws -> [String] {
            var cursor = "0"
            var seen: [String] = []
            var pending = deleting
            repeat {
                var arguments: [RedisArgument] = [RedisArgument(cursor), "MATCH", RedisArgument(pattern), "COUNT", RedisArgument(count)]
                if let type { arguments += ["TYPE", RedisArgument(type)] }
                let parts = try #require(try store.run(RedisCommand("SCAN", arguments)).arrayValue)
                cursor = try #require(parts[0].stringValue)
                seen += (parts[1].arrayValue ?? []).compactMap(\.stringValue)
                if let next = pending.popLast() { _ = try store.run(RedisCommand("DEL", RedisArgument(next))) }
            } while cursor != "0"
            return Array(Set(seen)).sorted()
        }
        #expect(try scan("a*b") == ["a*b", "a[b", "ab", "acb", "axb"])
        #expect(try scan("a\\*b") == ["a*b"])
        #expect(try scan("a[xc]b") == ["acb", "axb"])
        #expect(try scan("a[^x]b") == ["a*b", "a[b", "acb"])
        #expect(try scan("a[\\[]b") == ["a[b"])
        #expect(try scan("a?b") == ["a*b", "a[b", "acb", "axb"])
        #expect(try scan("a*", type: "hash") == ["ahash"])
        #expect(Set(try scan("*", count: 1, deleting: ["b", "ab"])).isSuperset(of: ["a*b", "a[b", "acb", "ahash", "axb"]))
    }
}
