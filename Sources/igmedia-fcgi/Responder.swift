import IGMediaLogic
import Logging
import Synchronization

/// Serves accepted requests: reads one, answers it on the accepting thread or hands it to the
/// outbound pool, and counts what is in flight for the shutdown.
final class Responder: Sendable {
    enum Disposition {
        case answered
        /// The outbound pool owns the connection slot now; the accepting thread needs a new one.
        case handedOff
    }

    let edge: CGIEdge
    /// Over a unix socket a finished connection is closed at once instead of libfcgi's
    /// lingering close (see the CFastCGI shim).
    let plainClose: Bool
    private let logger: Logger
    /// Set on SIGTERM: kept-alive connections are closed after their request, so nginx opens no
    /// new request on them.
    let stopping = Atomic<Bool>(false)
    let inFlight = Atomic<Int>(0)

    init(edge: CGIEdge, plainClose: Bool, logger: Logger) {
        self.edge = edge
        self.plainClose = plainClose
        self.logger = logger
    }

    /// Serves the request just accepted on `connection`; `outbound` nil serves everything here
    /// (while stopping).
    func serve(_ connection: FastCGIConnection, outbound: OutboundPool?) -> Disposition {
        inFlight.add(1, ordering: .sequentiallyConsistent)
        let params = connection.params()
        switch edge.bodyPlan(params: params) {
        case .read(let length):
            let body = connection.readBody(length: length)
            switch edge.admit(params: params, body: body) {
            case .answer(let response):
                finish(connection, response)
            case .serve(let request, let lane):
                // Requests that wait on other services leave this thread free for the feed. Only
                // on connections that close after the request: a kept-alive one stays with its
                // thread, which reads nginx's next request on it.
                if lane == .outbound, let outbound, !connection.keepRequested {
                    if outbound.submit(OutboundPool.Job(connection: connection, request: request)) { return .handedOff }
                    finish(connection, edge.reject(params: params, .outboundQueueFull))
                } else {
                    finish(connection, edge.respond(to: request))
                }
            }
        case .tooLarge:
            connection.discardBody()
            finish(connection, edge.reject(params: params, .bodyTooLarge))
        case .invalidLength:
            connection.discardBody()
            finish(connection, edge.reject(params: params, .invalidContentLength))
        }
        return .answered
    }

    /// Runs on an outbound thread.
    func serve(_ job: OutboundPool.Job) {
        finish(job.connection, edge.respond(to: job.request))
    }

    private func finish(_ connection: FastCGIConnection, _ response: Response) {
        let mayKeep = !stopping.load(ordering: .sequentiallyConsistent)
        if !connection.finish(with: response, mayKeep: mayKeep, plainClose: plainClose) {
            // nginx dropped the request (client gone, timeout): nothing to answer any more.
            logger.debug("response not delivered")
        }
        inFlight.subtract(1, ordering: .sequentiallyConsistent)
    }
}
