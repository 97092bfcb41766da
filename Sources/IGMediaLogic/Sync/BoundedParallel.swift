import Synchronization

/// Runs work items on at most `concurrency` threads and returns results in input order.
///
/// The model is thread-per-request with blocking I/O, so parallel work is plain threads.
public enum BoundedParallel {
    public static func map<T: Sendable, R: Sendable>(
        _ items: [T], concurrency: Int, _ body: @escaping @Sendable (T) -> R
    ) -> [R] {
        guard items.count > 1, concurrency > 1 else { return items.map(body) }
        let state = State<R>(count: items.count)
        let work: @Sendable () -> Void = {
            while let index = state.next() {
                state.store(body(items[index]), at: index)
            }
        }
        let threads = (0..<min(concurrency, items.count)).compactMap { _ in PosixThread.start(joinable: true, work) }
        // If no thread could start, do the work here.
        if threads.isEmpty { work() }
        for thread in threads { thread.join() }
        return state.results()
    }

    private final class State<R: Sendable>: Sendable {
        private struct Slots {
            var nextIndex = 0
            var values: [R?]
        }
        private let slots: Mutex<Slots>
        private let count: Int

        init(count: Int) {
            self.count = count
            slots = Mutex(Slots(values: Array(repeating: nil, count: count)))
        }

        func next() -> Int? {
            slots.withLock { slots in
                guard slots.nextIndex < count else { return nil }
                slots.nextIndex += 1
                return slots.nextIndex - 1
            }
        }

        func store(_ value: R, at index: Int) {
            slots.withLock { $0.values[index] = value }
        }

        func results() -> [R] {
            // Every index was handed out and stored before the threads were joined.
            slots.withLock { $0.values.map { $0! } }
        }
    }
}
