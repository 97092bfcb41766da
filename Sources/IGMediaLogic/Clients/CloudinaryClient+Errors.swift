extension CloudinaryClient {
    /// The JSON body of a 2xx answer; otherwise the error `CloudinaryErrorClassifier` makes of it.
    func checked(_ response: HTTPClientResponse) throws(UpstreamError) -> JSONValue {
        if let error = CloudinaryErrorClassifier.error(response, secrets: secrets) { throw error }
        return try core.json(response)
    }

    /// What must never appear in a message: the API secret and the Basic credentials.
    var secrets: [String] {
        [config.apiSecret, String(basicAuthorization.dropFirst("Basic ".count))]
    }

    static func safeMessage(_ text: String, redacting secrets: [String]) -> String {
        CloudinaryErrorClassifier.safeMessage(text, redacting: secrets)
    }

    static var maxMessageCharacters: Int { CloudinaryErrorClassifier.maxMessageCharacters }
}
