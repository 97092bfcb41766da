/// Signed Upload API requests (reference §3.2, §3.3, §3.5).
extension CloudinaryClient {
    /// `POST {api}/v1_1/{cloud}/{type}/upload` fetching `sourceURL`, overwriting the fixed public id.
    func uploadRequest(_ upload: MirrorUpload) throws(UpstreamError) -> HTTPClientRequest {
        guard !upload.publicID.isEmpty else { throw rejected("upload without a public id") }
        guard upload.sourceURL.hasPrefix("https://") || upload.sourceURL.hasPrefix("http://") else {
            throw rejected("source of \(upload.publicID) is not an http(s) URL")
        }
        // The comma separates tags on the wire, so a tag containing one would silently become two.
        let tags = upload.tags.filter { !$0.isEmpty }
        if tags.contains(where: { $0.contains(",") }) {
            throw rejected("a tag of \(upload.publicID) contains a comma")
        }
        var params = [("file", upload.sourceURL), ("public_id", upload.publicID)]
        if !tags.isEmpty { params.append(("tags", tags.joined(separator: ","))) }
        params += [("overwrite", "true"), ("invalidate", "true")]
        return try signedRequest(resourceType: upload.resourceType, action: "upload", params: params)
    }

    /// `POST {api}/v1_1/{cloud}/{type}/destroy`, purging the CDN cache.
    func destroyRequest(publicID: String, resourceType: String) throws(UpstreamError) -> HTTPClientRequest {
        guard !publicID.isEmpty else { throw rejected("destroy without a public id") }
        return try signedRequest(
            resourceType: resourceType, action: "destroy", params: [("public_id", publicID), ("invalidate", "true")])
    }

    /// Adds `timestamp` (from the injected clock), `api_key` and the SHA-1 `signature` of every
    /// signed parameter, and sends the fields as `multipart/form-data`.
    func signedRequest(resourceType: String, action: String, params: [(String, String)]) throws(UpstreamError)
        -> HTTPClientRequest
    {
        guard Self.resourceTypes.contains(resourceType) else {
            throw rejected("unsupported resource type \(Self.safeMessage(resourceType, redacting: secrets))")
        }
        var fields = params + [("timestamp", String(Int(clock.now())))]
        // The signer leaves out file, api_key and signature itself (§3.2).
        let signature = CloudinarySigner.sign(fields, secret: config.apiSecret, algorithm: .sha1)
        fields += [("api_key", config.apiKey), ("signature", signature)]
        let form = APIClientCore.multipart(fields)
        return core.request(
            "POST", "/v1_1/\(PercentDecoding.encode(config.cloudName))/\(resourceType)/\(action)",
            headers: [("Content-Type", form.contentType), ("Accept", "application/json")], body: form.body)
    }

    /// `Authorization: Basic base64(api_key:api_secret)` for the Admin API.
    var basicAuthorization: String {
        "Basic " + Base64.encode(Array("\(config.apiKey):\(config.apiSecret)".utf8))
    }

    func rejected(_ message: String) -> UpstreamError {
        UpstreamError(service: Self.service, kind: .rejected, message: message)
    }
}
