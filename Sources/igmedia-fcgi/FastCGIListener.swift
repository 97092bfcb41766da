import CFastCGI
import IGMediaLogic
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The libfcgi accept loop: worker threads, each with its own heap-allocated `FCGX_Request`,
/// and a graceful stop on SIGTERM/SIGINT. The only file that touches libfcgi.
final class FastCGIListener: Sendable {
    enum Endpoint {
        /// The listening socket systemd or spawn-fcgi passed on fd 0.
        case inherited
        case unixSocket(path: String, mode: mode_t)
        case tcp(String)
    }

    struct StartError: Error, CustomStringConvertible {
        let description: String
    }

    private let application: Application
    private let maxBodyBytes: Int
    private let logger: Logger
    private let listenFD: Int32
    /// Over a unix socket the responder closes a finished connection at once instead of
    /// libfcgi's lingering close (see `igmedia_fcgx_plain_close`).
    private let plainClose: Bool
    /// False for a socket inherited from systemd: it is shared with the socket unit and must keep
    /// listening for the next instance, so it is never shut down.
    private let ownsSocket: Bool
    private let liveWorkers = Atomic<Int>(0)
    /// Every accepting thread that has not been reaped; the monitor thread adds and reaps.
    private let workers = Mutex<[Worker]>([])

    /// One accepting thread: its id (joinable, so it stays valid for `pthread_kill` until it is
    /// reaped) and since when it has been busy with one request (0: waiting in accept).
    private final class Worker: Sendable {
        let extra: Bool
        let busySince = Atomic<UInt64>(0)
        let exited = Atomic<Bool>(false)
        let thread = Mutex<pthread_t?>(nil)
        init(extra: Bool) { self.extra = extra }

        func stalled(now: UInt64, after threshold: UInt64) -> Bool {
            let since = busySince.load(ordering: .relaxed)
            return since != 0 && now &- since > threshold
        }
    }

    /// A request that holds an accepting thread this long is waiting, not computing (the store
    /// is slow or down): the pool grows so others are still answered within the store timeout.
    private static let stallNanoseconds: UInt64 = 20_000_000
    private let shuttingDown = Atomic<Bool>(false)
    private let inFlight = Atomic<Int>(0)

    /// Calls `FCGX_Init` and opens (or adopts) the listening socket.
    init(endpoint: Endpoint, application: Application, maxBodyBytes: Int, logger: Logger) throws {
        self.application = application
        self.maxBodyBytes = maxBodyBytes
        self.logger = logger
        guard FCGX_Init() == 0 else { throw StartError(description: "FCGX_Init failed") }
        switch endpoint {
        case .inherited:
            listenFD = 0
        case .unixSocket(let path, let mode):
            let fd = FCGX_OpenSocket(path, 1024)
            guard fd >= 0 else { throw StartError(description: "cannot listen on unix socket \(path)") }
            // FCGX_OpenSocket leaves the mode to the umask; nginx's user must be able to connect.
            guard chmod(path, mode) == 0 else { throw StartError(description: "cannot chmod \(path)") }
            listenFD = fd
        case .tcp(let address):
            let fd = FCGX_OpenSocket(address, 1024)
            guard fd >= 0 else { throw StartError(description: "cannot listen on \(address)") }
            listenFD = fd
        }
        plainClose = Self.isUnixSocket(listenFD)
        if case .inherited = endpoint { ownsSocket = false } else { ownsSocket = true }
    }

    private static func isUnixSocket(_ fd: Int32) -> Bool {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return result == 0 && address.ss_family == sa_family_t(AF_UNIX)
    }

    /// True when fd 0 is a listening socket handed over by systemd or spawn-fcgi.
    static var hasInheritedSocket: Bool { FCGX_IsCGI() == 0 }

    /// Runs `workers` threads until SIGTERM or SIGINT, then lets in-flight requests finish within
    /// `graceSeconds`. Returns when the process may exit.
    func run(workers: Int, maxWorkers: Int, outbound: OutboundPool, graceSeconds: Int) {
        var signals = sigset_t()
        sigemptyset(&signals)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGUSR1] { sigaddset(&signals, signal) }
        // Block before spawning so every worker inherits the mask and only sigwait sees them.
        pthread_sigmask(SIG_BLOCK, &signals, nil)

        // SIGUSR2 only interrupts accept() (no SA_RESTART, FCGI_FAIL_ACCEPT_ON_INTR) to stop the
        // workers on an inherited socket.
        var wake = sigaction()
        wake.__sigaction_handler.sa_handler = { _ in }
        sigemptyset(&wake.sa_mask)
        wake.sa_flags = 0
        sigaction(SIGUSR2, &wake, nil)

        for _ in 0..<workers {
            spawnWorker(extra: false, outbound: outbound)
        }
        let maxWorkers = max(workers, maxWorkers)
        startThread { self.monitor(max: maxWorkers, outbound: outbound) }
        for _ in 0..<outbound.threads {
            startThread { self.outboundLoop(outbound) }
        }
        logger.info("listening", metadata: [
            "workers": "\(workers)", "max_workers": "\(maxWorkers)", "outbound_workers": "\(outbound.threads)", "outbound_queue": "\(outbound.capacity)",
        ])

        var received: Int32 = 0
        repeat {
            sigwait(&signals, &received)
        } while received != SIGTERM && received != SIGINT

        logger.info("shutting down", metadata: ["signal": "\(received)", "in_flight": "\(inFlight.load(ordering: .relaxed))"])
        shuttingDown.store(true, ordering: .sequentiallyConsistent)
        // No FCGX_ShutdownPending(): with it libfcgi refuses to accept anything more, and the
        // connections already queued on our own socket would be reset instead of answered.
        if ownsSocket {
            // Stops listening (new connections are refused) and wakes every thread blocked in
            // accept(). Connections already queued can still be accepted: the workers drain them.
            shutdown(listenFD, Int32(SHUT_RDWR))
        }
        // Outbound threads finish what is queued, then stop.
        outbound.close()

        let deadline = monotonicSeconds() + Double(graceSeconds)
        while (inFlight.load(ordering: .sequentiallyConsistent) > 0 || liveWorkers.load(ordering: .sequentiallyConsistent) > 0)
            && monotonicSeconds() < deadline
        {
            if !ownsSocket {
                // Shared socket: interrupt accept() instead (again and again: a worker may have
                // been just about to call it). FCGI_FAIL_ACCEPT_ON_INTR makes libfcgi give up.
                self.workers.withLock { all in
                    for worker in all where !worker.exited.load(ordering: .sequentiallyConsistent) {
                        if let thread = worker.thread.withLock({ $0 }) { pthread_kill(thread, SIGUSR2) }
                    }
                }
            }
            usleep(10_000)
        }
        let left = inFlight.load(ordering: .sequentiallyConsistent)
        if left > 0 {
            logger.warning("grace period over, abandoning requests", metadata: ["in_flight": "\(left)"])
        } else {
            logger.info("stopped cleanly")
        }
    }

    private func spawnWorker(extra: Bool, outbound: OutboundPool) {
        let worker = Worker(extra: extra)
        liveWorkers.add(1, ordering: .sequentiallyConsistent)
        // Registered before it starts, so a shutdown in between still wakes it.
        workers.withLock { $0.append(worker) }
        let thread = startThread(joinable: true) {
            self.workerLoop(worker, outbound: outbound)
            worker.exited.store(true, ordering: .sequentiallyConsistent)
            self.liveWorkers.subtract(1, ordering: .sequentiallyConsistent)
        }
        worker.thread.withLock { $0 = thread }
    }

    /// Every 10 ms: reaps extra threads that ended, and when every accepting thread has been
    /// stuck in one request for `stallNanoseconds`, doubles the pool (up to `max`). Extra
    /// threads end after a request once nothing is stalled any more.
    private func monitor(max maxWorkers: Int, outbound: OutboundPool) {
        while !shuttingDown.load(ordering: .sequentiallyConsistent) {
            usleep(10_000)
            let now = monotonicNanoseconds()
            let (live, ended) = workers.withLock { all -> ([Worker], [Worker]) in
                // (Its id is recorded just after it starts: an extra that ended before that waits
                // for the next tick, so every ended thread is joined.)
                let ended = all.filter {
                    $0.extra && $0.exited.load(ordering: .sequentiallyConsistent) && $0.thread.withLock({ $0 }) != nil
                }
                if !ended.isEmpty { all.removeAll { worker in ended.contains { $0 === worker } } }
                return (all.filter { !$0.exited.load(ordering: .sequentiallyConsistent) }, ended)
            }
            for worker in ended {
                if let thread = worker.thread.withLock({ $0 }) { pthread_join(thread, nil) }
            }
            guard live.count < maxWorkers, !shuttingDown.load(ordering: .sequentiallyConsistent),
                live.allSatisfy({ $0.stalled(now: now, after: Self.stallNanoseconds) })
            else { continue }
            let added = min(live.count, maxWorkers - live.count)
            for _ in 0..<added { spawnWorker(extra: true, outbound: outbound) }
            logger.warning("every worker is waiting (slow store?): more threads", metadata: [
                "workers": "\(live.count + added)", "max_workers": "\(maxWorkers)",
            ])
        }
    }

    private func anyStalled(besides worker: Worker) -> Bool {
        let now = monotonicNanoseconds()
        return workers.withLock { all in
            all.contains { $0 !== worker && $0.stalled(now: now, after: Self.stallNanoseconds) }
        }
    }

    private func workerLoop(_ worker: Worker, outbound: OutboundPool) {
        var request = UnsafeMutablePointer<FCGX_Request>.allocate(capacity: 1)
        defer { request.deallocate() }
        guard FCGX_InitRequest(request, listenFD, FCGI_FAIL_ACCEPT_ON_INTR) == 0 else {
            logger.error("FCGX_InitRequest failed")
            return
        }
        while true {
            let accepted = FCGX_Accept_r(request)
            let stopping = shuttingDown.load(ordering: .sequentiallyConsistent)
            if accepted < 0 {
                if stopping { return }
                // EMFILE, a reset connection, a protocol error: none of them may kill the thread.
                usleep(5_000)
                continue
            }
            // Accepted while stopping: still answered. On our own socket the loop goes on until
            // accept() finds nothing queued; on an inherited one the next instance takes the queue.
            worker.busySince.store(monotonicNanoseconds(), ordering: .relaxed)
            let disposition = serve(request, outbound: stopping ? nil : outbound)
            worker.busySince.store(0, ordering: .relaxed)
            if disposition == .handedOff {
                // The outbound pool owns that request (and frees it); accept with a fresh one.
                request = .allocate(capacity: 1)
                guard FCGX_InitRequest(request, listenFD, FCGI_FAIL_ACCEPT_ON_INTR) == 0 else {
                    logger.error("FCGX_InitRequest failed")
                    return
                }
            }
            if stopping && !ownsSocket { return }
            if worker.extra && !stopping && !anyStalled(besides: worker) { return }
        }
    }

    /// Runs requests handed over by the accepting threads until the pool is closed and empty.
    private func outboundLoop(_ pool: OutboundPool) {
        while let job = pool.next() {
            let request = job.request.pointer
            let response = respond(params: job.params, body: job.body)
            finish(request, with: response)
            request.deallocate()
            inFlight.subtract(1, ordering: .sequentiallyConsistent)
        }
    }

    private enum Disposition {
        case answered
        case handedOff
    }

    private func serve(_ request: UnsafeMutablePointer<FCGX_Request>, outbound: OutboundPool?) -> Disposition {
        inFlight.add(1, ordering: .sequentiallyConsistent)
        var handedOff = false
        defer { if !handedOff { inFlight.subtract(1, ordering: .sequentiallyConsistent) } }

        let params = readParams(request.pointee.envp)
        let contentLength = params.first(where: { $0.0 == "CONTENT_LENGTH" })?.1
        let response: Response
        switch CGIRequestDecoder.bodyPlan(contentLength: contentLength, maxBodyBytes: maxBodyBytes) {
        case .read(let length):
            let body = readBody(request.pointee.in, length: length)
            drain(request.pointee.in)
            // Requests that wait on other services leave this thread free for the feed. Only on
            // connections that close after the request: a kept-alive one stays with its thread.
            if let outbound, request.pointee.keepConnection == 0,
                application.lane(method: param("REQUEST_METHOD", in: params), path: param("DOCUMENT_URI", in: params)) == .outbound
            {
                let job = OutboundPool.Job(request: RequestPointer(request), params: params, body: body)
                if outbound.submit(job) {
                    handedOff = true
                    return .handedOff
                }
                response = respondFailure(params: params, HTTPError(
                    .serviceUnavailable, "Too many requests are waiting for Instagram, Cloudinary or QStash; retry later",
                    headers: [("Retry-After", "5")]))
            } else {
                response = respond(params: params, body: body)
            }
        case .tooLarge:
            drain(request.pointee.in)
            response = respondFailure(params: params, HTTPError(.payloadTooLarge, "Request body exceeds \(maxBodyBytes) bytes"))
        case .invalidLength:
            drain(request.pointee.in)
            response = respondFailure(params: params, .validation("Invalid Content-Length"))
        }
        finish(request, with: response)
        return .answered
    }

    /// Sends the response and ends the request (the connection closes unless nginx keeps it).
    private func finish(_ request: UnsafeMutablePointer<FCGX_Request>, with response: Response) {
        send(response, on: request)
        if plainClose && FCGX_GetError(request.pointee.in) == 0 {
            igmedia_fcgx_plain_close(request)
        }
        if shuttingDown.load(ordering: .sequentiallyConsistent) {
            // Close kept-alive connections on the way out so nginx opens no new request on them.
            request.pointee.keepConnection = 0
        }
        FCGX_Finish_r(request)
    }

    private func param(_ name: String, in params: [(String, String)]) -> String {
        params.first(where: { $0.0 == name })?.1 ?? ""
    }

    private func respond(params: [(String, String)], body: [UInt8]) -> Response {
        do {
            let request = try CGIRequestDecoder.decode(params: params, body: body)
            return application.respond(to: request)
        } catch {
            return respondFailure(params: params, error)
        }
    }

    private func respondFailure(params: [(String, String)], _ error: HTTPError) -> Response {
        let method = params.first(where: { $0.0 == "REQUEST_METHOD" })?.1 ?? "GET"
        let path = params.first(where: { $0.0 == "DOCUMENT_URI" })?.1 ?? "/"
        let requestID = params.first(where: { $0.0 == "REQUEST_ID" })?.1 ?? ""
        let request = Request(method: method, path: path, requestID: requestID)
        return application.respond(to: request, failure: error)
    }

    private func readParams(_ envp: FCGX_ParamArray?) -> [(String, String)] {
        var params: [(String, String)] = []
        guard var cursor = envp else { return params }
        params.reserveCapacity(40)
        while let entry = cursor.pointee {
            // Split at the first "=" on bytes: Character-wise String scanning showed up in profiles.
            if let eq = strchr(entry, 0x3D) {
                let nameLength = entry.distance(to: eq)
                let value = eq + 1
                let name = UnsafeRawBufferPointer(start: entry, count: nameLength)
                let valueBytes = UnsafeRawBufferPointer(start: value, count: strlen(value))
                params.append((String(decoding: name, as: UTF8.self), String(decoding: valueBytes, as: UTF8.self)))
            }
            cursor += 1
        }
        return params
    }

    private func readBody(_ stream: UnsafeMutablePointer<FCGX_Stream>?, length: Int) -> [UInt8] {
        guard length > 0, let stream else { return [] }
        var body = [UInt8](repeating: 0, count: length)
        var filled = 0
        body.withUnsafeMutableBytes { buffer in
            while filled < length {
                let chunk = min(length - filled, 1 << 20)
                let got = FCGX_GetStr(buffer.baseAddress!.advanced(by: filled).assumingMemoryBound(to: CChar.self), Int32(chunk), stream)
                if got <= 0 { break }
                filled += Int(got)
            }
        }
        if filled < length { body.removeSubrange(filled...) }
        return body
    }

    /// nginx ends the body with an empty FCGI_STDIN record; leaving it unread breaks the next
    /// request on a kept-alive connection.
    private func drain(_ stream: UnsafeMutablePointer<FCGX_Stream>?) {
        guard let stream else { return }
        // Usually nothing is left; a small stack buffer avoids a heap allocation per request.
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 4096) { buffer in
            while FCGX_GetStr(buffer.baseAddress, Int32(buffer.count), stream) > 0 {}
        }
    }

    /// The whole response in one system call (libfcgi's writer would cut it into 8 KB writes).
    private func send(_ response: Response, on request: UnsafeMutablePointer<FCGX_Request>) {
        let requestID = UInt16(truncatingIfNeeded: request.pointee.requestId)
        let head = ResponseSerializer.head(response)
        igmedia_fcgx_close_writers(request)
        let written: Int32
        if let frame = FastCGIRecords.singleRecordFrame(requestID: requestID, contentLength: head.count + response.body.count) {
            written = frame.header.withUnsafeBytes { header in
                head.withUnsafeBytes { head in
                    response.body.withUnsafeBytes { body in
                        frame.trailer.withUnsafeBytes { trailer in
                            igmedia_fcgx_write_pieces(
                                request, header.baseAddress, header.count, head.baseAddress, head.count,
                                body.baseAddress, body.count, trailer.baseAddress, trailer.count)
                        }
                    }
                }
            }
        } else {
            let records = FastCGIRecords.response(requestID: requestID, head: head, body: response.body)
            written = records.withUnsafeBytes {
                igmedia_fcgx_write_pieces(request, $0.baseAddress, $0.count, nil, 0, nil, 0, nil, 0)
            }
        }
        if written != 0 {
            // nginx dropped the request (client gone, timeout): nothing to answer any more.
            logger.debug("response not delivered", metadata: ["errno": "\(errno)"])
        }
    }
}

private func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

private func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Starts a POSIX thread running `body`; detached unless `joinable` (a joinable thread's id stays
/// valid for `pthread_kill` after it ends).
@discardableResult
private func startThread(joinable: Bool = false, _ body: @escaping @Sendable () -> Void) -> pthread_t {
    final class Box: @unchecked Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    pthread_attr_setdetachstate(&attributes, Int32(joinable ? PTHREAD_CREATE_JOINABLE : PTHREAD_CREATE_DETACHED))
    pthread_attr_setstacksize(&attributes, 1 << 20)
    var thread = pthread_t()
    let rc = pthread_create(&thread, &attributes, { raw in
        guard let raw else { return nil }
        let box = Unmanaged<AnyObject>.fromOpaque(raw).takeRetainedValue() as! Box
        box.body()
        return nil
    }, context)
    pthread_attr_destroy(&attributes)
    precondition(rc == 0, "pthread_create failed: \(rc)")
    return thread
}
