import Testing

@testable import IGMediaLogic

@Suite("JSON parser and writer")
struct JSONParserTests {
    @Test("round-trips documents and keeps big integers as text")
    func roundTrip() throws {
        let text = #"{"a":[1,-2.5e3,true,false,null],"id":17841405822304914,"s":"é\"\\\n\u0001","o":{}}"#
        let value = try JSONParser.parse(text)
        #expect(value["id"]?.idString == "17841405822304914")
        #expect(value["s"]?.stringValue == "é\"\\\n\u{1}")
        #expect(try JSONParser.parse(JSONWriter.encode(value)) == value)
    }

    @Test("decodes surrogate pairs")
    func surrogates() throws {
        #expect(try JSONParser.parse(#""\ud83d\ude00""#) == .string("😀"))
    }

    @Test(
        "rejects malformed input",
        arguments: [
            "", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "\"\\x\"", "\"\\ud800\"", "\"a", "nul", "[1] x",
            "{'a':1}", "{\"a\" 1}", "\"\u{1}\"", "[" + String(repeating: "[", count: 40) + String(repeating: "]", count: 41),
        ])
    func malformed(text: String) {
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse(text) }
    }

    @Test("rejects invalid UTF-8 inside strings")
    func invalidUTF8() {
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) }
    }
}
