import Testing

@testable import IGMediaLogic

/// SyncLock on every store backend: its SET NX PX and its compare-and-delete script must mean the
/// same on redis-server, Upstash and the in-memory store.
@Suite("SyncLock, every backend", .serialized)
struct SyncLockTests {
    @Test("held once, released only by its owner, then free again", arguments: StoreFixture.backends)
    func syncLock(backend: String) throws {
        let fixture = try StoreFixture.make(backend)
        defer { withExtendedLifetime(fixture) {} }
        let store = fixture.store
        let lock = SyncLock(store: store, keys: KeySpace(prefix: "t:"), ttlSeconds: 30)
        let owner = try #require(try lock.acquire("tenant-a"))
        #expect(try lock.acquire("tenant-a") == nil)
        #expect(try lock.acquire("tenant-b") != nil)
        #expect(try lock.release("tenant-a", owner: "someone-else") == false)
        #expect(try lock.acquire("tenant-a") == nil)
        #expect(try lock.release("tenant-a", owner: owner) == true)
        #expect(try lock.release("tenant-a", owner: owner) == false)
        #expect(try lock.acquire("tenant-a") != nil)
    }
}
