#if canImport(Glibc)
import Glibc
#endif

/// Blocking sleeps for retry backoff (the model is thread-per-request).
public enum Sleep {
    public static func milliseconds(_ ms: Int) {
        guard ms > 0 else { return }
        var request = timespec(tv_sec: ms / 1000, tv_nsec: (ms % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 { request = remaining }
    }
}
