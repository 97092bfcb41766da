import IGMediaLogic
import Synchronization

/// A `RedisStore` in process memory, for handler and sync tests that need no server.
///
/// It answers the commands the service sends (and the few more the store suite uses) with
/// Redis 7's reply types and error texts: WRONGTYPE, arity and syntax errors, SET's NX/XX/GET and
/// expiry options, SCAN cursors, EVAL of the service's own scripts. Keys expire by the injected
/// clock. `transaction` has MULTI/EXEC semantics: a command Redis would refuse while queueing
/// (unknown, wrong arity) discards the whole transaction; a runtime error (WRONGTYPE) fails that
/// command only, and the others still apply. The store suite runs the same tests against this,
/// redis-server and the Upstash fake, so these semantics are checked, not assumed.
///
/// `isDown` simulates an outage: every call throws what `RESPStore` throws when the server
/// refuses connections, until it is switched off again. The data survives, as Redis's would.
final class InMemoryRedisStore: RedisStore {
    private let clock: any IGMediaLogic.Clock
    private let state = Mutex(State())

    private struct State {
        var keyspace = InMemoryKeyspace()
        var isDown = false
    }

    /// What `RESPStore` throws when nothing listens at the server's address.
    static let outage = StoreError.unavailable("connection refused or closed")

    init(clock: any IGMediaLogic.Clock = SystemClock()) {
        self.clock = clock
    }

    var backendName: String { "in-memory" }

    var isDown: Bool {
        get { state.withLock { $0.isDown } }
        set { state.withLock { $0.isDown = newValue } }
    }

    func pipeline(_ commands: [RedisCommand]) throws(StoreError) -> [RedisValue] {
        // Like the real backends, an empty batch never reaches the server.
        guard !commands.isEmpty else { return [] }
        let now = nowMilliseconds
        return try state.withLock { state throws(StoreError) in
            guard !state.isDown else { throw Self.outage }
            return commands.map { state.keyspace.execute($0.arguments, now: now) }
        }
    }

    func transaction(_ commands: [RedisCommand]) throws(StoreError) -> [RedisValue] {
        guard !commands.isEmpty else { return [] }
        let now = nowMilliseconds
        return try state.withLock { state throws(StoreError) in
            guard !state.isDown else { throw Self.outage }
            guard commands.allSatisfy({ InMemoryKeyspace.queueingError($0.arguments) == nil }) else {
                // What RESPStore makes of EXEC's EXECABORT.
                throw .commandFailed("transaction aborted: EXECABORT Transaction discarded because of previous errors.")
            }
            return commands.map { state.keyspace.execute($0.arguments, now: now) }
        }
    }

    private var nowMilliseconds: Int { Int((clock.now() * 1000).rounded(.down)) }
}
