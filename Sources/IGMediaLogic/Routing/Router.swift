/// Something that answers a request. Handlers are synchronous: the model is thread-per-request.
public protocol RequestHandler: Sendable {
    func handle(_ request: Request) throws -> Response
}

/// Which worker pool serves a route. Quick routes touch only the store and are served by the
/// accepting threads (about one per core); outbound routes wait seconds on Instagram, Cloudinary
/// or QStash and run on their own bounded pool, so a burst of webhooks never holds up the feed.
public enum Lane: Sendable {
    case quick
    case outbound
}

public struct Route: Sendable {
    public let method: String
    public let lane: Lane
    /// Literal segments and `:name` parameters, e.g. `/sync/process/:tenantId`.
    public let pattern: String
    public let handler: any RequestHandler
    let segments: [Substring]

    public init(_ method: String, _ pattern: String, _ handler: any RequestHandler, lane: Lane = .quick) {
        self.method = method
        self.lane = lane
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
    /// Methods with at least one outbound route: for any other method `lane` answers at once.
    private let outboundMethods: Set<String>

    public init(routes: [Route]) {
        self.routes = routes
        self.outboundMethods = Set(routes.filter { $0.lane == .outbound }.map(\.method))
    }

    /// The lane of the route a request would reach; unrouted requests are quick (they get a 404
    /// or 405 without leaving the process).
    public func lane(method: String, path: String) -> Lane {
        guard outboundMethods.contains(method) else { return .quick }
        let pathSegments = path.split(separator: "/", omittingEmptySubsequences: false)
        for route in routes where route.method == method && route.match(pathSegments) != nil {
            return route.lane
        }
        return .quick
    }

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
