import Logging

/// `/tenant/webhook…` (management token): the tenant's webhook endpoint, its signing secret and
/// its last deliveries.
public struct WebhookHandlers: Sendable {
    let endpoints: TenantEndpoints
    let webhooks: Webhooks
    let logger: Logger

    public init(endpoints: TenantEndpoints, webhooks: Webhooks, logger: Logger) {
        self.endpoints = endpoints
        self.webhooks = webhooks
        self.logger = logger
    }

    public var put: any RequestHandler { Handler { try self.handlePut($0) } }
    public var get: any RequestHandler { Handler { try self.handleGet($0) } }
    public var delete: any RequestHandler { Handler { try self.handleDelete($0) } }
    public var rotateSecret: any RequestHandler { Handler { try self.handleRotate($0) } }
    public var deliveries: any RequestHandler { Handler { try self.handleDeliveries($0) } }

    struct Handler: RequestHandler {
        let body: @Sendable (Request) throws -> Response
        init(_ body: @escaping @Sendable (Request) throws -> Response) { self.body = body }
        func handle(_ request: Request) throws -> Response { try body(request) }
    }

    /// `PUT /tenant/webhook {"url":"https://…","events":[…]}`: 201 with the signing secret when
    /// it is new (shown once), 200 when an existing webhook changed its URL or events.
    func handlePut(_ request: Request) throws -> Response {
        let tenant = try endpoints.managedTenant(request)
        let body = try JSONBody.object(request)
        var problems: [String] = []
        var destination: WebhookDestination?
        if let url = body["url"]?.stringValue {
            do { destination = try WebhookDestination.parse(url, policy: webhooks.settings.policy) } catch { problems.append(error.message) }
        } else {
            problems.append("url is required (a string)")
        }
        var events: [Webhooks.Event] = []
        if let list = body["events"]?.arrayValue, !list.isEmpty, list.count <= 16 {
            for item in list {
                guard let name = item.stringValue, let event = Webhooks.Event(rawValue: name) else {
                    problems.append("events may only name \(Webhooks.Event.allCases.map(\.rawValue).joined(separator: ", "))")
                    break
                }
                if !events.contains(event) { events.append(event) }
            }
        } else {
            problems.append("events is required: a non-empty list of \(Webhooks.Event.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard problems.isEmpty, let destination else { throw HTTPError.validation(problems.joined(separator: "; ")) }
        let (created, secret) = try webhooks.put(tenant.id, url: destination, events: events)
        logger.info(created ? "webhook created" : "webhook changed", metadata: ["tenant": "\(tenant.id)", "request": "\(request.requestID)"])
        var data = try view(tenant.id)
        if let secret { data.append(("secret", .string(secret))) }
        return Envelope.success(.object(data), status: created ? .created : .ok)
    }

    func handleGet(_ request: Request) throws -> Response {
        let tenant = try endpoints.managedTenant(request)
        return Envelope.success(.object(try view(tenant.id)))
    }

    func handleDelete(_ request: Request) throws -> Response {
        let tenant = try endpoints.managedTenant(request)
        guard try webhooks.remove(tenant.id) else { throw HTTPError.notFound("No webhook is set") }
        logger.info("webhook removed", metadata: ["tenant": "\(tenant.id)", "request": "\(request.requestID)"])
        return Envelope.success(.object([("deleted", .bool(true))]))
    }

    /// `POST /tenant/webhook/rotate-secret`: a new secret (shown once); for the grace period both
    /// are sent, one signature each.
    func handleRotate(_ request: Request) throws -> Response {
        let tenant = try endpoints.managedTenant(request)
        guard let rotated = try webhooks.rotate(tenant.id) else { throw HTTPError.notFound("No webhook is set") }
        logger.info("webhook secret rotated", metadata: ["tenant": "\(tenant.id)", "request": "\(request.requestID)"])
        return Envelope.success(.object([
            ("secret", .string(rotated.secret)), ("previousSecretValidUntil", .string(ISO8601.format(rotated.previousUntil))),
        ]))
    }

    func handleDeliveries(_ request: Request) throws -> Response {
        let tenant = try endpoints.managedTenant(request)
        return Envelope.success(.object([("deliveries", .array(try webhooks.deliveries(tenant.id)))]))
    }

    private func view(_ tenantID: String) throws -> [(String, JSONValue)] {
        guard let config = try webhooks.config(tenantID) else { throw HTTPError.notFound("No webhook is set") }
        return [
            ("url", .string(config.url)), ("events", .array(config.events.map { .string($0.rawValue) })),
            ("createdAt", .string(config.createdAt)),
            ("previousSecretValidUntil", config.previousSecretExpiresAt.map { .string(ISO8601.format($0)) } ?? .null),
        ]
    }
}
