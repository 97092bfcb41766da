/// The bounded label values the metrics use: command families and upstream outcomes.

/// Redis commands grouped the way an operator reads a dashboard.
public enum StoreCommandFamily: String, CaseIterable, Sendable {
    case string, hash, set, zset, stream, script, key, transaction, other

    var index: Int { Self.allCases.firstIndex(of: self) ?? 0 }

    /// Keyed by the command name's bytes, as commands carry it: no String made per store call.
    static let byCommand: [[UInt8]: StoreCommandFamily] = {
        var named: [String: StoreCommandFamily] = [:]
        for name in ["GET", "SET", "MGET", "MSET", "GETDEL", "GETEX", "SETNX", "INCR", "INCRBY", "DECR", "APPEND", "STRLEN"] {
            named[name] = .string
        }
        for name in ["HGET", "HSET", "HMGET", "HGETALL", "HDEL", "HINCRBY", "HEXISTS", "HLEN", "HKEYS", "HSETNX", "HMSET"] {
            named[name] = .hash
        }
        for name in ["SADD", "SREM", "SCARD", "SISMEMBER", "SMISMEMBER", "SMEMBERS", "SSCAN"] { named[name] = .set }
        for name in ["ZADD", "ZREM", "ZSCORE", "ZMSCORE", "ZCOUNT", "ZRANGE", "ZRANGEBYSCORE", "ZCARD"] { named[name] = .zset }
        for name in ["XADD", "XREAD", "XREADGROUP", "XACK", "XAUTOCLAIM", "XPENDING", "XGROUP", "XREVRANGE", "XLEN", "XTRIM"] {
            named[name] = .stream
        }
        for name in ["EVAL", "EVALSHA", "SCRIPT"] { named[name] = .script }
        for name in ["DEL", "UNLINK", "EXISTS", "EXPIRE", "PEXPIRE", "TTL", "PTTL", "TYPE", "SCAN", "PERSIST", "RENAME"] {
            named[name] = .key
        }
        return Dictionary(uniqueKeysWithValues: named.map { (Array($0.key.utf8), $0.value) })
    }()

    /// The family of a round trip: its commands' if they share one, else `other`.
    static func of(_ commands: [RedisCommand]) -> StoreCommandFamily {
        guard let first = commands.first else { return .other }
        let family = byCommand[first.arguments.first ?? []] ?? .other
        for command in commands.dropFirst() where (byCommand[command.arguments.first ?? []] ?? .other) != family { return .other }
        return family
    }
}

/// How one outbound request ended.
public enum UpstreamOutcome: String, CaseIterable, Sendable {
    case ok, client_error, rate_limited, server_error, timeout, transport_error

    var index: Int { Self.allCases.firstIndex(of: self) ?? 0 }

    static func of(status: Int) -> UpstreamOutcome {
        switch status {
        case 200..<400: return .ok
        case 429: return .rate_limited
        case 400..<500: return .client_error
        default: return .server_error
        }
    }
}

