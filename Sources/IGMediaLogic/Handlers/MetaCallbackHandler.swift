import Logging

/// Meta's app callbacks (next-capabilities §4): `POST /meta/deauthorize` and
/// `POST /meta/data-deletion`, body `signed_request=<sig>.<payload>` (form, or JSON).
///
/// The tenants are found through the blind index of `user_id`; the signature is checked against
/// each one's app secret, in constant time, before anything changes. Only tenants whose secret
/// verifies are touched. A malformed request is 400; a signature no tenant's secret verifies
/// (forged, or a user this service does not know — the two look the same) is 401.
public struct MetaCallbackHandler: RequestHandler {
    public enum Kind: String, Sendable {
        case deauthorize
        case dataDeletion = "data-deletion"
    }

    let kind: Kind
    let repository: TenantRepository
    let deletion: TenantDeletion
    let clock: any Clock
    let logger: Logger
    /// Base of the status URL the deletion answer carries; nil = a relative path.
    let publicBaseURL: String?

    public init(
        kind: Kind, repository: TenantRepository, deletion: TenantDeletion, clock: any Clock, logger: Logger, publicBaseURL: String?
    ) {
        self.kind = kind
        self.repository = repository
        self.deletion = deletion
        self.clock = clock
        self.logger = logger
        self.publicBaseURL = publicBaseURL
    }

    static let statusTTLSeconds = 90 * 86_400

    public func handle(_ request: Request) throws -> Response {
        let signed: MetaSignedRequest
        do {
            signed = try MetaSignedRequest(try Self.signedRequestText(request))
        } catch let error as MetaSignedRequest.Failure {
            throw HTTPError.validation(error.description)
        }
        var tenants: [Tenant] = []
        for tenantID in try repository.tenantIDs(forAccount: signed.userID) {
            guard let tenant = try? repository.load(tenantID), tenant.deletingSince == nil || kind == .dataDeletion else { continue }
            if signed.isSigned(by: tenant.instagramAccountSecret) { tenants.append(tenant) }
        }
        guard !tenants.isEmpty else {
            logger.warning("meta callback signature rejected", metadata: ["kind": "\(kind.rawValue)", "id": "\(request.requestID)"])
            throw HTTPError.unauthorized("Invalid signed_request signature")
        }
        let store = repository.store
        let keys = repository.keys
        // Dedupe on (kind, user_id, issued_at): Meta may send one event twice.
        let eventKey = keys.metaCallbackSeen(Digest.hex(Digest.sha256(Array("\(kind.rawValue)\u{0}\(signed.userID)\u{0}\(signed.issuedAt ?? 0)".utf8))))
        let code = "del" + Digest.hex(SecureRandom.bytes(10))
        let first = try store.run(RedisCommand("SET", RedisArgument(eventKey), RedisArgument(code), "NX", "GET", "EX", 86_400))
        let now = ISO8601.format(clock.now())
        switch kind {
        case .deauthorize:
            if first.stringValue == nil {
                for tenant in tenants { try repository.markTokenInvalid(tenantID: tenant.id, code: .tokenRevoked, at: now) }
                logger.info("tenants deauthorized by Meta", metadata: ["count": "\(tenants.count)"])
            }
            return Envelope.success(.object([("deauthorized", .int(tenants.count))]))
        case .dataDeletion:
            let confirmation = first.stringValue ?? code
            let statusKey = RedisArgument(keys.dataDeletion(confirmation))
            _ = try store.transaction([
                RedisCommand("HSET", statusKey, "status", "in_progress", "requested_at", RedisArgument(now), "tenants", RedisArgument(tenants.count)),
                RedisCommand("EXPIRE", statusKey, RedisArgument(Self.statusTTLSeconds)),
            ])
            var finished = true
            for tenant in tenants {
                // A running sync holds the tenant's lock for seconds: wait for it a little.
                for attempt in 1...3 {
                    do {
                        _ = try deletion.delete(tenant.id)
                    } catch .notFound {
                    } catch .syncRunning where attempt < 3 {
                        Sleep.milliseconds(2000)
                        continue
                    } catch {
                        finished = false
                        // Queued for the timer's `sync --all`, which finishes pending deletions.
                        _ = try? store.run(RedisCommand("SADD", RedisArgument(keys.deletingTenants), RedisArgument(tenant.id)))
                        logger.warning("data deletion not finished; the timer or a repeat finishes it", metadata: ["tenant": "\(tenant.id)", "error": "\(error)"])
                    }
                    break
                }
            }
            if finished {
                _ = try store.run(RedisCommand("HSET", statusKey, "status", "completed", "completed_at", RedisArgument(ISO8601.format(clock.now()))))
            }
            let path = "/meta/data-deletion/\(confirmation)"
            // Meta reads exactly these two fields, so this answer is not the envelope.
            let body = JSONValue.object([
                ("url", .string((publicBaseURL ?? "") + path)), ("confirmation_code", .string(confirmation)),
            ])
            return .json(.ok, body: JSONWriter.encode(body))
        }
    }

    /// `signed_request` from a form body, or from a JSON object.
    static func signedRequestText(_ request: Request) throws -> String {
        let contentType = request.headers["Content-Type"]?.lowercased() ?? ""
        if JSONBody.isJSON(contentType) {
            guard let text = try JSONBody.object(request)["signed_request"]?.stringValue else {
                throw HTTPError.validation("signed_request is required")
            }
            return text
        }
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
            throw HTTPError.validation("Content-Type must be application/x-www-form-urlencoded or application/json")
        }
        for pair in request.body.split(separator: UInt8(ascii: "&")) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, String(decoding: parts[0], as: UTF8.self) == "signed_request" else { continue }
            do {
                return try PercentDecoding.decode(Substring(String(decoding: parts[1], as: UTF8.self)), plusIsSpace: true)
            } catch {
                throw HTTPError.validation("signed_request is not valid form encoding")
            }
        }
        throw HTTPError.validation("signed_request is required")
    }
}

/// `GET /meta/data-deletion/:code`: the status of one data-deletion request (the `url` Meta
/// shows the user). Codes are random; an unknown one is 404.
public struct DataDeletionStatusHandler: RequestHandler {
    let store: any RedisStore
    let keys: KeySpace

    public init(store: any RedisStore, keys: KeySpace) {
        self.store = store
        self.keys = keys
    }

    public func handle(_ request: Request) throws -> Response {
        let code = request.pathParameters["code"] ?? ""
        guard (4...64).contains(code.utf8.count), code.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7A) }),
            let hash = try store.run(RedisCommand("HGETALL", RedisArgument(keys.dataDeletion(code)))).hashValue, !hash.isEmpty
        else { throw HTTPError.notFound("No data deletion request with this code") }
        return Envelope.success(.object([
            ("confirmationCode", .string(code)),
            ("status", .string(hash["status"] ?? "in_progress")),
            ("requestedAt", hash["requested_at"].map(JSONValue.string) ?? .null),
            ("completedAt", hash["completed_at"].map(JSONValue.string) ?? .null),
            ("tenants", .int(hash["tenants"].flatMap { Int($0) } ?? 0)),
        ]))
    }
}
