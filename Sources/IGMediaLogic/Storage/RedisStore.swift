/// A Redis-speaking store: native RESP or Upstash REST behind the same calls.
public protocol RedisStore: Sendable {
    /// Sends the commands in one round trip; one reply per command, in order. Not atomic.
    func pipeline(_ commands: [RedisCommand]) throws(StoreError) -> [RedisValue]
    /// Runs the commands atomically (MULTI/EXEC); one reply per command.
    func transaction(_ commands: [RedisCommand]) throws(StoreError) -> [RedisValue]
    /// Short description for logs (never credentials).
    var backendName: String { get }
}

extension RedisStore {
    /// One command, one round trip. A command-level error is thrown.
    public func run(_ command: RedisCommand) throws(StoreError) -> RedisValue {
        let reply = try pipeline([command])[0]
        if case .error(let message) = reply { throw StoreError.commandFailed(Self.redactedError(message)) }
        return reply
    }

    static func redactedError(_ message: String) -> String {
        String(message.prefix(120))
    }
}

/// Storage failures. Descriptions never carry keys' values or credentials.
public enum StoreError: Error, Sendable, Equatable, ClientVisibleError {
    /// Could not reach the store, or it did not answer within the timeout.
    case unavailable(String)
    /// The store answered with an error for a command.
    case commandFailed(String)
    /// The store answered something this client cannot read.
    case protocolError(String)

    public var description: String {
        switch self {
        case .unavailable(let why): return "store unavailable: \(why)"
        case .commandFailed(let why): return "store command failed: \(why)"
        case .protocolError(let why): return "store protocol error: \(why)"
        }
    }

    public var httpError: HTTPError {
        switch self {
        // A reply this client cannot read is a broken or hostile store, not a bug of ours: 503, so
        // clients and QStash retry, and the connection it came on is closed.
        case .unavailable, .protocolError: return .unavailable()
        case .commandFailed: return .internalError()
        }
    }
}
