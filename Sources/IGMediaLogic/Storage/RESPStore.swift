/// The native Redis backend: RESP2 over TCP or a unix socket, pooled connections, pipelining,
/// MULTI/EXEC, and reconnection after a failure.
public final class RESPStore: RedisStore {
    private let url: RedisURL
    private let timeoutMilliseconds: Int
    private let pool: ResourcePool<RESPConnection>
    private let clock: any Clock

    public var backendName: String {
        switch url.address {
        case .tcp(let host, let port): return "redis tcp \(host):\(port)"
        case .unix(let path): return "redis unix \(path)"
        }
    }

    public init(
        url: String, timeoutMilliseconds: Int, maxIdleConnections: Int = 64, clock: any Clock = SystemClock()
    ) throws(RedisURL.Invalid) {
        self.url = try RedisURL(url)
        self.clock = clock
        self.timeoutMilliseconds = timeoutMilliseconds
        self.pool = ResourcePool(maxIdle: maxIdleConnections)
    }

    public func pipeline(_ commands: [RedisCommand]) throws(StoreError) -> [RedisValue] {
        guard !commands.isEmpty else { return [] }
        return try execute(commands)
    }

    public func transaction(_ commands: [RedisCommand]) throws(StoreError) -> [RedisValue] {
        guard !commands.isEmpty else { return [] }
        let wrapped = [RedisCommand("MULTI")] + commands + [RedisCommand("EXEC")]
        let replies = try execute(wrapped)
        guard let last = replies.last else { throw .protocolError("empty transaction reply") }
        switch last {
        case .array(let results):
            return results
        case .error(let message):
            throw .commandFailed("transaction aborted: \(message.prefix(80))")
        default:
            // A queued command was rejected (syntax): EXEC answers EXECABORT.
            throw .commandFailed("transaction aborted")
        }
    }

    private func execute(_ commands: [RedisCommand]) throws(StoreError) -> [RedisValue] {
        let deadline = Deadline(millisecondsFromNow: timeoutMilliseconds, clock: clock)
        // A pooled connection may have died while idle (server restart); a failure on it before
        // any reply is retried once on a fresh connection.
        var attempt = 0
        while true {
            attempt += 1
            let pooled = pool.take()
            let connection: RESPConnection
            if let pooled {
                connection = pooled
            } else {
                do {
                    connection = try RESPConnection(url: url, deadline: deadline)
                } catch {
                    throw Self.map(error)
                }
            }
            do {
                let replies = try connection.roundTrip(commands, deadline: deadline)
                pool.give(connection)
                return replies
            } catch {
                connection.close()
                if case .closed = error, pooled != nil, attempt == 1 {
                    // Every idle connection is suspect after a server restart.
                    pool.drain()
                    continue
                }
                throw Self.map(error)
            }
        }
    }

    private static func map(_ failure: RESPConnection.Failure) -> StoreError {
        switch failure {
        case .closed: return .unavailable("connection refused or closed")
        case .timeout: return .unavailable("timed out")
        case .io(let why): return .unavailable(why)
        case .protocolError: return .protocolError("malformed RESP reply")
        }
    }
}
