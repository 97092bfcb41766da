import CSystem

#if canImport(Glibc)
import Glibc
#endif

/// What the process does to itself before it reads a secret: its environment holds
/// `ENCRYPTION_KEY` and the API secrets, and a core file or a same-user debugger would expose them.
public enum ProcessHardening {
    /// Marks the process non-dumpable (no core file, no ptrace attach, no /proc/<pid>/mem for other
    /// processes of the same user) and sets its core size limit to 0. Returns what could not be
    /// done, for a warning: under the systemd unit, setrlimit is filtered (`~@resources`) and the
    /// unit's `LimitCORE=0` has already set the limit.
    public static func apply() -> [String] {
        var problems: [String] = []
        if igmedia_set_non_dumpable() != 0 { problems.append("prctl(PR_SET_DUMPABLE) failed: errno \(errno)") }
        var none = rlimit(rlim_cur: 0, rlim_max: 0)
        if setrlimit(Int32(RLIMIT_CORE.rawValue), &none) != 0 {
            var current = rlimit()
            if getrlimit(Int32(RLIMIT_CORE.rawValue), &current) != 0 || current.rlim_cur != 0 {
                problems.append("setrlimit(RLIMIT_CORE, 0) failed: errno \(errno)")
            }
        }
        return problems
    }

    /// Whether the process may still be dumped (`PR_GET_DUMPABLE`).
    public static var isDumpable: Bool { igmedia_get_dumpable() != 0 }
}
