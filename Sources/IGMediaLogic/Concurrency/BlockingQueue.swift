#if canImport(Glibc)
import Glibc
#endif

/// A bounded first-in, first-out queue that consumer threads block on: the one condition
/// variable of the service (Synchronization's `Mutex` has no way to wait for a change).
///
/// `offer` never blocks, so a producer that must stay responsive (an accepting thread) answers
/// "full" itself instead of waiting.
public final class BlockingQueue<Element: Sendable>: @unchecked Sendable {
    public let capacity: Int
    // pthread mutex + condition variable at fixed heap addresses (they must not move); `items`,
    // `head` and `closed` are only touched with the mutex held.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let ready: UnsafeMutablePointer<pthread_cond_t>
    private var items: [Element] = []
    private var head = 0
    private var closed = false

    public init(capacity: Int) {
        precondition(capacity > 0, "a queue holds at least one element")
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

    /// Adds an element; false when the queue is full or closed.
    public func offer(_ element: Element) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard !closed, items.count - head < capacity else { return false }
        items.append(element)
        pthread_cond_signal(ready)
        return true
    }

    /// The oldest element, waiting for one; nil once the queue is closed and empty.
    public func take() -> Element? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while head == items.count && !closed {
            pthread_cond_wait(ready, mutex)
        }
        guard head < items.count else { return nil }
        let element = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= capacity {
            // Never empty under a steady stream: drop the taken slots so the array stays bounded.
            items.removeFirst(head)
            head = 0
        }
        return element
    }

    /// Elements waiting now.
    public var count: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return items.count - head
    }

    /// No more offers; waiting consumers get what is left, then nil.
    public func close() {
        pthread_mutex_lock(mutex)
        closed = true
        pthread_cond_broadcast(ready)
        pthread_mutex_unlock(mutex)
    }
}
