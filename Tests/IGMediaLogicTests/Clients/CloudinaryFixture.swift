@testable import IGMediaLogic

/// Shared values for the Cloudinary client unit tests.
enum CloudinaryFixture {
    struct FrozenClock: Clock {
        let seconds: Double
        func now() -> Double { seconds }
        func monotonicNanoseconds() -> UInt64 { 0 }
    }

    static let apiSecret = "s3cr3t-Api-Secret-value"
    static let apiKey = "123456789012345"
    static let timestamp = "1700000000"

    static func config(concurrency: Int = 4) -> AppConfig.Cloudinary {
        AppConfig.Cloudinary(
            apiURL: "https://api.example.test/", cloudName: "demo-cloud", apiKey: apiKey, apiSecret: apiSecret,
            concurrency: concurrency)
    }

    static func client(_ transport: RecordingTransport, concurrency: Int = 4) -> CloudinaryClient {
        var client = CloudinaryClient(
            config: config(concurrency: concurrency), transport: transport,
            clock: FrozenClock(seconds: 1_700_000_000.75), timeoutMilliseconds: 5000)
        client.retryDelayMilliseconds = 0
        return client
    }

    static func upload(_ id: String, _ type: String = "image", tags: [String] = ["tenant_t1", "ig"]) -> MirrorUpload {
        MirrorUpload(
            publicID: "instagram-media/t1/\(id)", resourceType: type,
            sourceURL: "https://cdn.example.test/v/\(id).jpg?oh=00_abc&oe=6553F100", tags: tags)
    }

    /// What Cloudinary answers to a successful upload of `call`.
    static func uploaded(_ call: RecordingTransport.Call) -> Result<HTTPClientResponse, TransportError> {
        let id = call.field("public_id") ?? "random"
        let type = call.request.url.split(separator: "/").dropLast().last.map(String.init) ?? "image"
        return .success(RecordingTransport.response(200, """
            {"asset_id":"3515c6000a548515f1134043f9785c2f","public_id":"\(id)","version":1700000123,
             "resource_type":"\(type)",
             "secure_url":"https://res.example.test/demo-cloud/\(type)/upload/v1700000123/\(id).jpg",
             "tags":["tenant_t1","ig"],"overwritten":true}
            """))
    }

    static func error(_ status: Int, _ message: String) -> Result<HTTPClientResponse, TransportError> {
        .success(RecordingTransport.response(status, #"{"error":{"message":"\#(message)"}}"#))
    }

    static func failure<Value>(_ result: Result<Value, UpstreamError>) -> UpstreamError? {
        if case .failure(let error) = result { return error }
        return nil
    }
}
