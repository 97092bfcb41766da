import Foundation
import Testing

@testable import IGMediaLogic

@Suite("Redis store, every backend", .serialized)
struct StoreSuiteTests {
    @Test("sets and gets values byte-exact", arguments: StoreFixture.backends)
    func setGet(backend: String) throws {
        let fixture = try StoreFixture.make(backend)
        let value = "{\"a\":\"é😀\\n\"} \u{0}end"
        #expect(try fixture.store.run(RedisCommand("SET", "k", RedisArgument(value))) == .status("OK"))
        #expect(try fixture.store.run(RedisCommand("GET", "k")).stringValue == value)
        #expect(try fixture.store.run(RedisCommand("GET", "missing")) == .null)
        #expect(try fixture.store.run(RedisCommand("SET", "OKkey", "OK")) == .status("OK"))
        #expect(try fixture.store.run(RedisCommand("GET", "OKkey")).stringValue == "OK")
    }

    @Test("pipelines commands and keeps per-command errors", arguments: StoreFixture.backends)
    func pipeline(backend: String) throws {
        let fixture = try StoreFixture.make(backend)
        let replies = try fixture.store.pipeline([
            RedisCommand("SET", "n", "x"), RedisCommand("INCR", "n"), RedisCommand("HSET", "h", "f1", "v1", "f2", "v2"),
            RedisCommand("HGETALL", "h"), RedisCommand("EXISTS", "h", "nope"),
        ])
        #expect(replies.count == 5)
        #expect(replies[0] == .status("OK"))
        guard case .error = replies[1] else {
            Issue.record("expected an error reply, got \(replies[1])")
            return
        }
        #expect(replies[2] == .integer(2))
        #expect(replies[3].hashValue == ["f1": "v1", "f2": "v2"])
        #expect(replies[4] == .integer(1))
    }

    @Test("runs transactions atomically", arguments: StoreFixture.backends)
    func transaction(backend: String) throws {
        let fixture = try StoreFixture.make(backend)
        let replies = try fixture.store.transaction([
            RedisCommand("SET", "a", "1"), RedisCommand("INCRBY", "a", 41), RedisCommand("SADD", "s", "x", "y"),
        ])
        #expect(replies == [.status("OK"), .integer(42), .integer(2)])
        #expect(throws: StoreError.self) {
            try fixture.store.transaction([RedisCommand("SET", "b", "1"), RedisCommand("NOSUCHCOMMAND", "x")])
        }
        #expect(try fixture.store.run(RedisCommand("GET", "b")) == .null)
    }

    @Test("sets with NX and expiry, and scans keys", arguments: StoreFixture.backends)
    func nxAndScan(backend: String) throws {
        let fixture = try StoreFixture.make(backend)
        #expect(try fixture.store.run(RedisCommand("SET", "lock", "me", "NX", "PX", 5000)) == .status("OK"))
        #expect(try fixture.store.run(RedisCommand("SET", "lock", "you", "NX", "PX", 5000)) == .null)
        let ttl = try fixture.store.run(RedisCommand("PTTL", "lock")).intValue ?? 0
        #expect(ttl > 0 && ttl <= 5000)
        for i in 0..<30 { _ = try fixture.store.run(RedisCommand("SET", RedisArgument("scan:\(i)"), "v")) }
        var cursor = "0"
        var seen = Set<String>()
        repeat {
            let reply = try fixture.store.run(RedisCommand("SCAN", RedisArgument(cursor), "MATCH", "scan:*", "COUNT", 7))
            let parts = try #require(reply.arrayValue)
            cursor = try #require(parts[0].stringValue)
            for key in parts[1].arrayValue ?? [] { if let k = key.stringValue { seen.insert(k) } }
        } while cursor != "0"
        #expect(seen.count == 30)
    }

    @Test("answers unavailable within the timeout when the server is gone, and recovers", arguments: StoreFixture.backends)
    func outageAndRecovery(backend: String) throws {
        let fixture = try StoreFixture.make(backend, timeoutMilliseconds: 500)
        _ = try fixture.store.run(RedisCommand("SET", "k", "v"))
        fixture.stopServer()
        let started = Date()
        let error = #expect(throws: StoreError.self) { try fixture.store.run(RedisCommand("GET", "k")) }
        #expect(Date().timeIntervalSince(started) < 2.0)
        guard case .unavailable? = error else {
            Issue.record("expected unavailable, got \(String(describing: error))")
            return
        }
        try fixture.startServer()
        #expect(try fixture.store.run(RedisCommand("SET", "k", "again")) == .status("OK"))
        #expect(try fixture.store.run(RedisCommand("GET", "k")).stringValue == "again")
    }
}

@Suite("Native Redis specifics")
struct RESPStoreTests {
    @Test("times out on a server that stops answering")
    func hungServer() throws {
        let redis = try RedisServerProcess()
        let store = try RESPStore(url: redis.url, timeoutMilliseconds: 300)
        _ = try store.run(RedisCommand("PING"))
        let sleeper = try RESPStore(url: redis.url, timeoutMilliseconds: 5000)
        let thread = Thread { _ = try? sleeper.run(RedisCommand("DEBUG", "SLEEP", "1")) }
        thread.start()
        usleep(100_000)
        let started = Date()
        #expect(throws: StoreError.unavailable("timed out")) { try store.run(RedisCommand("GET", "k")) }
        #expect(Date().timeIntervalSince(started) < 0.8)
    }

    @Test("stores bytes that are not UTF-8")
    func binary() throws {
        let redis = try RedisServerProcess()
        let store = try RESPStore(url: redis.url, timeoutMilliseconds: 1000)
        let bytes: [UInt8] = [0xFF, 0x00, 0xC3, 0x28]
        _ = try store.run(RedisCommand("SET", "bin", RedisArgument(bytes)))
        #expect(try store.run(RedisCommand("GET", "bin")) == .bytes(bytes))
    }

    @Test(
        "parses Redis URLs",
        arguments: [
            ("redis://127.0.0.1:6380/2", RedisURL.Address.tcp(host: "127.0.0.1", port: 6380), nil as String?, nil as String?, 2),
            ("redis://:p%40ss@h", .tcp(host: "h", port: 6379), nil, "p@ss", 0),
            ("redis://user:pw@[::1]:7000", .tcp(host: "::1", port: 7000), "user", "pw", 0),
            ("unix:///run/redis.sock?db=3&password=x", .unix(path: "/run/redis.sock"), nil, "x", 3),
        ])
    func urls(text: String, address: RedisURL.Address, user: String?, password: String?, db: Int) throws {
        let url = try RedisURL(text)
        #expect(url.address == address)
        #expect(url.username == user)
        #expect(url.password == password)
        #expect(url.database == db)
    }

    @Test("refuses malformed Redis URLs", arguments: ["redis://h:0", "redis://h:x", "redis://h/x", "unix://relative", "http://h"])
    func badURLs(text: String) {
        #expect(throws: RedisURL.Invalid.self) { try RedisURL(text) }
    }

    @Test("authenticates and selects a database")
    func authAndSelect() throws {
        let redis = try RedisServerProcess()
        let admin = try RESPStore(url: redis.url, timeoutMilliseconds: 1000)
        _ = try admin.run(RedisCommand("CONFIG", "SET", "requirepass", "s3cret"))
        let wrong = try RESPStore(url: "redis://:nope@127.0.0.1:\(redis.port)", timeoutMilliseconds: 1000)
        #expect(throws: StoreError.self) { try wrong.run(RedisCommand("PING")) }
        let right = try RESPStore(url: "redis://:s3cret@127.0.0.1:\(redis.port)/5", timeoutMilliseconds: 1000)
        _ = try right.run(RedisCommand("SET", "db5", "yes"))
        let db0 = try RESPStore(url: "redis://:s3cret@127.0.0.1:\(redis.port)/0", timeoutMilliseconds: 1000)
        #expect(try db0.run(RedisCommand("GET", "db5")) == .null)
    }
}
