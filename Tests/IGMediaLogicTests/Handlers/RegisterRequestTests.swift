import Testing

@testable import IGMediaLogic

@Suite("POST /register body limits")
struct RegisterRequestTests {
    static func request(name: String) -> Request {
        let body = JSONWriter.encode(.object([
            ("name", .string(name)), ("instagramAccountId", .string("178414")),
            ("instagramAccountSecret", .string("secret")), ("apiType", .string("INSTAGRAM_LOGIN")),
        ]))
        return Request(method: "POST", path: "/register", headers: HTTPHeaders([("Content-Type", "application/json")]), body: body)
    }

    static func problems(_ name: String) -> String? {
        do {
            _ = try RegisterRequest.decode(request(name: name))
            return nil
        } catch {
            return error.message
        }
    }

    @Test("three characters and half a million combining marks are refused by their bytes")
    func combiningMarks() {
        #expect(Self.problems("abc" + String(repeating: "\u{301}", count: 480_000)) == "Validation failed: name must be at most 400 bytes")
        #expect(Self.problems("abc" + String(repeating: "\u{301}", count: 198) + "d") == nil, "3 + 396 + 1 = 400 bytes")
        #expect(Self.problems("abc" + String(repeating: "\u{301}", count: 199)) == "Validation failed: name must be at most 400 bytes", "401 bytes")
    }

    @Test("100 characters of a four-byte script fit; the character limit still applies below 400 bytes")
    func fourByteScript() {
        #expect(Self.problems(String(repeating: "𝄞", count: 100)) == nil)
        #expect(Self.problems(String(repeating: "n", count: 101))?.contains("at most 100 characters") == true)
    }
}
