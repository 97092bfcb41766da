import Synchronization

/// A seeded random source (SplitMix64): the same seed gives the same jitter on every run.
final class SeededRandom: Sendable {
    private struct Generator: RandomNumberGenerator {
        var state: UInt64

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    private let generator: Mutex<Generator>

    init(seed: UInt64) { generator = Mutex(Generator(state: seed)) }

    /// A uniform integer in `range`, in the shape `RetryPolicy` takes.
    func int(in range: ClosedRange<Int>) -> Int {
        generator.withLock { Int.random(in: range, using: &$0) }
    }
}
