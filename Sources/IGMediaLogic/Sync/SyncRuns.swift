/// Sync runs in the store: one run syncs every syncable tenant once, and any number of
/// processes on any number of hosts share its work through a Redis stream with a consumer group.
///
/// - `sync:run:current` names the run in progress (it expires after `maxRunSeconds`, so a run
///   whose every worker died stops blocking new ones); a trigger while it exists joins it.
/// - The tenant index is read with a cursor kept in the run's hash; whichever worker runs out of
///   work reads the next page and queues it with one script that skips invalid, expired and
///   deleting tenants and dedupes through `sync:run:{id}:queued` (a set scan may repeat a
///   member), so every tenant is queued once per run whoever reads the page.
/// - Workers read entries with XREADGROUP (each entry goes to one consumer), acknowledge each
///   tenant with a script that counts it only if the XACK took (a reclaimed entry is never
///   counted twice), and take over a dead worker's entries with XAUTOCLAIM once they have been
///   idle for `reclaimAfterMilliseconds`.
/// - The run is done when the index is read to its end and nothing is pending; the last worker
///   to see that finishes it (state, time, `sync:run:last`) and removes the queue.
public struct SyncRuns: Sendable {
    public let store: any RedisStore
    public let keys: KeySpace
    public let clock: any Clock
    /// A run older than this is abandoned: the next trigger starts a new one.
    public let maxRunSeconds: Int

    static let group = "workers"
    static let pageSize = 500
    /// Finished runs' hashes and failures are kept this long for `GET /sync/runs/:id`.
    static let keepSeconds = 7 * 86_400

    public init(store: any RedisStore, keys: KeySpace, clock: any Clock, maxRunSeconds: Int = 3300) {
        self.store = store
        self.keys = keys
        self.clock = clock
        self.maxRunSeconds = maxRunSeconds
    }

    /// A run's state and counters, as `GET /sync/runs/:id` and `status` show them.
    public struct Snapshot: Sendable, Equatable {
        public var id: String
        public var state: String
        public var trigger: String
        public var startedAt: String
        public var finishedAt: String?
        public var queued: Int
        public var skipped: Int
        public var synced: Int
        public var failed: Int
        public var deferred: Int
        public var indexRead: Bool
        public var recentErrors: [String]

        /// Tenants queued and not yet finished (being synced or waiting).
        public var remaining: Int { max(0, queued - synced - failed - deferred) }

        public var json: JSONValue {
            var members: [(String, JSONValue)] = [
                ("runId", .string(id)), ("state", .string(state)), ("trigger", .string(trigger)), ("startedAt", .string(startedAt)),
                ("finishedAt", finishedAt.map(JSONValue.string) ?? .null),
                ("queued", .int(queued)), ("synced", .int(synced)), ("failed", .int(failed)),
                ("deferred", .int(deferred)), ("skipped", .int(skipped)), ("remaining", .int(remaining)),
                ("tenantIndexRead", .bool(indexRead)),
            ]
            members.append(("recentErrors", .array(recentErrors.map(JSONValue.string))))
            return .object(members)
        }
    }

    // MARK: - Starting and joining

    /// Starts a run, or joins the one in progress. Returns its id and whether this call started it.
    public func startOrJoin(trigger: String) throws(StoreError) -> (id: String, started: Bool) {
        let id = Self.newID(now: clock.now())
        let reply = try store.run(RedisCommand(
            "EVAL", RedisArgument(Self.startScript), 3, RedisArgument(keys.syncRunCurrent), RedisArgument(keys.syncRun(id)),
            RedisArgument(keys.syncRunQueue(id)), RedisArgument(id), RedisArgument(maxRunSeconds), RedisArgument(trigger),
            RedisArgument(ISO8601.format(clock.now())), RedisArgument(keys.syncRun("").rawValue), RedisArgument(Self.group)))
        guard let parts = reply.arrayValue, parts.count == 2, let runID = parts[1].stringValue else {
            throw .protocolError("unexpected reply starting a sync run")
        }
        return (runID, parts[0].intValue == 1)
    }

    /// The run in progress, if any.
    public func current() throws(StoreError) -> String? {
        try store.run(RedisCommand("GET", RedisArgument(keys.syncRunCurrent))).stringValue
    }

    public func last() throws(StoreError) -> String? {
        try store.run(RedisCommand("GET", RedisArgument(keys.syncRunLast))).stringValue
    }

    public func snapshot(_ id: String) throws(StoreError) -> Snapshot? {
        let replies = try store.pipeline([
            RedisCommand("HGETALL", RedisArgument(keys.syncRun(id))),
            RedisCommand("LRANGE", RedisArgument(keys.syncRunErrors(id)), 0, 19),
        ])
        for reply in replies { if case .error(let message) = reply { throw .commandFailed(String(message.prefix(80))) } }
        guard let hash = replies[0].hashValue, let state = hash["state"] else { return nil }
        func number(_ field: String) -> Int { Int(hash[field] ?? "") ?? 0 }
        return Snapshot(
            id: id, state: state, trigger: hash["trigger"] ?? "", startedAt: hash["started_at"] ?? "",
            finishedAt: hash["finished_at"], queued: number("queued"), skipped: number("skipped"), synced: number("synced"),
            failed: number("failed"), deferred: number("deferred"), indexRead: hash["cursor"] == "done",
            recentErrors: (replies[1].arrayValue ?? []).compactMap(\.stringValue))
    }

    /// Run ids are sortable by start time and unguessable enough to be shown: `r` + unix ms + random.
    static func newID(now: Double) -> String {
        let random = SecureRandom.bytes(6)
        return "r\(Int(now * 1000))-" + random.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    static let startScript = """
        local cur = redis.call('GET', KEYS[1])
        if cur then
          local state = redis.call('HGET', ARGV[5] .. cur, 'state')
          if state and state ~= 'done' then return {0, cur} end
        end
        redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
        redis.call('HSET', KEYS[2], 'id', ARGV[1], 'state', 'running', 'cursor', '0', 'trigger', ARGV[3],
          'started_at', ARGV[4], 'queued', 0, 'skipped', 0, 'synced', 0, 'failed', 0, 'deferred', 0)
        redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2]) + 604800)
        redis.call('XGROUP', 'CREATE', KEYS[3], ARGV[6], '0', 'MKSTREAM')
        redis.call('EXPIRE', KEYS[3], tonumber(ARGV[2]) * 2)
        return {1, ARGV[1]}
        """

    // MARK: - Queueing

    /// Reads the next page of the tenant index and queues it. Returns false once the index has been
    /// read to its end (by anyone). A page another worker queued first is not queued again.
    public func queueNextPage(_ id: String, repository: TenantRepository) throws(StoreError) -> Bool {
        let cursor = try store.run(RedisCommand("HGET", RedisArgument(keys.syncRun(id)), "cursor")).stringValue
        guard let cursor, cursor != "done" else { return false }
        if cursor == "0" { try repository.ensureIndexed() }
        let page = try repository.tenantPage(cursor: cursor, pageSize: Self.pageSize)
        var arguments: [RedisArgument] = [
            RedisArgument(Self.queueScript), 6, RedisArgument(keys.syncRun(id)), RedisArgument(keys.syncRunQueue(id)),
            RedisArgument(keys.syncRunQueued(id)), RedisArgument(keys.invalidTenants), RedisArgument(keys.deletingTenants),
            RedisArgument(keys.tokenExpiry), RedisArgument(Int(clock.now())), RedisArgument(cursor),
            RedisArgument(page.next == "0" ? "done" : page.next), RedisArgument(maxRunSeconds * 2),
        ]
        arguments += page.ids.map { RedisArgument($0) }
        _ = try store.run(RedisCommand("EVAL", arguments))
        return true
    }

    static let queueScript = """
        if redis.call('HGET', KEYS[1], 'cursor') ~= ARGV[2] then return -1 end
        local added, skipped = 0, 0
        for i = 5, #ARGV do
          local id = ARGV[i]
          local dead = redis.call('SISMEMBER', KEYS[4], id) == 1 or redis.call('SISMEMBER', KEYS[5], id) == 1
          if not dead then
            local expires = redis.call('ZSCORE', KEYS[6], id)
            dead = expires and tonumber(expires) <= tonumber(ARGV[1])
          end
          if dead then
            skipped = skipped + 1
          elseif redis.call('SADD', KEYS[3], id) == 1 then
            redis.call('XADD', KEYS[2], '*', 't', id)
            added = added + 1
          end
        end
        redis.call('EXPIRE', KEYS[3], ARGV[4])
        redis.call('HINCRBY', KEYS[1], 'queued', added)
        redis.call('HINCRBY', KEYS[1], 'skipped', skipped)
        redis.call('HSET', KEYS[1], 'cursor', ARGV[3])
        return added
        """

    // MARK: - Working

    /// One queued tenant handed to a worker.
    public struct Work: Sendable, Equatable {
        public let entryID: String
        public let tenantID: String
        /// Taken over from another consumer (XAUTOCLAIM): that worker may have died mid-sync.
        public var reclaimed: Bool = false

        public init(entryID: String, tenantID: String, reclaimed: Bool = false) {
            self.entryID = entryID
            self.tenantID = tenantID
            self.reclaimed = reclaimed
        }
    }

    /// New entries for this consumer (each goes to exactly one consumer of the group).
    public func read(_ id: String, consumer: String, count: Int) throws(StoreError) -> [Work] {
        let reply = try Self.finishedIsEmpty(store.pipeline([RedisCommand(
            "XREADGROUP", "GROUP", RedisArgument(Self.group), RedisArgument(consumer), "COUNT", RedisArgument(count), "STREAMS",
            RedisArgument(keys.syncRunQueue(id)), ">")]))
        return Self.work(reply.arrayValue?.first?.arrayValue?.dropFirst().first)
    }

    /// Entries another consumer took and has not acknowledged for `idleMilliseconds` (it died or
    /// hangs): they become this consumer's.
    public func reclaim(_ id: String, consumer: String, idleMilliseconds: Int, count: Int) throws(StoreError) -> [Work] {
        let reply = try Self.finishedIsEmpty(store.pipeline([RedisCommand(
            "XAUTOCLAIM", RedisArgument(keys.syncRunQueue(id)), RedisArgument(Self.group), RedisArgument(consumer),
            RedisArgument(idleMilliseconds), "0-0", "COUNT", RedisArgument(count))]))
        return Self.work(reply.arrayValue.flatMap { $0.count > 1 ? $0[1] : nil }).map {
            Work(entryID: $0.entryID, tenantID: $0.tenantID, reclaimed: true)
        }
    }

    /// The queue of a finished run is gone (NOGROUP): nothing left to read, not a failure.
    static func finishedIsEmpty(_ replies: [RedisValue]) throws(StoreError) -> RedisValue {
        if case .error(let message) = replies[0] {
            if message.hasPrefix("NOGROUP") { return .null }
            throw .commandFailed(String(message.prefix(120)))
        }
        return replies[0]
    }

    static func work(_ entries: RedisValue?) -> [Work] {
        (entries?.arrayValue ?? []).compactMap { entry in
            guard let parts = entry.arrayValue, parts.count == 2, let entryID = parts[0].stringValue,
                let fields = parts[1].arrayValue, fields.count >= 2, let tenantID = fields[1].stringValue
            else { return nil }
            return Work(entryID: entryID, tenantID: tenantID)
        }
    }

    public enum Outcome: String, Sendable {
        case synced, failed, deferred
    }

    /// Acknowledges one tenant and counts its outcome, only if this consumer's XACK removed the
    /// entry (an entry reclaimed and finished by another worker is not counted twice).
    @discardableResult
    public func finish(_ id: String, _ work: Work, _ outcome: Outcome, error: String? = nil) throws(StoreError) -> Bool {
        let reply = try store.run(RedisCommand(
            "EVAL", RedisArgument(Self.finishScript), 3, RedisArgument(keys.syncRun(id)), RedisArgument(keys.syncRunQueue(id)),
            RedisArgument(keys.syncRunErrors(id)), RedisArgument(work.entryID), RedisArgument(outcome.rawValue),
            RedisArgument(error.map { "\(work.tenantID): \($0)" } ?? ""), RedisArgument(Self.group), RedisArgument(Self.keepSeconds)))
        return reply.intValue == 1
    }

    static let finishScript = """
        if redis.call('XACK', KEYS[2], ARGV[4], ARGV[1]) == 0 then return 0 end
        redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
        if ARGV[3] ~= '' then
          redis.call('LPUSH', KEYS[3], ARGV[3])
          redis.call('LTRIM', KEYS[3], 0, 49)
          redis.call('EXPIRE', KEYS[3], ARGV[5])
        end
        return 1
        """

    /// Entries delivered to some consumer and not acknowledged yet.
    public func pending(_ id: String) throws(StoreError) -> Int {
        let reply = try store.run(RedisCommand("XPENDING", RedisArgument(keys.syncRunQueue(id)), RedisArgument(Self.group)))
        return reply.arrayValue?.first?.intValue ?? 0
    }

    /// Marks the run done when the index has been read and every queued tenant was acknowledged
    /// (each is counted exactly once, by the XACK that removed it); returns
    /// true when the run is (now or already) done. Idempotent: several workers may call it.
    @discardableResult
    public func finishIfComplete(_ id: String) throws(StoreError) -> Bool {
        let reply = try store.run(RedisCommand(
            "EVAL", RedisArgument(Self.completeScript), 4, RedisArgument(keys.syncRun(id)), RedisArgument(keys.syncRunQueue(id)),
            RedisArgument(keys.syncRunQueued(id)), RedisArgument(keys.syncRunCurrent), RedisArgument(id),
            RedisArgument(ISO8601.format(clock.now())), RedisArgument(Self.group), RedisArgument(keys.syncRunLast),
            RedisArgument(Self.keepSeconds)))
        return reply.intValue == 1
    }

    static let completeScript = """
        local state = redis.call('HGET', KEYS[1], 'state')
        if not state or state == 'done' then return 1 end
        if redis.call('HGET', KEYS[1], 'cursor') ~= 'done' then return 0 end
        local queued = tonumber(redis.call('HGET', KEYS[1], 'queued') or '0')
        local counted = 0
        for _, f in ipairs({'synced', 'failed', 'deferred'}) do counted = counted + tonumber(redis.call('HGET', KEYS[1], f) or '0') end
        if counted < queued then return 0 end
        redis.call('HSET', KEYS[1], 'state', 'done', 'finished_at', ARGV[2])
        redis.call('EXPIRE', KEYS[1], ARGV[5])
        redis.call('DEL', KEYS[2], KEYS[3])
        if redis.call('GET', KEYS[4]) == ARGV[1] then redis.call('DEL', KEYS[4]) end
        redis.call('SET', ARGV[4], ARGV[1])
        return 1
        """
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
