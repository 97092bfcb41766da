/// A tenant's `GET /photos` answer, ready to send: the identity envelope and, when it is smaller,
/// the same envelope gzip-compressed. Built once per feed version by `FeedCache`, never per request.
public struct ReadyFeed: Sendable {
    /// One encoding of the envelope, with its own strong ETag.
    public struct Representation: Sendable {
        public let body: [UInt8]
        /// Nil when the feed has none (an empty or unreadable stored feed).
        public let etag: String?
    }

    /// The whole envelope, `{"success":true,"data":{"photos":[…]}}`.
    public let identity: Representation
    /// Its gzip stream (ETag: the identity tag with `-gz` inside the quotes), or nil when the cache
    /// is off, zlib failed, or gzip would not be smaller.
    public let gzip: Representation?

    /// True when nobody asked for gzip yet: the gzip body is made on the first request that
    /// accepts it (`FeedCache.withGzip`), so identity-only traffic never pays for it.
    public let gzipPending: Bool

    /// Identity only.
    public init(body: [UInt8], etag: String?) {
        identity = Representation(body: body, etag: etag)
        gzip = nil
        gzipPending = false
    }

    /// Identity now, gzip on the first request that accepts it.
    static func pendingGzip(body: [UInt8], etag: String?) -> ReadyFeed {
        ReadyFeed(identity: Representation(body: body, etag: etag), gzip: nil, gzipPending: true)
    }

    /// Whether the gzip body was made (or found not worth keeping).
    var hasGzipDecision: Bool { !gzipPending }

    /// Compresses `body`; keeps the gzip representation only when it is smaller.
    public static func compressing(body: [UInt8], etag: String?) -> ReadyFeed {
        guard let compressed = Gzip.compress(body), compressed.count < body.count else {
            return ReadyFeed(body: body, etag: etag)
        }
        return ReadyFeed(identity: Representation(body: body, etag: etag),
                         gzip: Representation(body: compressed, etag: etag.map(gzipETag)), gzipPending: false)
    }

    private init(identity: Representation, gzip: Representation?, gzipPending: Bool) {
        self.identity = identity
        self.gzip = gzip
        self.gzipPending = gzipPending
    }

    /// Bytes held: both bodies.
    var byteCount: Int { identity.body.count + (gzip?.body.count ?? 0) }

    /// `"abc"` → `"abc-gz"`, `W/"abc"` → `W/"abc-gz"`: a strong validator per representation
    /// (RFC 9110 §8.8.3.3), derived so it changes whenever the identity tag does.
    static func gzipETag(_ etag: String) -> String {
        guard etag.hasSuffix("\"") else { return etag + "-gz" }
        return etag.dropLast() + "-gz\""
    }
}
