/// The Upstash backend: Redis commands as JSON arrays over HTTPS (`/`, `/pipeline`,
/// `/multi-exec`), with `Upstash-Encoding: base64` so values come back byte-exact.
public final class UpstashRESTStore: RedisStore {
    private let baseURL: String
    private let token: String
    private let transport: any HTTPTransport
    private let timeoutMilliseconds: Int

    public var backendName: String { "upstash rest" }

    public init(baseURL: String, token: String, transport: any HTTPTransport, timeoutMilliseconds: Int) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.token = token
        self.transport = transport
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    public func pipeline(_ commands: [RedisCommand]) throws(StoreError) -> [RedisValue] {
        guard !commands.isEmpty else { return [] }
        if commands.count == 1 {
            let body = try encode(commands[0])
            let reply = try post(path: "/", body: body)
            return [try Self.item(reply.json, status: reply.status)]
        }
        let reply = try post(path: "/pipeline", body: try encodeAll(commands))
        return try Self.items(reply, expected: commands.count)
    }

    public func transaction(_ commands: [RedisCommand]) throws(StoreError) -> [RedisValue] {
        guard !commands.isEmpty else { return [] }
        let reply = try post(path: "/multi-exec", body: try encodeAll(commands))
        return try Self.items(reply, expected: commands.count)
    }

    // MARK: - Wire

    private func encode(_ command: RedisCommand) throws(StoreError) -> JSONValue {
        var elements: [JSONValue] = []
        elements.reserveCapacity(command.arguments.count)
        for argument in command.arguments {
            guard let text = String(validating: argument, as: UTF8.self) else {
                // The REST API carries JSON text only.
                throw .commandFailed("binary arguments cannot be sent over the REST API")
            }
            elements.append(.string(text))
        }
        return .array(elements)
    }

    private func encodeAll(_ commands: [RedisCommand]) throws(StoreError) -> JSONValue {
        var all: [JSONValue] = []
        for command in commands { all.append(try encode(command)) }
        return .array(all)
    }

    private struct Reply {
        let status: Int
        let json: JSONValue
    }

    private func post(path: String, body: JSONValue) throws(StoreError) -> Reply {
        let request = HTTPClientRequest(
            method: "POST", url: baseURL + path,
            headers: [
                ("Authorization", "Bearer \(token)"),
                ("Content-Type", "application/json"),
                ("Upstash-Encoding", "base64"),
            ],
            body: JSONWriter.encode(body), timeoutMilliseconds: timeoutMilliseconds)
        let response: HTTPClientResponse
        do {
            response = try transport.send(request)
        } catch {
            throw .unavailable("upstash \(error)")
        }
        switch response.status {
        case 200, 400:
            guard let json = try? JSONParser.parse(response.body, maxDepth: 64) else {
                throw .protocolError("upstash answered \(response.status) without JSON")
            }
            return Reply(status: response.status, json: json)
        case 401, 403:
            throw .commandFailed("upstash rejected the token (\(response.status))")
        case 429, 500...599:
            throw .unavailable("upstash answered \(response.status)")
        default:
            throw .protocolError("upstash answered \(response.status)")
        }
    }

    private static func items(_ reply: Reply, expected: Int) throws(StoreError) -> [RedisValue] {
        if case .array(let items) = reply.json {
            guard items.count == expected else { throw .protocolError("upstash returned \(items.count) results for \(expected) commands") }
            var values: [RedisValue] = []
            for item in items { values.append(try Self.item(item, status: 200)) }
            return values
        }
        if let message = reply.json["error"]?.stringValue {
            // A transaction discarded as a whole.
            throw .commandFailed("upstash: \(message.prefix(120))")
        }
        throw .protocolError("upstash returned an unexpected shape")
    }

    private static func item(_ json: JSONValue, status: Int) throws(StoreError) -> RedisValue {
        if let message = json["error"]?.stringValue { return .error(message) }
        guard let result = json["result"] else { throw .protocolError("upstash item has neither result nor error") }
        return decode(result)
    }

    /// Every string is base64 except the literal status `OK` (base64 output never has length 2).
    static func decode(_ json: JSONValue) -> RedisValue {
        switch json {
        case .null: return .null
        case .bool(let b): return .integer(b ? 1 : 0)
        case .number(let n): return Int(n).map(RedisValue.integer) ?? .bytes(Array(n.utf8))
        case .string(let s):
            if s == "OK" { return .status("OK") }
            return .bytes(Base64.decode(s) ?? Array(s.utf8))
        case .array(let elements): return .array(elements.map(decode))
        case .object: return .error("unexpected object in result")
        }
    }
}
