import Synchronization

/// A bag of reusable resources (connections, curl handles): take one per call, give it back.
///
/// Worker threads each hold at most one at a time, so in steady state there is one per thread.
final class ResourcePool<Resource>: @unchecked Sendable {
    // A resource is only touched by the thread that took it; the mutex guards the bag itself.
    private let idle = Mutex<[Idle]>([])
    /// `Resource` need not be Sendable: each one has a single user at a time.
    private struct Idle: @unchecked Sendable { let resource: Resource }
    private let maxIdle: Int

    init(maxIdle: Int) {
        self.maxIdle = maxIdle
    }

    func take() -> Resource? {
        idle.withLock { $0.popLast() }?.resource
    }

    /// Keeps the resource for reuse; past `maxIdle` it is dropped (and closed by its deinit).
    func give(_ resource: Resource) {
        // Dropped outside the lock: a connection's deinit closes a socket.
        let offered = Idle(resource: resource)
        let dropped: Idle? = idle.withLock { all in
            guard all.count < maxIdle else { return offered }
            all.append(offered)
            return nil
        }
        _ = dropped
    }

    func drain() {
        let dropped = idle.withLock { all in
            defer { all.removeAll() }
            return all
        }
        _ = dropped
    }
}
