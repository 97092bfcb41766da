/// `GET /photos`: the tenant's cached feed, straight from the store. Never calls Instagram.
///
/// At most two round trips (token → tenant, then tenant + feed pipelined; the token lookup and the
/// ready envelope are each cached in-process for a short, documented time) and the stored JSON
/// array is spliced into the envelope as bytes.
///
/// Two representations: identity, and gzip when the client accepts it (`AcceptEncoding`) and the
/// feed cache holds a gzip body (compressed once when the entry is stored; with the cache off
/// every answer is identity). Each has its own strong ETag (`"…"` and `"…-gz"`), and
/// `If-None-Match` is checked against the one that would be sent.
public struct PhotosHandler: RequestHandler {
    let authenticator: TenantAuthenticator
    let repository: TenantRepository
    let cacheControl: String
    /// Seconds nginx's optional microcache may keep this 200 (`X-Accel-Expires`); 0 = never.
    /// nginx consumes the header; clients never see it. Errors never carry it.
    let microcacheSeconds: Int
    let feedCache: FeedCache?

    public init(
        authenticator: TenantAuthenticator, repository: TenantRepository, cacheControl: String = "private, max-age=60",
        microcacheSeconds: Int = 0, feedCache: FeedCache? = nil
    ) {
        self.authenticator = authenticator
        self.repository = repository
        self.cacheControl = cacheControl
        self.microcacheSeconds = microcacheSeconds
        self.feedCache = feedCache
    }

    private static let emptyFeed: [UInt8] = Array("[]".utf8)

    public func handle(_ request: Request) throws -> Response {
        let tenantID = try authenticator.tenantID(for: request)
        var feed: ReadyFeed
        if let cached = feedCache?.feed(for: tenantID) {
            feed = cached
            if feed.gzipPending, let feedCache, Self.acceptsGzip(request) { feed = feedCache.withGzip(tenantID: tenantID, feed) }
        } else {
            let (body, etag) = try read(tenantID)
            if let feedCache {
                feed = feedCache.store(tenantID: tenantID, body: body, etag: etag, gzip: Self.acceptsGzip(request))
            } else {
                feed = ReadyFeed(body: body, etag: etag)
            }
        }
        // The header is parsed only when there is a choice to make.
        var representation = feed.identity
        var contentEncoding: String?
        if let gzip = feed.gzip, Self.acceptsGzip(request) {
            representation = gzip
            contentEncoding = "gzip"
        }
        // The ETags were computed when the feed was written and cached; nothing is hashed per request.
        if let etag = representation.etag, let condition = request.headers["If-None-Match"], Self.matches(condition, etag) {
            var notModified = Response(status: .notModified)
            notModified.headers.add("ETag", etag)
            notModified.headers.add("Cache-Control", cacheControl)
            notModified.headers.add("Vary", "Accept-Encoding")
            return notModified
        }
        var response = Response.json(.ok, body: representation.body)
        if let contentEncoding { response.headers.add("Content-Encoding", contentEncoding) }
        if let etag = representation.etag { response.headers.add("ETag", etag) }
        response.headers.add("Cache-Control", cacheControl)
        // Every answer says it depends on Accept-Encoding, also when gzip was not offered (cache
        // off, an incompressible feed): a shared cache must never hand one client's variant to another.
        response.headers.add("Vary", "Accept-Encoding")
        if microcacheSeconds > 0 { response.headers.add("X-Accel-Expires", String(microcacheSeconds)) }
        return response
    }

    /// The envelope and ETag from the store; 404 when the tenant is gone.
    private func read(_ tenantID: String) throws -> (body: [UInt8], etag: String?) {
        let feed = try repository.readFeed(tenantID)
        guard feed.tenantExists else { throw HTTPError.notFound("Tenant not found") }
        var photos = feed.photosJSON ?? Self.emptyFeed
        var etag = feed.photosJSON == nil ? nil : feed.etag
        if !Self.looksLikeArray(photos) {
            // Never splice something that would break the envelope.
            photos = Self.emptyFeed
            etag = nil
        }
        return (Envelope.successRaw(dataPrefix: "{\"photos\":", raw: photos, dataSuffix: "}").body, etag)
    }

    static func acceptsGzip(_ request: Request) -> Bool {
        AcceptEncoding.prefersGzip(request.headers.values("Accept-Encoding"))
    }

    /// `If-None-Match`: `*` or a list of (possibly weak) tags.
    static func matches(_ header: String, _ etag: String) -> Bool {
        header.split(separator: ",").contains { candidate in
            var tag = candidate.trimmingSpaces()
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
            return tag == etag[...]
        }
    }

    static func looksLikeArray(_ bytes: [UInt8]) -> Bool {
        guard let first = bytes.first(where: { $0 > 0x20 }), let last = bytes.last(where: { $0 > 0x20 }) else { return false }
        return first == UInt8(ascii: "[") && last == UInt8(ascii: "]")
    }
}
