import Foundation
import Testing

@testable import IGMediaLogic

@Suite("Gzip")
struct GzipTests {
    /// A /photos-like envelope: 50 items of repetitive JSON, about the size of a real feed.
    static func feedEnvelope(items: Int = 50) -> [UInt8] {
        let photos = (0..<items).map { index in
            #"{"id":"1790000000000\#(index)","mediaUrl":"https://res.cloudinary.com/demo/image/upload/v1/t/\#(index).jpg","#
                + #""caption":"post \#(index) — café ☕ #instagram #bakery","mediaType":"IMAGE","#
                + #""permalink":"https://www.instagram.com/p/C\#(index)xYz/","timestamp":"2024-05-0\#(index % 9 + 1)T10:00:00+0000"}"#
        }
        return Array(#"{"success":true,"data":{"photos":[\#(photos.joined(separator: ","))]}}"#.utf8)
    }

    @Test("a feed round-trips through zlib's inflate and shrinks")
    func roundTrip() throws {
        let body = Self.feedEnvelope()
        let compressed = try #require(Gzip.compress(body))
        #expect(Gunzip.decompress(compressed) == body)
        #expect(compressed.count < body.count / 3)
        // RFC 1952 member header: magic, deflate, no flags; the trailer's ISIZE is the input size.
        #expect(Array(compressed.prefix(4)) == [0x1F, 0x8B, 8, 0])
        let isize = compressed.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
        #expect(isize == body.count)
    }

    @Test("empty input is a valid, empty gzip member")
    func empty() throws {
        let compressed = try #require(Gzip.compress([]))
        #expect(Gunzip.decompress(compressed) == [])
        #expect(compressed.count == 20)
    }

    @Test("incompressible input still round-trips and grows only by framing")
    func incompressible() throws {
        var generator = SystemRandomNumberGenerator()
        let noise = (0..<32_768).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let compressed = try #require(Gzip.compress(noise))
        #expect(Gunzip.decompress(compressed) == noise)
        #expect(compressed.count > noise.count)
        #expect(compressed.count < noise.count + 64)
    }

    @Test("large input (1 MB, many deflate windows and output chunks) round-trips")
    func large() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        // Text-like: words from a small alphabet, so it compresses but is not one repeated block.
        let large = (0..<(1 << 20)).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(ascii: "a") + UInt8(truncatingIfNeeded: state >> 59) % 8
        }
        let compressed = try #require(Gzip.compress(large))
        #expect(Gunzip.decompress(compressed) == large)
        #expect(compressed.count < large.count)
    }

    @Test("the test decoder refuses a truncated stream or trailing bytes")
    func decoderIsStrict() throws {
        let compressed = try #require(Gzip.compress(Array("hello".utf8)))
        #expect(Gunzip.decompress(Array(compressed.dropLast())) == nil)
        #expect(Gunzip.decompress(compressed + [0]) == nil)
    }

    /// Not a timed assertion: a measurement for the README, run on request with
    /// `IGMEDIA_GZIP_TIMING=1 swift test --filter GzipTests` (or `=path/to/body.json` to time a
    /// real /photos body, e.g. the bench's static copy). Prints size before/after and µs per feed.
    @Test(
        "measure: compressing one feed (opt-in, prints)",
        .enabled(if: ProcessInfo.processInfo.environment["IGMEDIA_GZIP_TIMING"] != nil))
    func measure() throws {
        let setting = ProcessInfo.processInfo.environment["IGMEDIA_GZIP_TIMING"] ?? "1"
        let body = setting == "1" ? Self.feedEnvelope() : Array(try Data(contentsOf: URL(fileURLWithPath: setting)))
        let rounds = 2000
        var compressedSize = 0
        let clock = ContinuousClock()
        for _ in 0..<50 { _ = Gzip.compress(body) }
        let elapsed = clock.measure {
            for _ in 0..<rounds { compressedSize = Gzip.compress(body)?.count ?? -1 }
        }
        let microseconds = Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6
        print("gzip: \(body.count) → \(compressedSize) bytes "
            + "(\(String(format: "%.1f", 100 * Double(compressedSize) / Double(body.count))) %), "
            + "\(String(format: "%.0f", microseconds / Double(rounds))) µs per compress over \(rounds) rounds")
    }
}
