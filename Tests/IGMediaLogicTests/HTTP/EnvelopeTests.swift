import Testing

@testable import IGMediaLogic

@Suite("JSON envelope and response serialisation")
struct EnvelopeTests {
    @Test("success wraps data exactly like the seed")
    func success() {
        let response = Envelope.success(.object([("message", .string("ok"))]))
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"success":true,"data":{"message":"ok"}}"#)
        #expect(response.headers["Content-Type"] == "application/json; charset=utf-8")
        #expect(response.status == .ok)
    }

    @Test("failure carries code and errorMessage", arguments: ErrorCode.allCases)
    func failure(code: ErrorCode) throws {
        let response = Envelope.failure(HTTPError(code, "it \"broke\"\n"))
        #expect(response.status == code.status)
        let body = try JSONParser.parse(response.body)
        #expect(body == .object([("success", .bool(false)), ("code", .string(code.rawValue)), ("errorMessage", .string("it \"broke\"\n"))]))
    }

    @Test("splices raw JSON without re-encoding")
    func raw() {
        let response = Envelope.successRaw(dataPrefix: "{\"photos\":", raw: Array("[1,2]".utf8), dataSuffix: "}")
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"success":true,"data":{"photos":[1,2]}}"#)
    }

    @Test("writes a CGI status line, headers and length, and drops header values with line breaks")
    func serializer() {
        var response = Response.json(.notFound, body: Array("{}".utf8))
        response.headers.add("X-Evil", "a\r\nSet-Cookie: x")
        let text = String(decoding: ResponseSerializer.serialize(response), as: UTF8.self)
        #expect(text == "Status: 404 Not Found\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 2\r\n\r\n{}")
    }
}
