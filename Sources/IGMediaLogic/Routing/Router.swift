/// Something that answers a request. Handlers are synchronous: the model is thread-per-request.
public protocol RequestHandler: Sendable {
    func handle(_ request: Request) throws -> Response
}

public struct Route: Sendable {
    public let method: String
    /// Literal segments and `:name` parameters, e.g. `/sync/process/:tenantId`.
    public let pattern: String
    public let handler: any RequestHandler
    let segments: [Substring]

    public init(_ method: String, _ pattern: String, _ handler: any RequestHandler) {
        self.method = method
        self.pattern = pattern
        self.handler = handler
        self.segments = pattern.split(separator: "/", omittingEmptySubsequences: false)
    }

    func match(_ pathSegments: [Substring]) -> [String: String]? {
        guard pathSegments.count == segments.count else { return nil }
        var parameters: [String: String] = [:]
        for (pattern, actual) in zip(segments, pathSegments) {
            if pattern.first == ":" {
                guard !actual.isEmpty else { return nil }
                parameters[String(pattern.dropFirst())] = String(actual)
            } else if pattern != actual {
                return nil
            }
        }
        return parameters
    }
}

/// Matches a method and path against the route table.
public struct Router: Sendable {
    public enum Match {
        case found(any RequestHandler, parameters: [String: String])
        case methodNotAllowed(allow: [String])
        case notFound
    }

    public let routes: [Route]

    public init(routes: [Route]) { self.routes = routes }

    public func match(method: String, path: String) -> Match {
        let pathSegments = path.split(separator: "/", omittingEmptySubsequences: false)
        var allowed: [String] = []
        for route in routes {
            guard let parameters = route.match(pathSegments) else { continue }
            // HEAD is answered by the GET handler; nginx drops the body.
            if route.method == method || (method == "HEAD" && route.method == "GET") {
                return .found(route.handler, parameters: parameters)
            }
            allowed.append(route.method)
            if route.method == "GET" { allowed.append("HEAD") }
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allow: allowed)
    }
}
