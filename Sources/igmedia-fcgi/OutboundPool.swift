import CFastCGI

#if canImport(Glibc)
import Glibc
#endif

/// An accepted libfcgi request on its way from an accepting thread to an outbound thread; only
/// one thread touches it at a time.
struct RequestPointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<FCGX_Request>
    init(_ pointer: UnsafeMutablePointer<FCGX_Request>) { self.pointer = pointer }
}

/// The bounded queue and thread count for requests that wait on other services (see `Lane`).
///
/// A full queue is answered 503 with Retry-After by the accepting thread (QStash retries those),
/// so a flood of webhooks costs the feed nothing and memory stays bounded.
final class OutboundPool: @unchecked Sendable {
    struct Job: Sendable {
        let request: RequestPointer
        let params: [(String, String)]
        let body: [UInt8]
    }

    let threads: Int
    let capacity: Int
    // pthread mutex + condition variable at fixed heap addresses; `jobs`, `head` and `closed`
    // are only touched with the mutex held.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let ready: UnsafeMutablePointer<pthread_cond_t>
    private var jobs: [Job] = []
    private var head = 0
    private var closed = false

    init(threads: Int, capacity: Int) {
        self.threads = threads
        self.capacity = capacity
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        ready = .allocate(capacity: 1)
        ready.initialize(to: pthread_cond_t())
        pthread_cond_init(ready, nil)
    }

    deinit {
        pthread_cond_destroy(ready)
        pthread_mutex_destroy(mutex)
        ready.deallocate()
        mutex.deallocate()
    }

    /// Queues a job; false when the queue is full or the pool is closed.
    func submit(_ job: Job) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard !closed, jobs.count - head < capacity else { return false }
        jobs.append(job)
        pthread_cond_signal(ready)
        return true
    }

    /// The next job, waiting for one; nil once the pool is closed and empty.
    func next() -> Job? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while head == jobs.count && !closed {
            pthread_cond_wait(ready, mutex)
        }
        guard head < jobs.count else { return nil }
        let job = jobs[head]
        head += 1
        if head == jobs.count {
            jobs.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= capacity {
            // Never empty under a steady stream: drop the taken jobs so the array stays bounded.
            jobs.removeFirst(head)
            head = 0
        }
        return job
    }

    /// No more submissions; threads drain the queue and stop.
    func close() {
        pthread_mutex_lock(mutex)
        closed = true
        pthread_cond_broadcast(ready)
        pthread_mutex_unlock(mutex)
    }
}
