import Logging

/// Keeps one tenant's feed fresh: lock → refresh token if due → fetch media → diff against
/// what is mirrored → upload new, destroy gone, keep unchanged → write the feed in one SET.
///
/// A failure to fetch leaves the stored feed exactly as it was; an item whose upload fails keeps
/// its Instagram URL and is retried on the next sync.
public struct SyncEngine: Sendable {
    let repository: TenantRepository
    let instagram: any InstagramAPI
    let mirror: (any MediaMirror)?
    let lock: SyncLock
    let clock: any Clock
    let logger: Logger
    let mediaLimit: Int
    let photosTTLSeconds: Int
    let tokenRefreshAfterHours: Int
    /// This process's cache of ready /photos bodies, refreshed as soon as a sync writes a feed.
    let feedCache: FeedCache?
    /// Meta's rate limits (nil: not watched).
    public var rateGate: GraphRateGate?
    /// Where each sync's outcome is counted (`igmedia_sync_*`).
    public var metrics: ServiceMetrics = .shared
    /// Tenants' webhooks: `feed.updated`, `token.invalid`, `token.expiring`, `sync.failed` (nil: none).
    public var webhooks: Webhooks?

    public init(
        repository: TenantRepository, instagram: any InstagramAPI, mirror: (any MediaMirror)?, lock: SyncLock,
        clock: any Clock, logger: Logger, mediaLimit: Int, photosTTLSeconds: Int, tokenRefreshAfterHours: Int,
        feedCache: FeedCache? = nil
    ) {
        self.feedCache = feedCache
        self.repository = repository
        self.instagram = instagram
        self.mirror = mirror
        self.lock = lock
        self.clock = clock
        self.logger = logger
        self.mediaLimit = mediaLimit
        self.photosTTLSeconds = photosTTLSeconds
        self.tokenRefreshAfterHours = tokenRefreshAfterHours
    }

    public func sync(tenantID: String) throws(SyncError) -> SyncResult {
        let started = clock.monotonicNanoseconds()
        let result = Result { () throws(SyncError) in try syncMeasured(tenantID, started: started) }
        metrics.syncs.record(result, nanoseconds: clock.monotonicNanoseconds() &- started)
        return try result.get()
    }

    private func syncMeasured(_ tenantID: String, started: UInt64) throws(SyncError) -> SyncResult {
        let owner: String
        do {
            guard let acquired = try lock.acquire(tenantID) else { throw SyncError.locked }
            owner = acquired
        } catch let error as SyncError {
            throw error
        } catch {
            throw .storeFailed(error as? StoreError ?? .unavailable("lock"))
        }
        defer {
            do {
                try lock.release(tenantID, owner: owner)
            } catch {
                logger.warning("sync lock release failed; it expires on its own", metadata: ["tenant": "\(tenantID)"])
            }
        }
        var result = try syncLocked(tenantID)
        result.durationMilliseconds = Int((clock.monotonicNanoseconds() - started) / 1_000_000)
        return result
    }

    private func syncLocked(_ tenantID: String) throws(SyncError) -> SyncResult {
        var tenant: Tenant
        do {
            guard let loaded = try repository.load(tenantID) else { throw SyncError.tenantNotFound }
            tenant = loaded
        } catch let error as SyncError {
            throw error
        } catch let error as StoreError {
            throw .storeFailed(error)
        } catch {
            throw .tenantUnreadable("\(error)")
        }
        guard tenant.deletingSince == nil else { throw .tenantNotFound }
        guard let currentToken = tenant.instagramAccessToken else {
            recordError(tenantID, SyncError.noAccessToken.description, .noAccessToken)
            throw .noAccessToken
        }
        // A dead token is never sent to Instagram again: only a new token revives the tenant.
        if tenant.health.state(now: clock.now(), hasToken: true, apiType: tenant.apiType, expiringDays: 1) == .invalid {
            throw .tokenInvalid(tenant.health.invalidReason ?? .tokenExpired)
        }

        let refreshResult = refreshIfDue(&tenant, token: currentToken)
        let token = tenant.instagramAccessToken ?? currentToken

        let account = tenant.instagramAccountID
        let now = clock.now()
        // Paused by Meta (this app, or this account, seen here or by another host): deferred, no call.
        if let until = rateGate?.appBlockedUntil(now: now) ?? rateGate?.accountBlockedUntil(account, now: now)
            ?? tenant.health.rateLimitedUntil.flatMap({ $0 > now ? $0 : nil })
        {
            deferTenant(tenantID, until: until, strike: false)
            throw .rateLimited(untilUnix: Int(until))
        }
        let media: [InstagramMedia]
        do {
            media = try instagram.fetchMedia(
                apiType: tenant.apiType, accountID: account, accessToken: token, limit: mediaLimit)
        } catch {
            if error.kind == .rateLimited {
                let until = rateGate?.throttled(error, account: account, strikes: tenant.health.rateLimitStrikes, now: clock.now())
                    ?? clock.now() + GraphRateGate.baseBackoffSeconds
                deferTenant(tenantID, until: until, strike: true, reason: error.description)
                throw .rateLimited(untilUnix: Int(until))
            }
            recordError(tenantID, error.description, HealthErrorCode.classify(error))
            throw .fetchFailed(error)
        }
        if let rateGate {
            rateGate.succeeded()
            let deferUntil = rateGate.accountBlockedUntil(account, now: clock.now())
            if deferUntil != nil || tenant.health.rateLimitStrikes > 0 || tenant.health.rateLimitedUntil != nil {
                do {
                    try repository.recordFetchUsage(tenantID: tenantID, deferUntil: deferUntil)
                } catch {
                    logger.warning("could not record Meta's usage for the tenant", metadata: ["tenant": "\(tenantID)"])
                }
            }
        }

        var existing: [AssetKey: String] = [:]
        if mirror != nil {
            do {
                existing = try repository.mirroredAssets(tenantID)
            } catch {
                throw .storeFailed(error)
            }
        }
        let plan = MirrorPlan(tenantID: tenantID, media: media, existing: existing)
        var mirrored = plan.kept
        var added: [AssetKey: String] = [:]
        var failed = 0
        var removed: [AssetKey] = []
        if let mirror {
            let results = plan.uploads.isEmpty ? [] : mirror.upload(plan.uploads.map(\.upload))
            for ((key, _), result) in zip(plan.uploads, results) {
                switch result {
                case .success(let asset):
                    mirrored[key] = asset.secureURL
                    added[key] = asset.secureURL
                case .failure(let error):
                    failed += 1
                    logger.warning("upload failed; serving Instagram's URL", metadata: ["tenant": "\(tenantID)", "error": "\(error)"])
                }
            }
            if !plan.removed.isEmpty {
                let targets = plan.removed.map { (publicID: $0.publicID, resourceType: $0.kind.rawValue) }
                for (key, outcome) in zip(plan.removed, mirror.destroy(targets)) {
                    if case .success = outcome { removed.append(key) }
                }
            }
        }

        let feed = FeedBuilder(tenantID: tenantID, mirrored: mirrored).build(media)
        let bytes = JSONWriter.encode(feed)
        let etag = FeedBuilder.etag(bytes)
        let previousETag: String?
        do {
            previousETag = try repository.commitSync(
                tenantID: tenantID, feedJSON: bytes, etag: etag, ttlSeconds: photosTTLSeconds,
                addedAssets: added, removedAssets: removed, syncedAt: ISO8601.format(clock.now()),
                photosCount: feed.arrayValue?.count ?? 0, existingAssets: mirror == nil ? nil : existing)
        } catch {
            throw .storeFailed(error)
        }
        feedCache?.remove(tenantID)
        if let webhooks, previousETag != etag {
            webhooks.emit(.feedUpdated, tenantID: tenantID, data: [
                ("photosCount", .int(feed.arrayValue?.count ?? 0)), ("etag", .string(etag)),
                ("uploaded", .int(added.count)), ("deleted", .int(removed.count)),
            ])
        }
        if let webhooks, let expiresAt = tenant.health.tokenExpiresAt, expiresAt - clock.now() < Double(webhooks.settings.tokenExpiringDays) * 86_400 {
            webhooks.emitOnce(.tokenExpiring, tenantID: tenantID, marker: String(Int(expiresAt)), data: [
                ("expiresAt", .string(ISO8601.format(expiresAt))),
            ])
        }
        return SyncResult(
            photosCount: feed.arrayValue?.count ?? 0, uploaded: added.count, deleted: removed.count,
            kept: plan.kept.count, failed: failed, refreshTokenResult: refreshResult, durationMilliseconds: 0)
    }

    /// Refreshes the token when it is older than the policy allows; a failed refresh is recorded
    /// and the sync goes on with the current token.
    private func refreshIfDue(_ tenant: inout Tenant, token: String) -> RefreshOutcome {
        let now = clock.now()
        if let updated = tenant.tokenUpdate.flatMap(ISO8601.parse), now - updated < Double(tokenRefreshAfterHours) * 3600 {
            return .notDue
        }
        do {
            let refreshed = try instagram.refreshToken(
                apiType: tenant.apiType, accessToken: token, appID: tenant.instagramAppID, appSecret: tenant.instagramAccountSecret)
            try repository.updateAccessToken(
                tenantID: tenant.id, token: refreshed.accessToken, at: ISO8601.format(now),
                expiresAt: refreshed.expiresIn.map { now + Double($0) })
            tenant.instagramAccessToken = refreshed.accessToken
            tenant.tokenUpdate = ISO8601.format(now)
            return .refreshed
        } catch let error as UpstreamError {
            // Even a 190 here is not the last word: the media call right after uses the same
            // token, and its answer decides whether the token is dead.
            logger.warning("token refresh failed", metadata: ["tenant": "\(tenant.id)", "error": "\(error)"])
            do {
                try repository.recordRefreshFailure(tenantID: tenant.id, at: ISO8601.format(now))
            } catch {
                logger.warning("could not record the refresh failure", metadata: ["tenant": "\(tenant.id)"])
            }
            return .failed("\(error)")
        } catch {
            logger.warning("token refresh failed", metadata: ["tenant": "\(tenant.id)", "error": "\(error)"])
            return .failed("\(error)")
        }
    }

    private func deferTenant(_ tenantID: String, until: Double, strike: Bool, reason: String? = nil) {
        logger.info("tenant deferred: Meta rate limit", metadata: ["tenant": "\(tenantID)", "until": "\(ISO8601.format(until))"])
        do {
            try repository.recordRateLimited(tenantID: tenantID, until: until, at: ISO8601.format(clock.now()), strike: strike, reason: reason)
        } catch {
            logger.warning("could not record the rate-limit deferral", metadata: ["tenant": "\(tenantID)"])
        }
    }

    private func recordError(_ tenantID: String, _ message: String, _ code: HealthErrorCode) {
        do {
            let failures = try repository.recordSyncError(tenantID: tenantID, message: message, code: code, at: ISO8601.format(clock.now()))
            guard let webhooks else { return }
            // A dead token is never sent to Instagram again, so this error is the one that killed it.
            if code.invalidatesToken {
                webhooks.emit(.tokenInvalid, tenantID: tenantID, data: [("code", .string(code.rawValue)), ("error", .string(String(message.prefix(300))))])
            }
            if failures == webhooks.settings.syncFailedAfter {
                webhooks.emit(.syncFailed, tenantID: tenantID, data: [
                    ("consecutiveFailures", .int(failures)), ("code", .string(code.rawValue)), ("error", .string(String(message.prefix(300)))),
                ])
            }
        } catch {
            logger.warning("could not record the sync error", metadata: ["tenant": "\(tenantID)"])
        }
    }
}
