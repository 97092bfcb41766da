#if canImport(Glibc)
import Glibc
#endif

/// A value behind a pthread reader-writer lock that prefers writers: readers run side by side,
/// a writer runs alone and is not starved by a steady stream of readers.
///
/// For the per-request caches (token → tenant, ready feeds), which are read on every request and
/// written about once a second per tenant. With `Mutex` every reader excluded the others; at 8
/// workers on 2 cores the lock's slow path was 17 % of the responder's CPU time under load.
public final class ReadWriteLocked<Value>: @unchecked Sendable {
    // Both live at fixed heap addresses: pthread locks must not move, and the value is reached
    // only through `read` / `write`, under the lock.
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>
    private let value: UnsafeMutablePointer<Value>

    public init(_ initial: Value) {
        lock = .allocate(capacity: 1)
        lock.initialize(to: pthread_rwlock_t())
        var attributes = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attributes)
        pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        pthread_rwlock_init(lock, &attributes)
        pthread_rwlockattr_destroy(&attributes)
        value = .allocate(capacity: 1)
        value.initialize(to: initial)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
        value.deinitialize(count: 1)
        value.deallocate()
    }

    /// Shared access: `body` may run at the same time as other readers, never with a writer.
    public func read<Result>(_ body: (borrowing Value) throws -> Result) rethrows -> Result {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body(value.pointee)
    }

    /// Exclusive access.
    public func write<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body(&value.pointee)
    }
}
