#if canImport(Glibc)
import Glibc
#endif

/// A bag of reusable resources (connections, curl handles): take one per call, give it back.
///
/// Worker threads each hold at most one at a time, so in steady state there is one per thread.
final class ResourcePool<Resource>: @unchecked Sendable {
    // A resource is only touched by the thread that took it; the mutex guards the bag itself.
    private var idle: [Resource] = []
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let maxIdle: Int

    init(maxIdle: Int) {
        self.maxIdle = maxIdle
        pthread_mutex_init(lock, nil)
    }

    deinit {
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    func take() -> Resource? {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return idle.popLast()
    }

    /// Keeps the resource for reuse; past `maxIdle` it is dropped (and closed by its deinit).
    func give(_ resource: Resource) {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        if idle.count < maxIdle { idle.append(resource) }
    }

    func drain() {
        pthread_mutex_lock(lock)
        let dropped = idle
        idle.removeAll()
        pthread_mutex_unlock(lock)
        _ = dropped
    }
}
