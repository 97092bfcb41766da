@testable import IGMediaLogic

/// Answers to classify, shared by the per-vendor classifier suites.
enum UpstreamClassifierFixture {
    static func response(_ status: Int, _ body: String = "", headers: [(String, String)] = []) -> HTTPClientResponse {
        HTTPClientResponse(status: status, headers: HTTPHeaders(headers), body: Array(body.utf8))
    }
}
