import Logging

/// Removes a tenant completely: every key that names it and every asset mirrored for it.
///
/// Resumable: the first step marks the tenant `deleting` (it is no longer served, synced or
/// listed, and its auth tokens stop working); the CDN folder is emptied; the last step removes
/// the tenant hash with everything left in one MULTI/EXEC. A failure anywhere leaves the mark,
/// so a repeat (`DELETE /tenant`, the admin API, `tenants delete`, or the next `sync --all`)
/// finishes the job.
public struct TenantDeletion: Sendable {
    public struct Counts: Sendable, Equatable {
        public var keys: Int
        public var assets: Int
    }

    public enum Failure: Error, Sendable, CustomStringConvertible, ClientVisibleError {
        case notFound
        /// A sync holds the tenant's lock; retry when it is done.
        case syncRunning
        case store(StoreError)
        case cdn(UpstreamError)

        public var description: String {
            switch self {
            case .notFound: return "tenant not found"
            case .syncRunning: return "a sync of this tenant is running"
            case .store(let error): return error.description
            case .cdn(let error): return "deleting the mirrored assets failed: \(error)"
            }
        }

        public var httpError: HTTPError {
            switch self {
            case .notFound: return .notFound("Tenant not found")
            case .syncRunning:
                return HTTPError(.conflict, "A sync of this tenant is running; retry in a few seconds", headers: [("Retry-After", "5")])
            case .store(let error): return error.httpError
            case .cdn(let error):
                return HTTPError(
                    .serviceUnavailable, "Deleting the mirrored assets failed (\(error.kind.rawValue)); repeat the request to finish",
                    headers: [("Retry-After", "30")])
            }
        }
    }

    let repository: TenantRepository
    let mirror: (any MediaMirror)?
    let clock: any Clock
    let logger: Logger
    let authCache: AuthTokenCache?
    let feedCache: FeedCache?
    /// Sends `tenant.deleted` (the delivery keeps what it needs; the webhook goes with the tenant).
    public var webhooks: Webhooks?

    public init(
        repository: TenantRepository, mirror: (any MediaMirror)?, clock: any Clock, logger: Logger,
        authCache: AuthTokenCache? = nil, feedCache: FeedCache? = nil
    ) {
        self.repository = repository
        self.mirror = mirror
        self.clock = clock
        self.logger = logger
        self.authCache = authCache
        self.feedCache = feedCache
    }

    private var store: any RedisStore { repository.store }
    private var keys: KeySpace { repository.keys }

    public func delete(_ tenantID: String) throws(Failure) -> Counts {
        let hash: [String: String]
        do {
            hash = try store.run(RedisCommand("HGETALL", RedisArgument(keys.tenant(tenantID)))).hashValue ?? [:]
        } catch {
            throw .store(error)
        }
        guard !hash.isEmpty else { throw .notFound }
        let lock = SyncLock(store: store, keys: keys, ttlSeconds: 600)
        do {
            // Held until the end (its key goes with the rest): no sync can write the feed back.
            if try lock.acquire(tenantID) == nil, hash[TenantField.deletingSince] == nil { throw Failure.syncRunning }
        } catch let error as Failure {
            throw error
        } catch {
            throw .store(error as? StoreError ?? .unavailable("lock"))
        }
        var counts = Counts(keys: 0, assets: 0)
        if hash[TenantField.deletingSince] == nil {
            // Once: a repeat that finishes an interrupted deletion does not announce it again.
            webhooks?.emit(.tenantDeleted, tenantID: tenantID, data: [("deletedAt", .string(ISO8601.format(clock.now())))])
        }
        do {
            counts.keys += try stopServing(tenantID, hash)
        } catch {
            throw .store(error)
        }
        if let authToken = hash[TenantField.authToken] { authCache?.remove(authToken) }
        if let previous = hash[TenantField.previousAuthToken] { authCache?.remove(previous) }
        feedCache?.remove(tenantID)
        if let mirror {
            do {
                counts.assets = try mirror.deleteByPrefix(AssetKey.folder(tenantID: tenantID))
            } catch {
                logger.warning("tenant deletion paused: CDN", metadata: ["tenant": "\(tenantID)", "error": "\(error)"])
                throw .cdn(error)
            }
        }
        do {
            counts.keys += try removeEverything(tenantID, hash)
        } catch {
            throw .store(error)
        }
        logger.info("tenant deleted", metadata: ["tenant": "\(tenantID)", "keys": "\(counts.keys)", "assets": "\(counts.assets)"])
        return counts
    }

    /// Step 1: mark, stop the tokens and the feed, leave every index. Returns keys deleted.
    private func stopServing(_ tenantID: String, _ hash: [String: String]) throws(StoreError) -> Int {
        let id = RedisArgument(tenantID)
        var commands = [
            RedisCommand("HSET", RedisArgument(keys.tenant(tenantID)), RedisArgument(TenantField.deletingSince),
                         RedisArgument(hash[TenantField.deletingSince] ?? ISO8601.format(clock.now()))),
            RedisCommand("SADD", RedisArgument(keys.deletingTenants), id),
            RedisCommand("SREM", RedisArgument(keys.tenantIndex), id),
            RedisCommand("SREM", RedisArgument(keys.invalidTenants), id),
            RedisCommand("SREM", RedisArgument(keys.tenantsWithoutToken), id),
            RedisCommand("ZREM", RedisArgument(keys.tokenExpiry), id),
            RedisCommand("ZREM", RedisArgument(keys.lastSuccess), id),
            RedisCommand("ZREM", RedisArgument(keys.failingTenants), id),
        ]
        var deletions = [keys.photos(tenantID), keys.photosETag(tenantID)]
        for field in [TenantField.authToken, TenantField.previousAuthToken] {
            if let token = hash[field], !token.isEmpty { deletions.append(keys.authToken(token)) }
        }
        for field in [TenantField.blindIndex, TenantField.metaUserIndex] {
            if let index = hash[field] { commands.append(RedisCommand("SREM", RedisArgument(keys.accountIndex(index)), id)) }
        }
        let tokens = [TenantField.authToken, TenantField.previousAuthToken].compactMap { hash[$0] }.filter { !$0.isEmpty }
        commands.append(repository.changeRecord(feeds: [tenantID], tokens: tokens))
        let first = commands.count
        commands += deletions.map { RedisCommand("DEL", RedisArgument($0)) }
        let replies = try repository.checkedReplies(store.transaction(commands))
        return replies[first...].reduce(0) { $0 + ($1.intValue ?? 0) }
    }

    /// Last step: the delivery records, the asset map, the lock, the management token and the
    /// hash itself. Returns keys deleted.
    private func removeEverything(_ tenantID: String, _ hash: [String: String]) throws(StoreError) -> Int {
        var deleted = 0
        let seenIndex = keys.qstashSeenIndex(tenantID)
        let messageIDs = (try store.run(RedisCommand("SMEMBERS", RedisArgument(seenIndex))).arrayValue ?? []).compactMap(\.stringValue)
        for batch in stride(from: 0, to: messageIDs.count, by: 500) {
            let slice = messageIDs[batch..<min(batch + 500, messageIDs.count)]
            let reply = try store.run(RedisCommand("DEL", slice.map { RedisArgument(keys.qstashSeen(tenantID: tenantID, messageID: $0)) }))
            deleted += reply.intValue ?? 0
        }
        var doomed = [
            keys.mirroredAssets(tenantID), keys.syncLock(tenantID), seenIndex, keys.tenant(tenantID), keys.webhook(tenantID),
            keys.webhookDeliveries(tenantID),
        ]
        if let hash = hash[TenantField.managementTokenHash] { doomed.append(keys.managementToken(hash: hash)) }
        var commands = doomed.map { RedisCommand("DEL", RedisArgument($0)) }
        commands.append(RedisCommand("SREM", RedisArgument(keys.deletingTenants), RedisArgument(tenantID)))
        let replies = try repository.checkedReplies(store.transaction(commands))
        // The lock was ours; it is not the tenant's data.
        return deleted + replies.prefix(doomed.count).enumerated().reduce(0) { sum, item in
            sum + (item.offset == 1 ? 0 : (item.element.intValue ?? 0))
        }
    }

    /// Finishes deletions that a crash or an outage interrupted (the timer calls this).
    public static func finishPending(services: ServiceFactory.Services, logger: Logger) throws(StoreError) {
        let pending = (try services.store.run(RedisCommand("SMEMBERS", RedisArgument(services.keys.deletingTenants))).arrayValue ?? [])
            .compactMap(\.stringValue)
        guard !pending.isEmpty else { return }
        let deletion = TenantDeletion(repository: services.repository, mirror: services.mirror, clock: services.clock, logger: logger)
        for tenantID in pending.prefix(1000) {
            do {
                _ = try deletion.delete(tenantID)
            } catch .notFound {
                _ = try? services.store.run(RedisCommand("SREM", RedisArgument(services.keys.deletingTenants), RedisArgument(tenantID)))
            } catch {
                logger.warning("pending tenant deletion not finished", metadata: ["tenant": "\(tenantID)", "error": "\(error)"])
            }
        }
    }
}
