/// Re-seals every tenant's secrets with the first key of the ring (`igmedia-fcgi rekey`).
///
/// Safe while the service serves and syncs: each value is replaced by compare-and-set (a Lua
/// script: HSET only if the field still holds what was read), so a token refreshed meanwhile is
/// never overwritten with the old one; it is re-read and, if it is not sealed with the first key
/// yet, re-sealed. Resumable: a value already sealed with the first key is left alone, so an
/// interrupted run is finished by running it again. The blind index moves to the first key too.
/// Run it after every responder and timer uses the new ring (first key new, old key still listed).
public struct Rekey: Sendable {
    public struct Report: Sendable, Equatable {
        public var tenants = 0
        public var resealed = 0
        public var alreadyCurrent = 0
        /// Values no key of the ring opens (reported by field, never by value).
        public var unreadable = 0
        /// Key id → values sealed with it (the dry run's answer; before re-sealing for a real run).
        public var byKey: [String: Int] = [:]
        public var indexMoved = 0
    }

    static let sealedFields = [TenantField.accountID, TenantField.accountSecret, TenantField.accessToken, TenantField.metaUserID]

    static let compareAndSet =
        "if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) return 1 else return 0 end"

    let repository: TenantRepository

    public init(repository: TenantRepository) { self.repository = repository }

    public func run(dryRun: Bool, progress: ((Report) -> Void)? = nil) throws(StoreError) -> Report {
        var report = Report()
        for tenantID in try repository.allTenantIDs() {
            try rekey(tenantID, dryRun: dryRun, report: &report)
            report.tenants += 1
            if report.tenants % 100 == 0 { progress?(report) }
        }
        return report
    }

    private func rekey(_ tenantID: String, dryRun: Bool, report: inout Report) throws(StoreError) {
        let secrets = repository.secrets
        let store = repository.store
        let key = RedisArgument(repository.keys.tenant(tenantID))
        guard let hash = try repository.rawHash(tenantID) else { return }
        var accountID: String?
        var metaUserID: String?
        for field in Self.sealedFields {
            guard var stored = hash[field], !stored.isEmpty else { continue }
            guard let keyID = try? secrets.keyID(of: stored, tenantID: tenantID, field: field) else {
                report.unreadable += 1
                continue
            }
            report.byKey[keyID, default: 0] += 1
            if field == TenantField.accountID { accountID = try? secrets.open(stored, tenantID: tenantID, field: field) }
            if field == TenantField.metaUserID { metaUserID = try? secrets.open(stored, tenantID: tenantID, field: field) }
            if secrets.isCurrent(stored, tenantID: tenantID, field: field) {
                report.alreadyCurrent += 1
                continue
            }
            guard !dryRun else { continue }
            // A concurrent write (a refresh) changes the field: read it again and retry.
            for _ in 0..<5 {
                guard let plaintext = try? secrets.open(stored, tenantID: tenantID, field: field) else {
                    report.unreadable += 1
                    break
                }
                let resealed = secrets.seal(plaintext, tenantID: tenantID, field: field)
                let swapped = try store.run(RedisCommand(
                    "EVAL", RedisArgument(Self.compareAndSet), 1, key, RedisArgument(field), RedisArgument(stored),
                    RedisArgument(resealed)))
                if swapped.intValue == 1 {
                    report.resealed += 1
                    break
                }
                guard let now = try store.run(RedisCommand("HGET", key, RedisArgument(field))).stringValue else { break }
                if secrets.isCurrent(now, tenantID: tenantID, field: field) {
                    report.alreadyCurrent += 1
                    break
                }
                stored = now
            }
        }
        guard !dryRun else { return }
        for (plaintext, field) in [(accountID, TenantField.blindIndex), (metaUserID, TenantField.metaUserIndex)] {
            guard let plaintext else { continue }
            let current = secrets.blindIndexes(plaintext)[0]
            guard hash[field] != current else { continue }
            var commands = [
                RedisCommand("SADD", RedisArgument(repository.keys.accountIndex(current)), RedisArgument(tenantID)),
                RedisCommand("HSET", key, RedisArgument(field), RedisArgument(current)),
            ]
            if let old = hash[field] {
                commands.append(RedisCommand("SREM", RedisArgument(repository.keys.accountIndex(old)), RedisArgument(tenantID)))
            }
            try repository.checked(store.transaction(commands))
            report.indexMoved += 1
        }
    }
}
