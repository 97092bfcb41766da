import Foundation
import Testing

@testable import IGMediaLogic

@Suite("In-memory store specifics")
struct InMemoryRedisStoreTests {
    @Test("expiry follows the injected clock, not the wall clock")
    func injectedClock() throws {
        let clock = ManualClock(seconds: 1_800_000_000)
        let store = InMemoryRedisStore(clock: clock)
        _ = try store.run(RedisCommand("SET", "k", "v", "EX", 10))
        usleep(20_000)
        #expect(try store.run(RedisCommand("PTTL", "k")) == .integer(10_000))
        clock.advance(seconds: 9.999)
        #expect(try store.run(RedisCommand("GET", "k")).stringValue == "v")
        clock.advance(seconds: 0.001)
        #expect(try store.run(RedisCommand("GET", "k")) == .null)
    }

    @Test("an outage fails every call the way RESPStore does, and the data is there afterwards")
    func outage() throws {
        let store = InMemoryRedisStore()
        _ = try store.run(RedisCommand("SET", "k", "v"))
        store.isDown = true
        #expect(throws: StoreError.unavailable("connection refused or closed")) { try store.pipeline([RedisCommand("GET", "k")]) }
        #expect(throws: StoreError.unavailable("connection refused or closed")) { try store.transaction([RedisCommand("GET", "k")]) }
        #expect(StoreError.unavailable("connection refused or closed").httpError.status == .serviceUnavailable)
        store.isDown = false
        #expect(try store.run(RedisCommand("GET", "k")).stringValue == "v")
    }

    @Test("refuses a script it has no Swift version of, instead of guessing")
    func unknownScript() throws {
        let reply = try InMemoryRedisStore().pipeline([RedisCommand("EVAL", "return 1", 0)])
        #expect(reply == [.error("ERR InMemoryRedisStore has no Swift version of this script: add it to InMemoryKeyspace.scripts")])
    }
}
