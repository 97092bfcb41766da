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
        var position = try Position(cursor ?? Self.start(state))
        var rounds = 0
        while rounds < 10 {
            rounds += 1
            let (ids, next) = try candidates(position, count: limit - page.tenants.count, now: now)
            // Ids before `skip` were shown by the previous page (a step can return more than asked).
            for (index, id) in ids.enumerated() where index >= position.skip {
                if page.tenants.count == limit {
                    page.nextCursor = Position(phase: position.phase, at: position.at, skip: index).text
                    return page
                }
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
            position = next
            if page.tenants.count == limit { break }
        }
        page.nextCursor = position.text
        return page
    }

    /// Where a walk stands: its phase (`a` all, `i` invalid set, `x` expired, `e` expiring), the
    /// SSCAN cursor or range offset, and how many ids of that step were already shown.
    struct Position {
        var phase: Character
        var at: String
        var skip = 0

        init(phase: Character, at: String, skip: Int = 0) {
            self.phase = phase
            self.at = at
            self.skip = skip
        }

        init(_ text: String) throws {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard (2...3).contains(parts.count), parts[0].count == 1, let phase = parts[0].first, "aixe".contains(phase),
                !parts[1].isEmpty, parts[1].allSatisfy(\.isNumber), parts[1].count <= 20
            else { throw BadCursor() }
            self.phase = phase
            self.at = String(parts[1])
            if parts.count == 3 {
                guard let skip = Int(parts[2]), (0...10_000).contains(skip) else { throw BadCursor() }
                self.skip = skip
            }
        }

        var text: String { skip > 0 ? "\(phase):\(at):\(skip)" : "\(phase):\(at)" }
    }

    static func start(_ state: TokenState?) -> String {
        switch state {
        case .invalid?: return "i:0"
        case .expiring?: return "e:0"
        default: return "a:0"
        }
    }

    /// The ids of one step of the walk, and the position after it (nil: done).
    private func candidates(_ position: Position, count: Int, now: Double) throws -> ([String], Position?) {
        let store = repository.store
        let keys = repository.keys
        let phase = position.phase
        switch phase {
        case "a", "i":
            let set = phase == "a" ? keys.tenantIndex : keys.invalidTenants
            let reply = try store.run(RedisCommand(
                "SSCAN", RedisArgument(set), RedisArgument(position.at), "COUNT", RedisArgument(max(count, 10))))
            guard let parts = reply.arrayValue, parts.count == 2, let next = parts[0].stringValue else {
                throw StoreError.protocolError("unexpected SSCAN reply")
            }
            let ids = (parts[1].arrayValue ?? []).compactMap(\.stringValue)
            if next != "0" { return (ids, Position(phase: phase, at: next)) }
            return (ids, phase == "i" ? Position(phase: "x", at: "0") : nil)
        default:
            guard let offset = Int(position.at) else { throw BadCursor() }
            let (low, high) = phase == "x" ? ("-inf", String(Int(now))) : ("(\(Int(now))", String(Int(now) + expiringDays * 86_400))
            let step = max(count, 10) + position.skip
            let reply = try store.run(RedisCommand(
                "ZRANGEBYSCORE", RedisArgument(keys.tokenExpiry), RedisArgument(low), RedisArgument(high), "LIMIT",
                RedisArgument(offset), RedisArgument(step)))
            let ids = (reply.arrayValue ?? []).compactMap(\.stringValue)
            return (ids, ids.count < step ? nil : Position(phase: phase, at: String(offset + ids.count)))
        }
    }
}
