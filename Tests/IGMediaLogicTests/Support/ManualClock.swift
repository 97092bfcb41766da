import IGMediaLogic
import Synchronization

/// A clock tests move by hand. Wall time and the monotonic reading move together.
final class ManualClock: IGMediaLogic.Clock, Sendable {
    private let nanos: Atomic<UInt64>

    /// Starts `seconds` after the epoch (1 s unless told: the caches only need a start).
    init(seconds: Double = 1) { nanos = Atomic(UInt64(seconds * 1e9)) }

    func now() -> Double { Double(nanos.load(ordering: .relaxed)) / 1e9 }
    func monotonicNanoseconds() -> UInt64 { nanos.load(ordering: .relaxed) }
    func advance(seconds: Double) { nanos.add(UInt64(seconds * 1e9), ordering: .relaxed) }
}
