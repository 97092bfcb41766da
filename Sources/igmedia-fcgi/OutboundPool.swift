import IGMediaLogic
import Synchronization

/// The bounded queue and threads for requests that wait on other services (see `Lane`).
///
/// A full queue is answered 503 with Retry-After by the accepting thread (QStash retries those),
/// so a flood of webhooks costs the feed nothing and memory stays bounded.
final class OutboundPool: Sendable {
    struct Job: Sendable {
        let connection: FastCGIConnection
        let request: Request
    }

    let threads: Int
    private let queue: BlockingQueue<Job>
    private let busy = Atomic<Int>(0)

    var capacity: Int { queue.capacity }
    /// Jobs waiting for a thread.
    var depth: Int { queue.count }
    /// Threads serving a job now.
    var busyCount: Int { busy.load(ordering: .relaxed) }

    init(threads: Int, capacity: Int) {
        self.threads = threads
        queue = BlockingQueue(capacity: capacity)
    }

    /// Starts the threads; each runs `serve` on jobs until the pool is closed and empty.
    func start(serve: @escaping @Sendable (Job) -> Void) {
        for _ in 0..<threads {
            let started = PosixThread.start {
                while let job = self.queue.take() {
                    self.busy.add(1, ordering: .relaxed)
                    serve(job)
                    self.busy.subtract(1, ordering: .relaxed)
                }
            }
            precondition(started != nil, "cannot start an outbound thread")
        }
    }

    /// Queues a job; false when the queue is full or the pool is closed.
    func submit(_ job: Job) -> Bool {
        queue.offer(job)
    }

    /// No more submissions; threads drain the queue and stop.
    func close() {
        queue.close()
    }
}
