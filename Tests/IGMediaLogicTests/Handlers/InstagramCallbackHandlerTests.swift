import Testing

@testable import IGMediaLogic

@Suite("GET /instagram-callback")
struct InstagramCallbackHandlerTests {
    let handler = InstagramCallbackHandler()

    func request(_ query: [(String, String)]) -> Request {
        Request(method: "GET", path: "/instagram-callback", query: query)
    }

    @Test("returns the code with Instagram's #_ suffix stripped")
    func code() throws {
        let response = try handler.handle(request([("code", "AQB123#_")]))
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"success":true,"data":{"code":"AQB123"}}"#)
    }

    @Test("rejects a missing or empty code", arguments: [[], [("code", "")], [("code", "#_")], [("other", "x")]])
    func missing(query: [(String, String)]) {
        #expect(throws: HTTPError.self) { try handler.handle(request(query)) }
    }

    @Test("reports a denied authorization with Instagram's description")
    func denied() {
        let query = [("error", "access_denied"), ("error_reason", "user_denied"), ("error_description", "The user denied your request.")]
        #expect(throws: HTTPError.validation("Instagram authorization failed: The user denied your request.")) {
            try handler.handle(request(query))
        }
    }
}
