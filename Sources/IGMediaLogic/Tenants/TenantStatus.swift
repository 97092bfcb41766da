/// The one-screen summary of `igmedia-fcgi status`, from counters and indexes kept by every
/// sync (never a walk over every tenant), with monitoring-plugin exit codes.
public struct TenantStatus: Sendable {
    public var storeReachable: Bool
    public var total = 0
    public var invalid = 0
    public var expiring = 0
    public var missing = 0
    public var deleting = 0
    /// Unix seconds of the oldest last-successful sync among tenants that have one.
    public var oldestSuccessfulSync: Double?
    public var failuresLastHour = 0
    public var error: String?

    /// 0 OK, 1 WARNING, 2 CRITICAL (Nagios/Icinga plugin convention).
    public func exitCode(now: Double) -> Int32 {
        if !storeReachable || invalid > 0 { return 2 }
        if expiring > 0 { return 1 }
        if let oldest = oldestSuccessfulSync, now - oldest > 7200 { return 1 }
        return 0
    }

    public var ok: Int { max(0, total - invalid - expiring - missing) }

    public static func read(repository: TenantRepository, now: Double, expiringDays: Int) -> TenantStatus {
        var status = TenantStatus(storeReachable: false)
        let keys = repository.keys
        do {
            let replies = try repository.store.pipeline([
                RedisCommand("SCARD", RedisArgument(keys.tenantIndex)),
                RedisCommand("SCARD", RedisArgument(keys.tenantsWithoutToken)),
                RedisCommand("SCARD", RedisArgument(keys.deletingTenants)),
                RedisCommand("ZRANGE", RedisArgument(keys.lastSuccess), 0, 0, "WITHSCORES"),
                RedisCommand("ZCOUNT", RedisArgument(keys.failingTenants), RedisArgument(Int(now) - 3600), "+inf"),
                RedisCommand(
                    "ZRANGEBYSCORE", RedisArgument(keys.tokenExpiry), RedisArgument("(\(Int(now))"),
                    RedisArgument(Int(now) + expiringDays * 86_400), "LIMIT", 0, 10_000),
            ])
            for reply in replies { if case .error(let message) = reply { throw StoreError.commandFailed(String(message.prefix(80))) } }
            status.storeReachable = true
            status.total = replies[0].intValue ?? 0
            status.missing = replies[1].intValue ?? 0
            status.deleting = replies[2].intValue ?? 0
            if let pair = replies[3].arrayValue, pair.count == 2 { status.oldestSuccessfulSync = pair[1].stringValue.flatMap(Double.init) }
            status.failuresLastHour = replies[4].intValue ?? 0
            status.invalid = try repository.unsyncableTenantIDs(now: now).count
            // Near expiry is `expiring` only when refreshing failed or cannot work: ask each one.
            for member in replies[5].arrayValue ?? [] {
                guard let id = member.stringValue else { continue }
                if (try? repository.view(id, now: now, expiringDays: expiringDays))??.tokenState == .expiring { status.expiring += 1 }
            }
        } catch {
            status.error = "\(error)"
        }
        return status
    }
}
