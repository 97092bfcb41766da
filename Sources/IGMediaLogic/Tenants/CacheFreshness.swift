import Synchronization

/// How long the in-process caches (ready feeds, auth tokens) may keep an entry.
///
/// Alone, an entry lives `ttl`: a feed written by another process shows at most that late. While
/// a `ChangeFollower` reads the store's change stream (every write of a feed or an auth token
/// appends to it), entries live up to `followedMaxAge` instead, because a change reaches every
/// responder within one poll interval and removes the entry. The follower renews its lease
/// after every successful poll; when it stops succeeding (store outage, a stuck thread), the lease
/// runs out and every entry falls back to `ttl` at once.
public final class CacheFreshness: Sendable {
    let ttlNanoseconds: UInt64
    let followedMaxAgeNanoseconds: UInt64
    private let followedUntil = Atomic<UInt64>(0)

    public init(ttlMilliseconds: Int, followedMaxAgeMilliseconds: Int = 0) {
        ttlNanoseconds = UInt64(max(0, ttlMilliseconds)) * 1_000_000
        followedMaxAgeNanoseconds = max(ttlNanoseconds, UInt64(max(0, followedMaxAgeMilliseconds)) * 1_000_000)
    }

    /// Whether anything may be cached at all.
    public var isEnabled: Bool { ttlNanoseconds > 0 }

    /// The changes are being followed until `until` (monotonic nanoseconds).
    public func renewFollowing(until: UInt64) {
        followedUntil.store(until, ordering: .relaxed)
    }

    public func stopFollowing() {
        followedUntil.store(0, ordering: .relaxed)
    }

    public func isFollowed(now: UInt64) -> Bool { followedUntil.load(ordering: .relaxed) > now }

    /// The longest an entry stored now may live.
    func maxLifetime(now: UInt64) -> UInt64 { isFollowed(now: now) ? followedMaxAgeNanoseconds : ttlNanoseconds }

    /// Whether an entry stored at `storedAt` may still be used at `now`.
    func isFresh(storedAt: UInt64, now: UInt64) -> Bool {
        let age = now &- storedAt
        return age < ttlNanoseconds || (age < followedMaxAgeNanoseconds && isFollowed(now: now))
    }
}
