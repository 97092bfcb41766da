/// Something that answers a request. Handlers are synchronous: the model is thread-per-request.
public protocol RequestHandler: Sendable {
    func handle(_ request: Request) throws -> Response

    /// Checks that cost microseconds (a secret, a signature), run on the accepting thread before
    /// the request waits for an outbound thread: unauthenticated traffic is refused there and
    /// never takes a place in the outbound pool or its queue. `handle` checks again.
    func admit(_ request: Request) throws(HTTPError)
}

extension RequestHandler {
    public func admit(_ request: Request) throws(HTTPError) {}
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
    /// A body limit below the service's `MAX_BODY_BYTES`, for routes whose bodies are tiny.
    public let maxBodyBytes: Int?
    let segments: [Substring]

    public init(
        _ method: String, _ pattern: String, _ handler: any RequestHandler, lane: Lane = .quick, maxBodyBytes: Int? = nil
    ) {
        self.method = method
        self.lane = lane
        self.maxBodyBytes = maxBodyBytes
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
        /// `route`: the index of the matched route in `routes` (its metrics series).
        case found(any RequestHandler, parameters: [String: String], route: Int)
        case methodNotAllowed(allow: [String])
        case notFound
    }

    public let routes: [Route]
    /// Methods with at least one outbound or body-limited route: for any other method (GET, the
    /// feed) `edgeRoute` answers at once.
    private let gatedMethods: Set<String>

    public init(routes: [Route]) {
        self.routes = routes
        self.gatedMethods = Set(routes.filter { $0.lane == .outbound || $0.maxBodyBytes != nil }.map(\.method))
    }

    /// Whether any route of this method has a lane, body limit or check for the edge.
    public func gates(method: String) -> Bool { gatedMethods.contains(method) }

    /// The route whose lane, body limit and `admit` check the edge applies before the handler
    /// runs; nil for requests that need none (they are quick and get at most `MAX_BODY_BYTES`).
    public func edgeRoute(method: String, path: String) -> Route? {
        guard gatedMethods.contains(method) else { return nil }
        let pathSegments = path.split(separator: "/", omittingEmptySubsequences: false)
        return routes.first { $0.method == method && $0.match(pathSegments) != nil }
    }

    /// The lane of the route a request would reach; unrouted requests are quick (they get a 404
    /// or 405 without leaving the process).
    public func lane(method: String, path: String) -> Lane {
        edgeRoute(method: method, path: path)?.lane ?? .quick
    }

    public func match(method: String, path: String) -> Match {
        let pathSegments = path.split(separator: "/", omittingEmptySubsequences: false)
        var allowed: [String] = []
        for (index, route) in routes.enumerated() {
            guard let parameters = route.match(pathSegments) else { continue }
            // HEAD is answered by the GET handler; nginx drops the body.
            if route.method == method || (method == "HEAD" && route.method == "GET") {
                return .found(route.handler, parameters: parameters, route: index)
            }
            allowed.append(route.method)
            if route.method == "GET" { allowed.append("HEAD") }
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allow: allowed)
    }
}
