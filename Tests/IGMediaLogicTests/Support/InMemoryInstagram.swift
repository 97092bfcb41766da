import Foundation
import IGMediaLogic

/// An `InstagramAPI` holding media in memory, with scriptable failures and call counts.
///
/// Every access token sees `media` and `failure` unless `mediaByToken` or `failureByToken`
/// names it: tenants are told apart by their tokens, so one account can differ from the others.
final class InMemoryInstagram: InstagramAPI, @unchecked Sendable {
    private let lock = NSLock()
    private var _media: [InstagramMedia]
    private var _failure: UpstreamError?
    private var _mediaByToken: [String: [InstagramMedia]] = [:]
    private var _failureByToken: [String: UpstreamError] = [:]
    private var _firstPages: [FirstPage] = []
    private var _refreshFailure: UpstreamError?
    private(set) var fetchCalls = 0
    private(set) var refreshCalls = 0
    private(set) var tokensSeen: [String] = []
    private var _exchangeFailure: UpstreamError?
    private var _firstPageFailure: UpstreamError?
    private var _exchanges: [Exchange] = []
    private var _refreshes: [Refresh] = []

    /// The arguments of one `exchangeCode` call.
    struct Exchange: Equatable {
        var code, appID, appSecret, redirectURI: String
    }

    /// The arguments of one `firstMediaPageJSON` call.
    struct FirstPage: Equatable {
        var accessToken: String
        var limit: Int
    }

    /// The arguments of one `refreshToken` call.
    struct Refresh: Equatable {
        var apiType: APIType
        var accessToken: String
        var appID: String?
        var appSecret: String
    }

    init(media: [InstagramMedia] = []) { _media = media }

    var media: [InstagramMedia] {
        get { lock.withLock { _media } }
        set { lock.withLock { _media = newValue } }
    }

    var failure: UpstreamError? {
        get { lock.withLock { _failure } }
        set { lock.withLock { _failure = newValue } }
    }

    var mediaByToken: [String: [InstagramMedia]] {
        get { lock.withLock { _mediaByToken } }
        set { lock.withLock { _mediaByToken = newValue } }
    }

    var failureByToken: [String: UpstreamError] {
        get { lock.withLock { _failureByToken } }
        set { lock.withLock { _failureByToken = newValue } }
    }

    var refreshFailure: UpstreamError? {
        get { lock.withLock { _refreshFailure } }
        set { lock.withLock { _refreshFailure = newValue } }
    }

    var exchangeFailure: UpstreamError? {
        get { lock.withLock { _exchangeFailure } }
        set { lock.withLock { _exchangeFailure = newValue } }
    }

    var firstPageFailure: UpstreamError? {
        get { lock.withLock { _firstPageFailure } }
        set { lock.withLock { _firstPageFailure = newValue } }
    }

    var exchanges: [Exchange] { lock.withLock { _exchanges } }
    var refreshes: [Refresh] { lock.withLock { _refreshes } }
    var firstPages: [FirstPage] { lock.withLock { _firstPages } }

    func fetchMedia(apiType: APIType, accountID: String, accessToken: String, limit: Int) throws(UpstreamError) -> [InstagramMedia] {
        let (media, failure): ([InstagramMedia], UpstreamError?) = lock.withLock {
            fetchCalls += 1
            tokensSeen.append(accessToken)
            return (_mediaByToken[accessToken] ?? _media, _failureByToken[accessToken] ?? _failure)
        }
        if let failure { throw failure }
        return Array(media.prefix(limit))
    }

    func refreshToken(apiType: APIType, accessToken: String, appID: String?, appSecret: String) throws(UpstreamError) -> InstagramToken {
        let failure = lock.withLock { () -> UpstreamError? in
            refreshCalls += 1
            _refreshes.append(Refresh(apiType: apiType, accessToken: accessToken, appID: appID, appSecret: appSecret))
            return _refreshFailure
        }
        if let failure { throw failure }
        return InstagramToken(accessToken: accessToken + "-refreshed", expiresIn: 5_184_000)
    }

    func exchangeCode(code: String, appID: String, appSecret: String, redirectURI: String) throws(UpstreamError) -> InstagramToken {
        let failure = lock.withLock { () -> UpstreamError? in
            _exchanges.append(Exchange(code: code, appID: appID, appSecret: appSecret, redirectURI: redirectURI))
            return _exchangeFailure
        }
        if let failure { throw failure }
        return InstagramToken(accessToken: "IGAA-long-\(code)", expiresIn: 5_184_000, userID: "17841400000000001")
    }

    func firstMediaPageJSON(accessToken: String, limit: Int) throws(UpstreamError) -> String {
        let failure = lock.withLock { () -> UpstreamError? in
            _firstPages.append(FirstPage(accessToken: accessToken, limit: limit))
            return _firstPageFailure
        }
        if let failure { throw failure }
        return "{\"data\":[]}"
    }

    /// What `inspectToken` answers; `inspectFailure` makes it throw instead.
    var inspection = TokenInspection(expiresAt: nil, userID: nil)
    var inspectFailure: UpstreamError?
    private(set) var inspectCalls = 0

    func inspectToken(apiType: APIType, accessToken: String, appID: String?, appSecret: String) throws(UpstreamError) -> TokenInspection {
        let (answer, failure) = lock.withLock { () -> (TokenInspection, UpstreamError?) in
            inspectCalls += 1
            return (inspection, inspectFailure)
        }
        if let failure { throw failure }
        return answer
    }

    /// `count` media: every fifth a VIDEO, every seventh a carousel of two, some without caption.
    static func sampleMedia(count: Int, idBase: Int = 17_900_000_000_000_000) -> [InstagramMedia] {
        (0..<count).map { index in
            let id = String(idBase + index)
            let cdn = "http://cdn.invalid/\(id).jpg?oe=FFFFFFFF"
            if index % 5 == 4 {
                return InstagramMedia(id: id, mediaType: .video, mediaURL: "http://cdn.invalid/\(id).mp4", thumbnailURL: cdn,
                                      permalink: "https://www.instagram.com/reel/\(id)/", caption: "video \(index)", timestamp: "2026-11-01T10:00:00+0000")
            }
            if index % 7 == 6 {
                return InstagramMedia(id: id, mediaType: .carouselAlbum, mediaURL: cdn, permalink: "https://www.instagram.com/p/\(id)/",
                                      caption: nil, timestamp: "2026-11-01T10:00:00+0000",
                                      children: [InstagramMediaChild(id: id + "1", mediaType: .image, mediaURL: "http://cdn.invalid/\(id)1.jpg"),
                                                 InstagramMediaChild(id: id + "2", mediaType: .video, mediaURL: "http://cdn.invalid/\(id)2.mp4",
                                                                     thumbnailURL: "http://cdn.invalid/\(id)2.jpg")])
            }
            return InstagramMedia(id: id, mediaType: .image, mediaURL: cdn, permalink: "https://www.instagram.com/p/\(id)/",
                                  caption: index % 3 == 0 ? nil : "caption \(index)", timestamp: "2026-11-01T10:00:00+0000")
        }
    }
}

/// A `MediaMirror` that records uploads and destroys and can fail chosen sources.
final class RecordingMirror: MediaMirror, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var uploads: [MirrorUpload] = []
    private(set) var destroyed: [String] = []
    var failingSources: Set<String> = []
    var down = false

    func upload(_ uploads: [MirrorUpload]) -> [Result<MirroredAsset, UpstreamError>] {
        lock.withLock {
            self.uploads += uploads
            return uploads.map { upload in
                if down || failingSources.contains(upload.sourceURL) {
                    return .failure(UpstreamError(service: "cloudinary", kind: .server, status: 500, message: "General Error"))
                }
                return .success(MirroredAsset(
                    publicID: upload.publicID, resourceType: upload.resourceType,
                    secureURL: "https://res.cloudinary.test/demo/\(upload.resourceType)/upload/v1/\(upload.publicID)"))
            }
        }
    }

    func destroy(_ assets: [(publicID: String, resourceType: String)]) -> [Result<Void, UpstreamError>] {
        lock.withLock {
            destroyed += assets.map { "\($0.resourceType):\($0.publicID)" }
            return assets.map { _ in down ? .failure(UpstreamError(service: "cloudinary", kind: .server, message: "down")) : .success(()) }
        }
    }

    private(set) var deletedPrefixes: [String] = []

    func deleteByTag(_ tag: String) throws(UpstreamError) -> Int { 0 }

    /// Deletes the recorded uploads under `prefix`; their number.
    func deleteByPrefix(_ prefix: String) throws(UpstreamError) -> Int {
        let count: Int? = lock.withLock {
            if down { return nil }
            deletedPrefixes.append(prefix)
            return Set(uploads.map(\.publicID).filter { $0.hasPrefix(prefix) }).count
        }
        guard let count else { throw UpstreamError(service: "cloudinary", kind: .server, message: "down") }
        return count
    }

    func reset() { lock.withLock { uploads = []; destroyed = [] } }
}
