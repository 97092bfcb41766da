import Testing

@testable import IGMediaLogic

@Suite("Accept-Encoding")
struct AcceptEncodingTests {
    /// (header value, gzip chosen?)
    static let cases: [(String, Bool)] = [
        // What browsers and tools send.
        ("gzip, deflate, br, zstd", true),
        ("gzip, deflate", true),
        ("gzip", true),
        ("deflate, br", false),
        ("identity", false),
        ("", false),
        // Tokens are case-insensitive; x-gzip is gzip; whitespace and empty list elements are fine.
        ("GZIP", true),
        ("Gzip;Q=1", true),
        ("x-gzip", true),
        ("X-Gzip", true),
        ("  gzip  ,  deflate  ", true),
        ("\tgzip\t", true),
        (",, gzip ,,", true),
        ("gzip ; q=0.8", true),
        // q = 0 means "not acceptable", in every spelling of zero.
        ("gzip;q=0", false),
        ("gzip; q=0", false),
        ("gzip ;q=0", false),
        ("gzip;q=0.", false),
        ("gzip;q=0.000", false),
        ("gzip;Q=0", false),
        ("x-gzip;q=0", false),
        ("gzip;q=0.001", true),
        ("gzip;q=1", true),
        ("gzip;q=1.", true),
        ("gzip;q=1.000", true),
        // `*` stands for gzip unless gzip is listed itself.
        ("*", true),
        ("br, *;q=0.1", true),
        ("*;q=0", false),
        ("*, gzip;q=0", false),
        ("gzip;q=0, *", false),
        ("x-gzip;q=0, *", false),
        ("*;q=0, gzip", true),
        // Listed twice: the lowest weight counts.
        ("gzip;q=0, x-gzip", false),
        ("gzip, gzip;q=0", false),
        // An explicitly preferred identity wins; a tie goes to gzip.
        ("gzip;q=0.5, identity", false),
        ("gzip, identity;q=0.5", true),
        ("gzip;q=0.5, identity;q=0.5", true),
        ("identity;q=0, gzip;q=0", false),
        ("identity;q=0, gzip", true),
        // Malformed anywhere: identity, never an error.
        ("gzip;q=", false),
        ("gzip;q=abc", false),
        ("gzip;q=1.5", false),
        ("gzip;q=1.001", false),
        ("gzip;q=2", false),
        ("gzip;q=0.0001", false),
        ("gzip;q=-1", false),
        ("gzip;q = 0.5", false),
        ("gzip;q=0.5 x", false),
        ("gzip;", false),
        ("gzip;level=9", false),
        ("gzip deflate", false),
        ("gzip, \"br\"", false),
        (";q=1", false),
        ("gzip, br;q=x", false),
        ("gzip;q=1;q=", false),
        ("gz\u{ED}p", false),
        ("gzip\u{0}", false),
        ("gzip, \u{1F600}", false),
    ]

    @Test("chooses gzip only when the header clearly allows and prefers it", arguments: cases)
    func table(header: String, expected: Bool) {
        #expect(AcceptEncoding.prefersGzip(header) == expected, "\(header.debugDescription)")
    }

    @Test("no header means identity; repeated fields form one list")
    func repeatedFields() {
        #expect(!AcceptEncoding.prefersGzip([]))
        #expect(AcceptEncoding.prefersGzip(["deflate", "gzip"]))
        #expect(!AcceptEncoding.prefersGzip(["gzip", "gzip;q=0"]))
        #expect(!AcceptEncoding.prefersGzip(["*", "gzip;q=0"]))
        #expect(!AcceptEncoding.prefersGzip(["gzip", "not a list"]))
    }
}
