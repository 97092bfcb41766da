import IGMediaLogic
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The responder's life: opens (or adopts) the listening socket, starts the accepting and
/// outbound threads, waits for SIGTERM/SIGINT, then stops within a grace period.
final class Listener: Sendable {
    enum Endpoint {
        /// The listening socket systemd or spawn-fcgi passed on fd 0.
        case inherited
        case unixSocket(path: String, mode: mode_t)
        case tcp(String)
    }

    struct StartError: Error, CustomStringConvertible {
        let description: String
    }

    private let edge: CGIEdge
    private let logger: Logger
    private let listenFD: Int32
    /// False for a socket inherited from systemd: it is shared with the socket unit and must keep
    /// listening for the next instance, so it is never shut down.
    private let ownsSocket: Bool
    private let plainClose: Bool

    /// Initializes libfcgi and opens (or adopts) the listening socket.
    init(endpoint: Endpoint, edge: CGIEdge, logger: Logger) throws {
        self.edge = edge
        self.logger = logger
        try FastCGIConnection.initializeLibrary()
        switch endpoint {
        case .inherited:
            listenFD = 0
        case .unixSocket(let path, let mode):
            listenFD = try FastCGIConnection.listen(on: path)
            // FCGX_OpenSocket leaves the mode to the umask; nginx's user must be able to connect.
            guard chmod(path, mode) == 0 else { throw StartError(description: "cannot chmod \(path)") }
        case .tcp(let address):
            listenFD = try FastCGIConnection.listen(on: address)
        }
        plainClose = Self.isUnixSocket(listenFD)
        if case .inherited = endpoint { ownsSocket = false } else { ownsSocket = true }
    }

    static var hasInheritedSocket: Bool { FastCGIConnection.hasInheritedSocket }

    private static func isUnixSocket(_ fd: Int32) -> Bool {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return result == 0 && address.ss_family == sa_family_t(AF_UNIX)
    }

    /// Serves until SIGTERM or SIGINT, then lets in-flight requests finish within
    /// `graceSeconds`. Returns when the process may exit.
    func run(workers: Int, maxWorkers: Int, outbound: OutboundPool, graceSeconds: Int) {
        // The handled signals were blocked by ServeCommand before any thread started.
        let responder = Responder(edge: edge, plainClose: plainClose, logger: logger)
        let pool = WorkerPool(
            size: workers, maxSize: maxWorkers, listenFD: listenFD, ownsSocket: ownsSocket, responder: responder,
            outbound: outbound, logger: logger)
        pool.start()
        outbound.start { responder.serve($0) }
        let pools = edge.application.metrics.pools
        let quickMax = pool.maxSize
        edge.application.metrics.addRefresher {
            pools.quickThreads.set(Double(pool.liveCount))
            pools.quickBusy.set(Double(pool.busyCount))
            pools.quickMax.set(Double(quickMax))
            pools.outboundThreads.set(Double(outbound.threads))
            pools.outboundBusy.set(Double(outbound.busyCount))
            pools.outboundQueueDepth.set(Double(outbound.depth))
            pools.outboundQueueCapacity.set(Double(outbound.capacity))
        }
        logger.info("listening", metadata: [
            "workers": "\(workers)", "max_workers": "\(pool.maxSize)", "outbound_workers": "\(outbound.threads)",
            "outbound_queue": "\(outbound.capacity)",
        ])

        let received = SignalWaiter.waitForStop()
        logger.info("shutting down", metadata: [
            "signal": "\(received)", "in_flight": "\(responder.inFlight.load(ordering: .relaxed))",
        ])
        responder.stopping.store(true, ordering: .sequentiallyConsistent)
        // No FCGX_ShutdownPending(): with it libfcgi refuses to accept anything more, and the
        // connections already queued on our own socket would be reset instead of answered.
        if ownsSocket {
            // Stops listening (new connections are refused) and wakes every thread blocked in
            // accept(). Connections already queued can still be accepted: the workers drain them.
            shutdown(listenFD, Int32(SHUT_RDWR))
        }
        // Outbound threads finish what is queued, then stop.
        outbound.close()

        let clock = SystemClock()
        let deadline = clock.monotonicNanoseconds() + UInt64(graceSeconds) * 1_000_000_000
        while responder.inFlight.load(ordering: .sequentiallyConsistent) > 0 || pool.liveCount > 0,
            clock.monotonicNanoseconds() < deadline
        {
            // Shared socket: interrupt accept() instead (again and again: a worker may have been
            // just about to call it). FCGI_FAIL_ACCEPT_ON_INTR makes libfcgi give up.
            if !ownsSocket { pool.interruptAccepts() }
            usleep(10_000)
        }
        let left = responder.inFlight.load(ordering: .sequentiallyConsistent)
        if left > 0 {
            logger.warning("grace period over, abandoning requests", metadata: ["in_flight": "\(left)"])
        } else {
            logger.info("stopped cleanly")
        }
    }
}
