import Testing

@testable import IGMediaLogic

@Suite("FastCGI response records")
struct FastCGIRecordsTests {
    struct Record: Equatable {
        let type: UInt8
        let requestID: UInt16
        let content: [UInt8]
    }

    /// A strict reader of FastCGI 1.0 records: version 1, the declared lengths fit, the reserved
    /// byte is zero, nothing is left over.
    static func decode(_ bytes: [UInt8]) throws -> [Record] {
        struct Malformed: Error {}
        var records: [Record] = []
        var at = 0
        while at < bytes.count {
            guard bytes.count - at >= 8, bytes[at] == 1, bytes[at + 7] == 0 else { throw Malformed() }
            let id = UInt16(bytes[at + 2]) << 8 | UInt16(bytes[at + 3])
            let length = Int(bytes[at + 4]) << 8 | Int(bytes[at + 5])
            let padding = Int(bytes[at + 6])
            guard bytes.count - at - 8 >= length + padding else { throw Malformed() }
            records.append(Record(type: bytes[at + 1], requestID: id, content: Array(bytes[(at + 8)..<(at + 8 + length)])))
            at += 8 + length + padding
        }
        return records
    }

    @Test("a small response: one stdout record, the end of stdout, end request", arguments: [0, 1, 7, 8, 9, 100])
    func small(bodyLength: Int) throws {
        let head = Array("Status: 200 OK\r\nContent-Length: \(bodyLength)\r\n\r\n".utf8)
        let body = (0..<bodyLength).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let bytes = FastCGIRecords.response(requestID: 0x0102, head: head, body: body)
        #expect(bytes.count % 8 == 0)
        let records = try Self.decode(bytes)
        #expect(records.count == 3)
        #expect(records[0] == Record(type: 6, requestID: 0x0102, content: head + body))
        #expect(records[1] == Record(type: 6, requestID: 0x0102, content: []))
        #expect(records[2] == Record(type: 3, requestID: 0x0102, content: [0, 0, 0, 0, 0, 0, 0, 0]))
    }

    @Test("a body larger than one record is split at the 16-bit limit and reassembles exactly",
          arguments: [65_528 - 40, 65_528, 65_529, 200_000])
    func large(bodyLength: Int) throws {
        let head = Array("Status: 200 OK\r\n\r\n".utf8)
        let body = (0..<bodyLength).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let records = try Self.decode(FastCGIRecords.response(requestID: 1, head: head, body: body))
        let stdout = records.dropLast(2)
        #expect(stdout.allSatisfy { $0.type == 6 && !$0.content.isEmpty && $0.content.count <= 65_535 })
        #expect(stdout.count == (head.count + body.count + 65_527) / 65_528)
        #expect(stdout.flatMap(\.content) == head + body)
        #expect(records.suffix(2).map(\.type) == [6, 3])
        #expect(records[records.count - 2].content.isEmpty)
    }

    @Test("the application status travels big-endian in FCGI_END_REQUEST")
    func appStatus() throws {
        let records = try Self.decode(FastCGIRecords.response(requestID: 65_535, head: [0x41], body: [], appStatus: 0x0A0B0C0D))
        #expect(records.last == Record(type: 3, requestID: 65_535, content: [0x0A, 0x0B, 0x0C, 0x0D, 0, 0, 0, 0]))
    }

    @Test("the single-record frame around head and body gives the same bytes as the buffer",
          arguments: [1, 7, 8, 23_633, 65_528 - 30])
    func singleRecordFrame(bodyLength: Int) throws {
        let head = Array("Status: 200 OK\r\nX: y\r\n\r\n".utf8)
        let body = (0..<bodyLength).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let frame = try #require(FastCGIRecords.singleRecordFrame(requestID: 9, contentLength: head.count + body.count))
        #expect(frame.header + head + body + frame.trailer == FastCGIRecords.response(requestID: 9, head: head, body: body))
    }

    @Test("no single-record frame for empty or oversized content")
    func singleRecordFrameLimits() {
        #expect(FastCGIRecords.singleRecordFrame(requestID: 1, contentLength: 0) == nil)
        #expect(FastCGIRecords.singleRecordFrame(requestID: 1, contentLength: 65_529) == nil)
        #expect(FastCGIRecords.singleRecordFrame(requestID: 1, contentLength: 65_528) != nil)
    }
}
