import Foundation
import Logging
import Testing

@testable import IGMediaLogic

@Suite("Sync runs shared through a Redis stream", .serialized)
struct SyncRunTests {
    static let logger = Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() })

    func worker(_ fixture: SyncFixture, _ runs: SyncRuns, name: String, parallelism: Int = 4, reclaimMs: Int = 60_000) -> SyncRunWorker {
        SyncRunWorker(
            runs: runs, repository: fixture.repository, engine: fixture.engine,
            options: .init(parallelism: parallelism, reclaimAfterMilliseconds: reclaimMs, idlePollMilliseconds: 20),
            consumer: name, logger: Self.logger)
    }

    @Test("two workers on one run sync every tenant exactly once; a second trigger joins the run")
    func twoWorkersSplitTheRun() throws {
        let fixture = try SyncFixture(media: InMemoryInstagram.sampleMedia(count: 1), withMirror: false)
        let ids = try (0..<1200).map { _ in try fixture.register() }
        let runs = SyncRuns(store: fixture.store, keys: fixture.repository.keys, clock: SystemClock())
        let (runID, started) = try runs.startOrJoin(trigger: "test")
        #expect(started)
        let joined = try runs.startOrJoin(trigger: "test")
        #expect(joined.id == runID && !joined.started)
        let first = worker(fixture, runs, name: "a")
        let second = worker(fixture, runs, name: "b")
        let tallies = BoundedParallel.map([first, second], concurrency: 2) { $0.work(runID) }
        #expect(tallies[0].synced > 0 && tallies[1].synced > 0, "both workers took a share: \(tallies)")
        #expect(tallies[0].synced + tallies[1].synced == ids.count)
        #expect(fixture.instagram.fetchCalls == ids.count)
        let snapshot = try #require(try runs.snapshot(runID))
        #expect(snapshot.state == "done" && snapshot.queued == ids.count && snapshot.synced == ids.count && snapshot.indexRead)
        #expect(try runs.current() == nil && runs.last() == runID)
        // The queue and the dedupe set are gone; a new trigger starts a new run.
        #expect(try fixture.store.run(RedisCommand("EXISTS", RedisArgument(fixture.repository.keys.syncRunQueue(runID)))).intValue == 0)
        #expect(try runs.startOrJoin(trigger: "test").started)
    }

    @Test("a worker that dies holding tenants: another takes them over after the idle time, each counted once")
    func deadWorkerReclaimed() throws {
        let fixture = try SyncFixture(media: InMemoryInstagram.sampleMedia(count: 1), withMirror: false)
        for _ in 0..<40 { _ = try fixture.register() }
        let runs = SyncRuns(store: fixture.store, keys: fixture.repository.keys, clock: SystemClock())
        let runID = try runs.startOrJoin(trigger: "test").id
        #expect(try runs.queueNextPage(runID, repository: fixture.repository))
        // The dead worker read 10 entries and never acknowledged them.
        let taken = try runs.read(runID, consumer: "dead", count: 10)
        #expect(taken.count == 10)
        let survivor = worker(fixture, runs, name: "alive", reclaimMs: 200)
        let tally = survivor.work(runID)
        #expect(tally.synced == 40)
        let snapshot = try #require(try runs.snapshot(runID))
        #expect(snapshot.state == "done" && snapshot.synced == 40)
        // The dead worker comes back and acknowledges late: not counted again.
        #expect(try runs.finish(runID, taken[0], .synced) == false)
        #expect(try runs.snapshot(runID)?.synced == 40)
    }

    @Test("a reclaimed tenant whose dead worker still holds its lock is synced once the lock expires, not just counted")
    func reclaimedWhileLocked() throws {
        let fixture = try SyncFixture(media: InMemoryInstagram.sampleMedia(count: 1), withMirror: false)
        for _ in 0..<8 { _ = try fixture.register() }
        let keys = fixture.repository.keys
        let runs = SyncRuns(store: fixture.store, keys: keys, clock: SystemClock())
        let runID = try runs.startOrJoin(trigger: "test").id
        #expect(try runs.queueNextPage(runID, repository: fixture.repository))
        let taken = try runs.read(runID, consumer: "dead", count: 2)
        #expect(taken.count == 2)
        // The dead worker was syncing the first one: its lock outlives the reclaim time.
        _ = try fixture.store.run(RedisCommand("SET", RedisArgument(keys.syncLock(taken[0].tenantID)), "dead-owner", "PX", 900))
        let tally = worker(fixture, runs, name: "alive", reclaimMs: 150).work(runID)
        #expect(tally.synced == 8 && tally.failed == 0)
        #expect(fixture.instagram.fetchCalls == 8, "every tenant was really synced, the locked one included")
        let snapshot = try #require(try runs.snapshot(runID))
        #expect(snapshot.state == "done" && snapshot.synced == 8)
    }

    @Test("invalid, expired and deleting tenants are not queued; they are counted as skipped")
    func skipsUnsyncable() throws {
        let fixture = try SyncFixture(media: InMemoryInstagram.sampleMedia(count: 1), withMirror: false)
        let ids = try (0..<6).map { _ in try fixture.register() }
        let keys = fixture.repository.keys
        _ = try fixture.store.run(RedisCommand("SADD", RedisArgument(keys.invalidTenants), RedisArgument(ids[0])))
        _ = try fixture.store.run(RedisCommand("SADD", RedisArgument(keys.deletingTenants), RedisArgument(ids[1])))
        _ = try fixture.store.run(RedisCommand("ZADD", RedisArgument(keys.tokenExpiry), 1000, RedisArgument(ids[2])))
        let runs = SyncRuns(store: fixture.store, keys: keys, clock: SystemClock())
        let runID = try runs.startOrJoin(trigger: "test").id
        let tally = worker(fixture, runs, name: "w").work(runID)
        #expect(tally.synced == 3)
        let snapshot = try #require(try runs.snapshot(runID))
        #expect(snapshot.skipped == 3 && snapshot.queued == 3 && snapshot.state == "done")
    }

    @Test("seed tenants without an index entry are indexed once, then the keyspace is never scanned again")
    func seedTenantsIndexedOnce() throws {
        let fixture = try SyncFixture(media: [], withMirror: false)
        let keys = fixture.repository.keys
        let id = try fixture.register()
        _ = try fixture.store.run(RedisCommand("SREM", RedisArgument(keys.tenantIndex), RedisArgument(id)))
        #expect(try fixture.repository.allTenantIDs() == [id])
        #expect(try fixture.store.run(RedisCommand("SISMEMBER", RedisArgument(keys.tenantIndex), RedisArgument(id))).intValue == 1)
        _ = try fixture.store.run(RedisCommand("SREM", RedisArgument(keys.tenantIndex), RedisArgument(id)))
        #expect(try fixture.repository.allTenantIDs() == [])
    }
}
