@testable import IGMediaLogic

/// The Cloudinary fake (`Tests/fakes/cloudinary.py`) as a subprocess, with our credentials.
final class CloudinaryFakeProcess: @unchecked Sendable {
    let cloudName = "igmedia-test"
    let apiKey = "987654321098765"
    let apiSecret = "fake-cloudinary-secret-9Q"
    let fake: PythonFakeProcess

    init(deletePageSize: Int = 1000) throws {
        fake = try PythonFakeProcess(module: "cloudinary", arguments: [
            "--cloud-name", cloudName, "--api-key", apiKey, "--api-secret", apiSecret,
            "--delete-page-size", "\(deletePageSize)",
        ])
    }

    func config(concurrency: Int = 8, apiSecret: String? = nil) -> AppConfig.Cloudinary {
        AppConfig.Cloudinary(
            apiURL: fake.baseURL, cloudName: cloudName, apiKey: apiKey, apiSecret: apiSecret ?? self.apiSecret,
            concurrency: concurrency)
    }

    /// A client on the real curl transport.
    func client(concurrency: Int = 8, apiSecret: String? = nil, timeoutMilliseconds: Int = 10_000) -> CloudinaryClient {
        var client = CloudinaryClient(
            config: config(concurrency: concurrency, apiSecret: apiSecret), transport: CurlTransport(),
            timeoutMilliseconds: timeoutMilliseconds)
        client.retryDelayMilliseconds = 50
        return client
    }

    /// Stored assets (`resource_type`, `public_id`, `tags`, `version`, ...), optionally filtered.
    func assets(tag: String? = nil, resourceType: String? = nil) throws -> [JSONValue] {
        var query: [(String, String)] = []
        if let tag { query.append(("tag", tag)) }
        if let resourceType { query.append(("resource_type", resourceType)) }
        let suffix = query.isEmpty ? "" : "?" + APIClientCore.formEncode(query)
        return try fake.call("GET", "/__control/assets" + suffix)["assets"]?.arrayValue ?? []
    }

    func setLatency(milliseconds: Int) throws {
        try fake.control("latency", .object([("latency_ms", .int(milliseconds))]))
    }

    /// Queues one scripted fault (README "Faults") for requests whose path starts with `pathPrefix`.
    func fault(pathPrefix: String, _ spec: [(String, JSONValue)]) throws {
        try fake.control("faults", .object([("path_prefix", .string(pathPrefix))] + spec))
    }

    /// Recorded requests under `pathPrefix` (method, path, status).
    func requests(pathPrefix: String) throws -> [JSONValue] {
        let query = APIClientCore.formEncode([("path_prefix", pathPrefix)])
        return try fake.call("GET", "/__control/requests?" + query)["requests"]?.arrayValue ?? []
    }
}
