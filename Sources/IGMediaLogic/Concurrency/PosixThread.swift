#if canImport(Glibc)
import Glibc
#endif

/// A POSIX thread running a closure: the one thread starter of the service.
///
/// The model is thread-per-request with blocking I/O (libfcgi, libcurl easy handles, the RESP
/// socket), so long-lived workers are plain threads rather than tasks.
public struct PosixThread: @unchecked Sendable {
    // pthread_t is a plain integer handle on Linux; it stays valid for `join` and `interrupt`
    // until a joinable thread is joined.
    private let handle: pthread_t
    public let joinable: Bool

    /// Starts `body` on a new thread with a 1 MiB stack; nil when the system refuses (EAGAIN).
    /// A detached thread (the default) cleans up by itself; a joinable one must be joined.
    public static func start(joinable: Bool = false, _ body: @escaping @Sendable () -> Void) -> PosixThread? {
        final class Box: @unchecked Sendable {
            let body: @Sendable () -> Void
            init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        }
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(joinable ? PTHREAD_CREATE_JOINABLE : PTHREAD_CREATE_DETACHED))
        pthread_attr_setstacksize(&attributes, 1 << 20)
        var thread = pthread_t()
        let rc = pthread_create(&thread, &attributes, { raw in
            // `raw` is the Box retained just above, handed over exactly once.
            guard let raw else { return nil }
            Unmanaged<Box>.fromOpaque(raw).takeRetainedValue().body()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<Box>.fromOpaque(context).release()
            return nil
        }
        return PosixThread(handle: thread, joinable: joinable)
    }

    /// Waits for a joinable thread to end.
    public func join() {
        precondition(joinable, "join() on a detached thread")
        pthread_join(handle, nil)
    }

    /// Delivers `signal` to this thread (to interrupt a blocking call such as accept()).
    /// Only for joinable threads not yet joined: a detached thread's id may be reused.
    public func interrupt(_ signal: Int32) {
        pthread_kill(handle, signal)
    }
}
