import Foundation

@testable import IGMediaLogic

/// A store under test on one backend, with a way to take its server away and bring it back.
struct StoreFixture {
    /// Every backend the store suites run against: redis-server over RESP, the Upstash REST fake
    /// in front of redis-server, and `InMemoryRedisStore`.
    static let backends = ["resp", "upstash", "memory"]

    let store: any RedisStore
    let stopServer: () -> Void
    let startServer: () throws -> Void
    /// Lets time pass for TTLs: real time for a real server, the injected clock for the in-memory store.
    let elapse: (_ milliseconds: Int) -> Void
    /// Whatever must live as long as the store (the servers' processes): keep the fixture alive
    /// (`withExtendedLifetime`) while the store is used on its own.
    let keepAlive: [AnyObject]

    static func make(_ backend: String, timeoutMilliseconds: Int = 2000) throws -> StoreFixture {
        if backend == "memory" {
            let clock = ManualClock(seconds: 1_800_000_000)
            let store = InMemoryRedisStore(clock: clock)
            return StoreFixture(
                store: store, stopServer: { store.isDown = true }, startServer: { store.isDown = false },
                elapse: { clock.advance(seconds: Double($0) / 1000) }, keepAlive: [store])
        }
        let redis = try RedisServerProcess()
        let sleep: (Int) -> Void = { usleep(UInt32($0) * 1000) }
        if backend == "resp" {
            return StoreFixture(
                store: try RESPStore(url: redis.url, timeoutMilliseconds: timeoutMilliseconds),
                stopServer: redis.stop, startServer: redis.start, elapse: sleep, keepAlive: [redis])
        }
        let fake = try UpstashFakeProcess(redis: redis)
        let store = UpstashRESTStore(
            baseURL: fake.baseURL, token: fake.token, transport: CurlTransport(), timeoutMilliseconds: timeoutMilliseconds)
        return StoreFixture(store: store, stopServer: redis.stop, startServer: redis.start, elapse: sleep, keepAlive: [redis, fake])
    }
}
