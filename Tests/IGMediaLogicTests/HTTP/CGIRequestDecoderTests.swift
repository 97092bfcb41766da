import Testing

@testable import IGMediaLogic

@Suite("CGI request decoding")
struct CGIRequestDecoderTests {
    @Test("decodes method, path, query and headers")
    func basics() throws {
        let request = try CGIRequestDecoder.decode(
            params: [
                ("REQUEST_METHOD", "post"), ("REQUEST_URI", "/sync/process/t%2D1?x=1"),
                ("DOCUMENT_URI", "/sync/process/t-1"), ("QUERY_STRING", "code=a%20b+c&empty=&flag"),
                ("CONTENT_TYPE", "application/json"), ("CONTENT_LENGTH", "2"),
                ("HTTP_AUTHORIZATION", "Bearer tok"), ("HTTP_UPSTASH_SIGNATURE", "sig"),
                ("REQUEST_ID", "rid"),
            ], body: Array("{}".utf8))
        #expect(request.method == "POST")
        #expect(request.path == "/sync/process/t-1")
        #expect(request.queryValue("code") == "a b c")
        #expect(request.queryValue("empty") == "")
        #expect(request.queryValue("flag") == "")
        #expect(request.headers["content-type"] == "application/json")
        #expect(request.headers["Upstash-Signature"] == "sig")
        #expect(request.bearerToken == "tok")
        #expect(request.requestID == "rid")
        #expect(request.body == Array("{}".utf8))
    }

    @Test(
        "rejects malformed percent-encoding",
        arguments: ["code=%zz", "code=%", "code=%4", "a=%C3%28"])
    func malformedQuery(query: String) {
        #expect(throws: HTTPError.self) {
            try CGIRequestDecoder.decode(params: [("QUERY_STRING", query), ("REQUEST_URI", "/x")], body: [])
        }
    }

    @Test(
        "rejects encoded slashes, traversal and bad escapes in the path",
        arguments: ["/sync/process/a%2Fb", "/sync/process/..", "/sync/process/%2E%2E", "/x%zz", "/a%00b"])
    func badPath(uri: String) {
        #expect(throws: HTTPError.self) {
            try CGIRequestDecoder.decode(params: [("REQUEST_URI", uri)], body: [])
        }
    }

    @Test("falls back to DOCUMENT_URI without REQUEST_URI")
    func documentURI() throws {
        let request = try CGIRequestDecoder.decode(params: [("DOCUMENT_URI", "/health")], body: [])
        #expect(request.path == "/health")
        #expect(request.method == "GET")
    }

    @Test("keeps repeated headers, and a repeated Authorization is no bearer token")
    func repeatedHeaders() throws {
        let request = try CGIRequestDecoder.decode(
            params: [("HTTP_AUTHORIZATION", "Bearer a"), ("HTTP_AUTHORIZATION", "Bearer b"), ("HTTP_X_ODD__NAME", "v")],
            body: [])
        #expect(request.headers.values("authorization") == ["Bearer a", "Bearer b"])
        #expect(request.bearerToken == nil)
        #expect(request.headers["x-odd--name"] == "v")
    }

    @Test(
        "parses bearer tokens leniently on the scheme only",
        arguments: [
            ("Bearer abc", "abc"), ("bearer abc", "abc"), ("BEARER  abc ", "abc"),
            ("Basic abc", nil), ("Bearer", nil), ("Bearer ", nil), ("Bearer a b", nil), ("abc", nil),
        ] as [(String, String?)])
    func bearer(header: String, expected: String?) {
        let request = Request(method: "GET", path: "/", headers: HTTPHeaders([("Authorization", header)]))
        #expect(request.bearerToken == expected)
    }

    @Test(
        "plans the body from CONTENT_LENGTH",
        arguments: [
            (nil, CGIRequestDecoder.BodyPlan.read(0)), ("", .read(0)), ("0", .read(0)), ("10", .read(10)),
            ("1024", .read(1024)), ("1025", .tooLarge), ("-1", .invalidLength), ("1e3", .invalidLength),
            ("99999999999999999999999", .invalidLength),
        ] as [(String?, CGIRequestDecoder.BodyPlan)])
    func bodyPlan(length: String?, expected: CGIRequestDecoder.BodyPlan) {
        #expect(CGIRequestDecoder.bodyPlan(contentLength: length, maxBodyBytes: 1024) == expected)
    }
}
