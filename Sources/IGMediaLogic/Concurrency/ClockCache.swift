import Synchronization

/// A bounded in-process cache with CLOCK (second chance) eviction, split into shards that each
/// have their own reader-writer lock.
///
/// Reads take a shard's read lock and set the entry's reference bit with one relaxed atomic
/// store, so hot keys never serialize readers. A write over the shard's byte budget sweeps the
/// clock hand: an entry read since the last sweep gets a second chance, the others (and expired
/// ones) are evicted one at a time until the shard fits. Going over the budget never drops more
/// than it must, and never fails.
///
/// Cost is counted by the caller (bytes held by the value) plus a fixed per-entry overhead for
/// the key, the slot and the dictionary's share.
public final class ClockCache<Value: Sendable>: Sendable {
    /// What the cache keeps per key besides the value.
    public static var entryOverheadBytes: Int { 160 }

    public struct Stored: Sendable {
        public let value: Value
        /// Monotonic nanoseconds when the entry was stored.
        public let storedAt: UInt64
        /// Monotonic nanoseconds after which the entry is never returned.
        public let expires: UInt64
    }

    final class Slot: Sendable {
        let key: String
        let stored: Stored
        let cost: Int
        let referenced = Atomic<Bool>(false)

        init(key: String, stored: Stored, cost: Int) {
            self.key = key
            self.stored = stored
            self.cost = cost
        }
    }

    struct Shard {
        var positions: [String: Int] = [:]
        var slots: [Slot?] = []
        var free: [Int] = []
        var hand = 0
        var bytes = 0

        mutating func remove(at position: Int) {
            guard let slot = slots[position] else { return }
            positions[slot.key] = nil
            slots[position] = nil
            free.append(position)
            bytes -= slot.cost
        }
    }

    private let shards: [ReadWriteLocked<Shard>]
    private let shardBudget: Int
    private let evictionCount = Atomic<Int>(0)

    /// `maxBytes` is split evenly over the shards: 16 when the budget allows at least 1 MiB each,
    /// else one (small test budgets keep exact LRU-like behaviour).
    public init(maxBytes: Int, shards requested: Int? = nil) {
        let count = max(1, requested ?? (maxBytes >= 16 << 20 ? 16 : 1))
        shards = (0..<count).map { _ in ReadWriteLocked(Shard()) }
        shardBudget = max(0, maxBytes / count)
    }

    /// The largest cost one entry may have: a quarter of a shard, so one entry never empties it.
    public var maxEntryCost: Int { shardBudget / 4 }

    private func shard(_ key: String) -> ReadWriteLocked<Shard> {
        shards.count == 1 ? shards[0] : shards[Int(UInt(bitPattern: key.hashValue) % UInt(shards.count))]
    }

    /// The entry for `key` when it has not expired by `now`; marks it recently used.
    public func get(_ key: String, now: UInt64) -> Stored? {
        shard(key).read { shard in
            guard let position = shard.positions[key], let slot = shard.slots[position], slot.stored.expires > now else {
                return nil
            }
            if !slot.referenced.load(ordering: .relaxed) { slot.referenced.store(true, ordering: .relaxed) }
            return slot.stored
        }
    }

    /// The value for `key` whatever its expiry, without marking it used.
    public func peek(_ key: String) -> Value? {
        shard(key).read { shard in shard.positions[key].flatMap { shard.slots[$0]?.stored.value } }
    }

    /// Stores (or replaces) an entry, then evicts until the shard fits its budget. An entry costing
    /// more than `maxEntryCost` is not kept (and any older entry for the key is dropped).
    public func set(_ key: String, _ value: Value, cost valueCost: Int, now: UInt64, expires: UInt64) {
        let cost = valueCost + Self.entryOverheadBytes
        let target = shard(key)
        guard cost <= maxEntryCost else {
            remove(key)
            return
        }
        let slot = Slot(key: key, stored: Stored(value: value, storedAt: now, expires: expires), cost: cost)
        let budget = shardBudget
        var evicted = 0
        target.write { shard in
            if let position = shard.positions[key] {
                shard.bytes -= shard.slots[position]?.cost ?? 0
                shard.slots[position] = slot
            } else if let position = shard.free.popLast() {
                shard.slots[position] = slot
                shard.positions[key] = position
            } else {
                shard.slots.append(slot)
                shard.positions[key] = shard.slots.count - 1
            }
            shard.bytes += cost
            // Two sweeps at most: the first clears every reference bit it passes.
            var steps = 2 * shard.slots.count + 1
            while shard.bytes > budget, steps > 0, !shard.slots.isEmpty {
                steps -= 1
                if shard.hand >= shard.slots.count { shard.hand = 0 }
                let position = shard.hand
                shard.hand += 1
                guard let candidate = shard.slots[position], candidate !== slot else { continue }
                if candidate.stored.expires <= now || !candidate.referenced.exchange(false, ordering: .relaxed) {
                    shard.remove(at: position)
                    evicted += 1
                }
            }
        }
        if evicted > 0 { evictionCount.add(evicted, ordering: .relaxed) }
    }

    public func remove(_ key: String) {
        shard(key).write { shard in
            if let position = shard.positions[key] { shard.remove(at: position) }
        }
    }

    public func removeAll() {
        for shard in shards { shard.write { $0 = Shard() } }
    }

    /// Entries removed to make room since the cache was created.
    public var evictions: Int { evictionCount.load(ordering: .relaxed) }

    /// Bytes held, the per-entry overhead included.
    public var storedBytes: Int { shards.reduce(0) { total, shard in total + shard.read { $0.bytes } } }

    public var count: Int { shards.reduce(0) { total, shard in total + shard.read { $0.positions.count } } }
}
