/// The media mirror on Cloudinary: signed Upload API calls (upload from a remote URL, destroy) sent
/// in parallel through the shared core, and the Admin API's delete-by-tag.
///
/// Every upload and destroy of a batch goes out in one `sendAll` (curl's multi interface, at most
/// `config.concurrency` at a time); transient per-item failures get one more `sendAll` round. That is
/// safe because an upload writes a fixed `public_id` with `overwrite=true` and destroy is idempotent.
public struct CloudinaryClient: MediaMirror {
    public static let service = CloudinaryErrorClassifier.service
    /// The resource types the Upload API takes in its path.
    static let resourceTypes: Set<String> = ["image", "video", "raw", "auto"]

    let config: AppConfig.Cloudinary
    let core: APIClientCore
    let clock: any Clock
    /// Base pause before the retry round of transient failures (5xx, 423, timeouts, rate
    /// limits); tests set 0.
    public var retryDelayMilliseconds = 300

    /// Uploads and destroys: one more round for what failed transiently (a 420/429 too: the
    /// Upload API is not rate-limited per hour, a busy moment passes).
    var batchPolicy: RetryPolicy {
        RetryPolicy(attempts: 2, baseDelayMilliseconds: retryDelayMilliseconds, retriesRateLimits: true)
    }

    /// The Admin API: one retry for 5xx, timeouts and transport failures, never for 420/429: its
    /// limit is hourly, so an immediate retry only spends more of it.
    var adminPolicy: RetryPolicy {
        RetryPolicy(attempts: 2, baseDelayMilliseconds: retryDelayMilliseconds, retriesRateLimits: false)
    }

    public init(
        config: AppConfig.Cloudinary, transport: any HTTPTransport, clock: any Clock = SystemClock(),
        timeoutMilliseconds: Int = 30_000
    ) {
        self.config = config
        self.core = APIClientCore(
            service: Self.service, baseURL: config.apiURL, transport: transport,
            timeoutMilliseconds: timeoutMilliseconds)
        self.clock = clock
    }

    /// Uploads every asset from its remote URL; one result per upload, in order.
    public func upload(_ uploads: [MirrorUpload]) -> [Result<MirroredAsset, UpstreamError>] {
        sendBatch(uploads, build: uploadRequest) { upload, response throws(UpstreamError) in
            let answer = try checked(response)
            guard let secureURL = answer["secure_url"]?.stringValue, !secureURL.isEmpty else {
                throw UpstreamError(
                    service: Self.service, kind: .malformed, status: response.status,
                    message: "upload answer has no secure_url")
            }
            return MirroredAsset(
                publicID: answer["public_id"]?.stringValue ?? upload.publicID,
                resourceType: answer["resource_type"]?.stringValue ?? upload.resourceType,
                secureURL: secureURL)
        }
    }

    /// Destroys assets by public id; `{"result":"not found"}` counts as success.
    public func destroy(_ assets: [(publicID: String, resourceType: String)]) -> [Result<Void, UpstreamError>] {
        sendBatch(assets, build: { asset throws(UpstreamError) in
            try destroyRequest(publicID: asset.publicID, resourceType: asset.resourceType)
        }) { _, response throws(UpstreamError) in
            let answer = try checked(response)
            switch answer["result"]?.stringValue {
            case "ok", "not found":
                return
            case let other:
                throw UpstreamError(
                    service: Self.service, kind: .malformed, status: response.status,
                    message: "unexpected destroy result \(Self.safeMessage(other ?? "(none)", redacting: secrets))")
            }
        }
    }

    /// Builds one request per item and sends them all through one `sendAll`; `batchPolicy` decides
    /// which failures go out again, with a fresh timestamp and signature.
    func sendBatch<Item, Value>(
        _ items: [Item],
        build: (Item) throws(UpstreamError) -> HTTPClientRequest,
        interpret: (Item, HTTPClientResponse) throws(UpstreamError) -> Value
    ) -> [Result<Value, UpstreamError>] {
        let notSent = UpstreamError(service: Self.service, kind: .transport, message: "not sent")
        return batchPolicy.runRounds(items.count, notSent: notSent) { indices in
            var results = [Result<Value, UpstreamError>](repeating: .failure(notSent), count: indices.count)
            var requests: [HTTPClientRequest] = []
            var sent: [Int] = []
            for (position, index) in indices.enumerated() {
                do throws(UpstreamError) {
                    requests.append(try build(items[index]))
                    sent.append(position)
                } catch {
                    results[position] = .failure(error)
                }
            }
            guard !requests.isEmpty else { return results }
            let responses = core.sendAll(requests, concurrency: max(1, config.concurrency))
            for (position, response) in zip(sent, responses) {
                results[position] = response.flatMap { response in
                    Result { () throws(UpstreamError) -> Value in try interpret(items[indices[position]], response) }
                }
            }
            return results
        }
    }
}
