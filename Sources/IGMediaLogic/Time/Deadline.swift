/// A point in time by which an operation must finish, read from an injected clock's monotonic
/// reading (never the wall clock: a clock step must not stretch or cut a store timeout).
struct Deadline {
    let clock: any Clock
    let nanoseconds: UInt64

    init(millisecondsFromNow: Int, clock: any Clock) {
        self.clock = clock
        nanoseconds = clock.monotonicNanoseconds() + UInt64(max(0, millisecondsFromNow)) * 1_000_000
    }

    /// Whole milliseconds left, rounded up; 0 once the deadline has passed.
    func remainingMilliseconds() -> Int {
        let now = clock.monotonicNanoseconds()
        return now >= nanoseconds ? 0 : Int((nanoseconds - now + 999_999) / 1_000_000)
    }
}
