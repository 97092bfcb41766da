/// Pages over tenants for operators, with an opaque cursor: never one reply holding every
/// tenant, and the work of a page is bounded by its `limit`.
///
/// Without a state (or for `ok` and `missing`), the tenant index is walked with SSCAN and each
/// page filtered; `invalid` walks the set of dead tokens, then the expiry index up to now;
/// `expiring` walks the expiry index from now to now + `TOKEN_EXPIRING_DAYS`. Like any SCAN, a
/// walk may show a tenant twice if the index changes meanwhile, and a page may hold fewer than
/// `limit` tenants while the cursor goes on.
public struct TenantListing: Sendable {
    public struct Page: Sendable {
        public var tenants: [TenantView]
        /// Ids whose record could not be read (undecryptable, incomplete).
        public var unreadable: [String]
        public var nextCursor: String?
    }

    public struct BadCursor: Error {}

    let repository: TenantRepository
    let expiringDays: Int

    public init(repository: TenantRepository, expiringDays: Int) {
        self.repository = repository
        self.expiringDays = expiringDays
    }

    public func page(state: TokenState?, limit: Int, cursor: String?, now: Double) throws -> Page {
        let limit = max(1, min(limit, 500))
        var page = Page(tenants: [], unreadable: [], nextCursor: nil)
        var cursor = cursor ?? Self.start(state)
        var rounds = 0
        while page.tenants.count < limit, rounds < 10 {
            rounds += 1
            let (ids, next) = try candidates(cursor: cursor, count: limit - page.tenants.count, now: now)
            for id in ids {
                do {
                    guard let view = try repository.view(id, now: now, expiringDays: expiringDays) else { continue }
                    if state == nil || view.tokenState == state { page.tenants.append(view) }
                } catch let error as StoreError {
                    throw error
                } catch {
                    page.unreadable.append(id)
                }
            }
            guard let next else { return page }
            cursor = next
        }
        page.nextCursor = cursor
        return page
    }

    static func start(_ state: TokenState?) -> String {
        switch state {
        case .invalid?: return "i:0"
        case .expiring?: return "e:0"
        default: return "a:0"
        }
    }

    /// The ids of one step of the walk, and the cursor after it (nil: done).
    private func candidates(cursor: String, count: Int, now: Double) throws -> ([String], String?) {
        let store = repository.store
        let keys = repository.keys
        guard cursor.count > 2, cursor.dropFirst().first == ":" else { throw BadCursor() }
        let phase = cursor.first
        let position = String(cursor.dropFirst(2))
        switch phase {
        case "a", "i":
            guard position.allSatisfy(\.isNumber) else { throw BadCursor() }
            let set = phase == "a" ? keys.tenantIndex : keys.invalidTenants
            let reply = try store.run(RedisCommand("SSCAN", RedisArgument(set), RedisArgument(position), "COUNT", RedisArgument(max(count, 50))))
            guard let parts = reply.arrayValue, parts.count == 2, let next = parts[0].stringValue else {
                throw StoreError.protocolError("unexpected SSCAN reply")
            }
            let ids = (parts[1].arrayValue ?? []).compactMap(\.stringValue)
            if next != "0" { return (ids, "\(phase!):\(next)") }
            return (ids, phase == "i" ? "x:0" : nil)
        case "x", "e":
            guard let offset = Int(position), offset >= 0 else { throw BadCursor() }
            let (low, high) = phase == "x" ? ("-inf", String(Int(now))) : ("(\(Int(now))", String(Int(now) + expiringDays * 86_400))
            let reply = try store.run(RedisCommand(
                "ZRANGEBYSCORE", RedisArgument(keys.tokenExpiry), RedisArgument(low), RedisArgument(high), "LIMIT",
                RedisArgument(offset), RedisArgument(count)))
            let ids = (reply.arrayValue ?? []).compactMap(\.stringValue)
            return (ids, ids.count < count ? nil : "\(phase!):\(offset + ids.count)")
        default:
            throw BadCursor()
        }
    }
}
