/// `redis://[user:password@]host[:port][/db]` or `unix:///path.sock[?db=N&password=P]`.
public struct RedisURL: Sendable, Equatable {
    public enum Address: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unix(path: String)
    }

    public var address: Address
    public var username: String?
    public var password: String?
    public var database: Int

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public init(_ text: String) throws(Invalid) {
        database = 0
        if text.hasPrefix("unix://") {
            let rest = text.dropFirst(7)
            let parts = rest.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
            let path = String(parts[0])
            guard path.hasPrefix("/") else { throw Invalid(description: "\(EnvironmentKey.redisURL) unix socket path must be absolute") }
            address = .unix(path: path)
            if parts.count == 2 {
                for pair in parts[1].split(separator: "&") {
                    let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    guard kv.count == 2 else { continue }
                    let value = (try? PercentDecoding.decode(kv[1], plusIsSpace: false)) ?? String(kv[1])
                    switch kv[0] {
                    case "db":
                        guard let db = Int(value), db >= 0 else { throw Invalid(description: "\(EnvironmentKey.redisURL) db must be a number") }
                        database = db
                    case "password": password = value
                    case "user", "username": username = value
                    default: break
                    }
                }
            }
            return
        }
        guard text.hasPrefix("redis://") else { throw Invalid(description: "\(EnvironmentKey.redisURL) must start with redis:// or unix://") }
        var rest = Substring(text.dropFirst(8))
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            let parts = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let decode: (Substring) -> String = { (try? PercentDecoding.decode($0, plusIsSpace: false)) ?? String($0) }
            if parts.count == 2 {
                username = parts[0].isEmpty ? nil : decode(parts[0])
                password = decode(parts[1])
            } else {
                password = decode(parts[0])
            }
        }
        let hostPort: Substring
        if let slash = rest.firstIndex(of: "/") {
            hostPort = rest[..<slash]
            let db = rest[rest.index(after: slash)...]
            if !db.isEmpty {
                guard let n = Int(db), n >= 0 else { throw Invalid(description: "\(EnvironmentKey.redisURL) database must be a number") }
                database = n
            }
        } else {
            hostPort = rest
        }
        var host = String(hostPort)
        var port = 6379
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw Invalid(description: "\(EnvironmentKey.redisURL) has a malformed IPv6 host") }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()), (1...65535).contains(p) else { throw Invalid(description: "\(EnvironmentKey.redisURL) port is invalid") }
                port = p
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            guard let p = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(p) else {
                throw Invalid(description: "\(EnvironmentKey.redisURL) port is invalid")
            }
            port = p
        }
        guard !host.isEmpty else { throw Invalid(description: "\(EnvironmentKey.redisURL) has no host") }
        address = .tcp(host: host, port: port)
    }
}
