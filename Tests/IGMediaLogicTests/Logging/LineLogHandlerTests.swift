#if canImport(Glibc)
import Glibc
#endif
import Logging
import Testing

@testable import IGMediaLogic

@Suite("Log lines")
struct LineLogHandlerTests {
    /// What one `logger.info` writes, read back from a pipe.
    static func line(_ message: Logger.Message, metadata: Logger.Metadata, handlerMetadata: Logger.Metadata = [:]) -> String {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0)
        defer { close(fds[0]) }
        var handler = LineLogHandler(label: "igmedia", fileDescriptor: fds[1])
        handler.metadata = handlerMetadata
        let logger = Logger(label: "igmedia", factory: { _ in handler })
        logger.info(message, metadata: metadata)
        close(fds[1])
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let got = read(fds[0], &buffer, buffer.count)
            if got <= 0 { break }
            bytes += buffer[0..<got]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test("level, label, message, then the metadata sorted by key, one line")
    func shape() {
        let text = Self.line("request", metadata: ["status": "200", "id": "abc", "path": "/photos"])
        #expect(text == "info igmedia: request id=abc path=/photos status=200\n")
    }

    @Test("the event's metadata wins over the handler's")
    func merge() {
        let text = Self.line("x", metadata: ["a": "event"], handlerMetadata: ["a": "handler", "b": "kept"])
        #expect(text == "info igmedia: x a=event b=kept\n")
    }

    @Test(
        "values that could break the line are quoted and escaped, on bytes",
        arguments: [
            ("", "\"\""), ("two words", "\"two words\""), ("say \"hi\"", "\"say \\\"hi\\\"\""),
            ("a\\b", "\"a\\\\b\""), ("line\nbreak", "\"line\\nbreak\""), ("crlf\r\nend", "\"crlf\\r\\nend\""),
            // A space followed by a combining mark is one Character but still a space byte.
            (" \u{301}x", "\" \u{301}x\""), ("plain-value_1.2", "plain-value_1.2"),
        ])
    func quoting(value: String, rendered: String) {
        var bytes: [UInt8] = []
        LineLogHandler.render(.string(value), into: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == rendered)
        let text = Self.line("m", metadata: ["k": .string(value)])
        #expect(text == "info igmedia: m k=\(rendered)\n")
        #expect(text.utf8.filter { $0 == 0x0A }.count == 1)
    }
}
