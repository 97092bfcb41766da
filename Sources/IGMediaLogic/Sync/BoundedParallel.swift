#if canImport(Glibc)
import Glibc
#endif

/// Runs work items on at most `concurrency` threads and returns results in input order.
///
/// The model is thread-per-request with blocking I/O, so parallel work is plain threads.
public enum BoundedParallel {
    public static func map<T: Sendable, R: Sendable>(
        _ items: [T], concurrency: Int, _ body: @escaping @Sendable (T) -> R
    ) -> [R] {
        guard items.count > 1, concurrency > 1 else { return items.map(body) }
        let state = State<R>(count: items.count)
        let workers = min(concurrency, items.count)
        var threads: [pthread_t] = []
        for _ in 0..<workers {
            let job = Job {
                while let index = state.next() {
                    state.store(body(items[index]), at: index)
                }
            }
            let context = Unmanaged.passRetained(job).toOpaque()
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, { raw in
                // The context is the retained Job passed just above.
                let job = Unmanaged<Job>.fromOpaque(raw!).takeRetainedValue()
                job.run()
                return nil
            }, context)
            if rc == 0 {
                threads.append(thread)
            } else {
                Unmanaged<Job>.fromOpaque(context).release()
            }
        }
        // If no thread could start, do the work here.
        if threads.isEmpty {
            while let index = state.next() { state.store(body(items[index]), at: index) }
        }
        for thread in threads { pthread_join(thread, nil) }
        return state.results()
    }

    private final class Job: @unchecked Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    private final class State<R>: @unchecked Sendable {
        // Guarded by `lock`.
        private var nextIndex = 0
        private var slots: [R?]
        private let count: Int
        private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

        init(count: Int) {
            self.count = count
            slots = Array(repeating: nil, count: count)
            pthread_mutex_init(lock, nil)
        }

        deinit {
            pthread_mutex_destroy(lock)
            lock.deallocate()
        }

        func next() -> Int? {
            pthread_mutex_lock(lock)
            defer { pthread_mutex_unlock(lock) }
            guard nextIndex < count else { return nil }
            nextIndex += 1
            return nextIndex - 1
        }

        func store(_ value: R, at index: Int) {
            pthread_mutex_lock(lock)
            slots[index] = value
            pthread_mutex_unlock(lock)
        }

        func results() -> [R] {
            pthread_mutex_lock(lock)
            defer { pthread_mutex_unlock(lock) }
            // Every index was handed out and stored before the threads were joined.
            return slots.map { $0! }
        }
    }
}
