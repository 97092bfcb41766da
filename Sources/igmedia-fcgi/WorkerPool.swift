import IGMediaLogic
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The accepting threads: `size` of them always, more (up to `maxSize`) while every one has
/// been stuck in a single request for `stallNanoseconds` — waiting on a slow or unreachable
/// store, not computing — so other requests are still answered within the store timeout. The
/// extra threads end once nothing is stalled any more.
final class WorkerPool: Sendable {
    /// One accepting thread. Joinable, so its id stays valid for `interrupt` until it is joined.
    private final class Worker: Sendable {
        let extra: Bool
        /// Monotonic nanoseconds since it has been busy with one request; 0 while it waits in accept.
        let busySince = Atomic<UInt64>(0)
        let exited = Atomic<Bool>(false)
        let thread = Mutex<PosixThread?>(nil)
        init(extra: Bool) { self.extra = extra }

        func stalled(now: UInt64, after threshold: UInt64) -> Bool {
            let since = busySince.load(ordering: .relaxed)
            return since != 0 && now &- since > threshold
        }
    }

    static let stallNanoseconds: UInt64 = 20_000_000

    let size: Int
    let maxSize: Int
    private let listenFD: Int32
    /// False for a socket shared with systemd's socket unit: on stop the workers leave the
    /// queued connections to the next instance.
    private let ownsSocket: Bool
    private let responder: Responder
    private let outbound: OutboundPool
    private let logger: Logger
    private let clock = SystemClock()
    /// Every accepting thread not yet reaped; the monitor adds and reaps.
    private let workers = Mutex<[Worker]>([])
    private let live = Atomic<Int>(0)

    init(
        size: Int, maxSize: Int, listenFD: Int32, ownsSocket: Bool, responder: Responder, outbound: OutboundPool,
        logger: Logger
    ) {
        self.size = size
        self.maxSize = max(size, maxSize)
        self.listenFD = listenFD
        self.ownsSocket = ownsSocket
        self.responder = responder
        self.outbound = outbound
        self.logger = logger
    }

    /// Accepting threads still running.
    var liveCount: Int { live.load(ordering: .sequentiallyConsistent) }

    /// Accepting threads serving a request now.
    var busyCount: Int {
        workers.withLock { all in all.filter { !$0.exited.load(ordering: .relaxed) && $0.busySince.load(ordering: .relaxed) != 0 }.count }
    }

    func start() {
        for _ in 0..<size { spawn(extra: false) }
        precondition(PosixThread.start { self.monitor() } != nil, "cannot start the worker monitor")
    }

    /// Interrupts every accept() still blocking (a shared socket is never shut down, so this is
    /// how its workers learn about the stop). Repeat it: a worker may be about to call accept.
    func interruptAccepts() {
        workers.withLock { all in
            for worker in all where !worker.exited.load(ordering: .sequentiallyConsistent) {
                worker.thread.withLock { $0 }?.interrupt(SignalWaiter.interruptSignal)
            }
        }
    }

    private var stopping: Bool { responder.stopping.load(ordering: .sequentiallyConsistent) }

    private func spawn(extra: Bool) {
        let worker = Worker(extra: extra)
        live.add(1, ordering: .sequentiallyConsistent)
        // Registered before it starts, so a stop in between still interrupts it.
        workers.withLock { $0.append(worker) }
        let thread = PosixThread.start(joinable: true) {
            self.acceptLoop(worker)
            worker.exited.store(true, ordering: .sequentiallyConsistent)
            self.live.subtract(1, ordering: .sequentiallyConsistent)
        }
        guard let thread else {
            // Out of threads: forget this one; the pool keeps serving with what it has.
            workers.withLock { all in all.removeAll { $0 === worker } }
            live.subtract(1, ordering: .sequentiallyConsistent)
            precondition(extra, "cannot start an accepting thread")
            return
        }
        worker.thread.withLock { $0 = thread }
    }

    /// Every 10 ms: joins extra threads that ended and, when every accepting thread is
    /// stalled, doubles the pool (up to `maxSize`).
    private func monitor() {
        while !stopping {
            usleep(10_000)
            let now = clock.monotonicNanoseconds()
            let (running, ended) = workers.withLock { all -> ([Worker], [Worker]) in
                // (Its id is recorded just after it starts: an extra that ended before that waits
                // for the next tick, so every ended thread is joined.)
                let ended = all.filter {
                    $0.extra && $0.exited.load(ordering: .sequentiallyConsistent) && $0.thread.withLock({ $0 }) != nil
                }
                if !ended.isEmpty { all.removeAll { worker in ended.contains { $0 === worker } } }
                return (all.filter { !$0.exited.load(ordering: .sequentiallyConsistent) }, ended)
            }
            for worker in ended { worker.thread.withLock { $0 }?.join() }
            guard running.count < maxSize, !stopping,
                running.allSatisfy({ $0.stalled(now: now, after: Self.stallNanoseconds) })
            else { continue }
            let added = min(running.count, maxSize - running.count)
            for _ in 0..<added { spawn(extra: true) }
            logger.warning("every worker is waiting (slow store?): more threads", metadata: [
                "workers": "\(running.count + added)", "max_workers": "\(maxSize)",
            ])
        }
    }

    private func anyStalled(besides worker: Worker) -> Bool {
        let now = clock.monotonicNanoseconds()
        return workers.withLock { all in
            all.contains { $0 !== worker && $0.stalled(now: now, after: Self.stallNanoseconds) }
        }
    }

    private func acceptLoop(_ worker: Worker) {
        guard var connection = FastCGIConnection(listenFD: listenFD) else {
            logger.error("FCGX_InitRequest failed")
            return
        }
        while true {
            let accepted = connection.accept()
            let stopping = self.stopping
            if !accepted {
                if stopping { return }
                // EMFILE, a reset connection, a protocol error: none of them may kill the thread.
                usleep(5_000)
                continue
            }
            // Accepted while stopping: still answered. On our own socket the loop goes on until
            // accept() finds nothing queued; on a shared one the next instance takes the queue.
            worker.busySince.store(clock.monotonicNanoseconds(), ordering: .relaxed)
            let disposition = responder.serve(connection, outbound: stopping ? nil : outbound)
            worker.busySince.store(0, ordering: .relaxed)
            if disposition == .handedOff {
                guard let fresh = FastCGIConnection(listenFD: listenFD) else {
                    logger.error("FCGX_InitRequest failed")
                    return
                }
                connection = fresh
            }
            if stopping && !ownsSocket { return }
            if worker.extra && !stopping && !anyStalled(besides: worker) { return }
        }
    }
}
