#if canImport(Glibc)
import Glibc
#endif

/// The process's signals: SIGTERM/SIGINT stop it, SIGHUP and SIGUSR1 are ignored, SIGUSR2 only
/// interrupts a blocking accept() (to stop workers on a socket shared with systemd).
enum SignalWaiter {
    static let interruptSignal = SIGUSR2

    private static let handled = [SIGTERM, SIGINT, SIGHUP, SIGUSR1]

    /// Blocks the handled signals in the calling thread. Call before starting any thread, so
    /// every thread inherits the mask and only `waitForStop` sees them.
    static func install() {
        var signals = set()
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        // No SA_RESTART: with FCGI_FAIL_ACCEPT_ON_INTR, SIGUSR2 makes libfcgi's accept give up.
        var wake = sigaction()
        wake.__sigaction_handler.sa_handler = { _ in }
        sigemptyset(&wake.sa_mask)
        wake.sa_flags = 0
        sigaction(interruptSignal, &wake, nil)
    }

    /// Waits until SIGTERM or SIGINT arrives and returns it.
    static func waitForStop() -> Int32 {
        var signals = set()
        var received: Int32 = 0
        repeat {
            sigwait(&signals, &received)
        } while received != SIGTERM && received != SIGINT
        return received
    }

    private static func set() -> sigset_t {
        var signals = sigset_t()
        sigemptyset(&signals)
        for signal in handled { sigaddset(&signals, signal) }
        return signals
    }
}
