/// The `Accept-Encoding` request header (RFC 9110 §12.5.3), reduced to the one question the
/// responder asks: send the gzip representation, or the identity one?
///
/// - Codings are case-insensitive tokens; `x-gzip` is `gzip`. Each may carry a weight
///   (`;q=0.5`, optional whitespace around the `;`); no weight means 1, and `q=0` means "not
///   acceptable".
/// - gzip is acceptable when it is listed with q > 0 (listed more than once: the lowest weight
///   counts), or, when not listed, when `*` is listed with q > 0.
/// - gzip is chosen when acceptable and weighted no lower than an explicitly listed `identity`
///   (`gzip;q=0.5, identity` prefers identity; a tie goes to gzip, the smaller body).
/// - No header, an empty one, or one that breaks the grammar anywhere (a missing comma, a bad
///   weight, a quoted string, a parameter other than q) means identity: a header we cannot read
///   never fails a request, and identity is the one representation every client can decode.
public enum AcceptEncoding {
    /// Whether to send gzip, given every `Accept-Encoding` value of the request (repeated fields
    /// form one comma-separated list).
    public static func prefersGzip(_ values: [String]) -> Bool {
        guard !values.isEmpty else { return false }
        var weights = Weights()
        for value in values {
            var value = value
            let parsed = value.withUTF8 { parse($0, into: &weights) }
            guard parsed else { return false }
        }
        guard let gzip = weights.gzip ?? weights.any, gzip > 0 else { return false }
        return gzip >= (weights.identity ?? 0)
    }

    public static func prefersGzip(_ value: String) -> Bool {
        prefersGzip([value])
    }

    /// Weights in thousandths (q=0.5 is 500); nil = not listed.
    private struct Weights {
        var gzip: Int?
        var identity: Int?
        var any: Int?
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>, into weights: inout Weights) -> Bool {
        var start = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: ",") { end += 1 }
            guard element(UnsafeBufferPointer(rebasing: bytes[start..<end]), into: &weights) else { return false }
            start = end + 1
        }
        return true
    }

    /// One list element: `coding *( OWS ";" OWS "q=" qvalue )`, or nothing (empty elements are
    /// allowed by the list syntax).
    private static func element(_ bytes: UnsafeBufferPointer<UInt8>, into weights: inout Weights) -> Bool {
        let semicolon = UInt8(ascii: ";")
        var parts = bytes[...]
        let coding = trimmed(parts.prefix { $0 != semicolon })
        parts = parts.dropFirst(coding.endIndex - parts.startIndex)
        if coding.isEmpty { return trimmed(parts).isEmpty }
        guard coding.allSatisfy(isTokenByte) else { return false }
        var weight = 1000
        while let first = parts.first {
            parts = parts.dropFirst()
            if first == semicolon {
                let parameter = trimmed(parts.prefix { $0 != semicolon })
                parts = parts.dropFirst(parameter.endIndex - parts.startIndex)
                guard let q = weightParameter(parameter) else { return false }
                weight = q
            } else if first != UInt8(ascii: " ") && first != UInt8(ascii: "\t") {
                return false
            }
        }
        if equalsIgnoringCase(coding, "gzip") || equalsIgnoringCase(coding, "x-gzip") {
            weights.gzip = min(weights.gzip ?? weight, weight)
        } else if equalsIgnoringCase(coding, "identity") {
            weights.identity = min(weights.identity ?? weight, weight)
        } else if coding.elementsEqual("*".utf8) {
            weights.any = min(weights.any ?? weight, weight)
        }
        return true
    }

    /// `q=` qvalue (the name is case-insensitive), in thousandths.
    private static func weightParameter(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Int? {
        guard bytes.count > 2, bytes[bytes.startIndex] | 0x20 == UInt8(ascii: "q"),
            bytes[bytes.startIndex + 1] == UInt8(ascii: "=")
        else { return nil }
        return qvalue(bytes.dropFirst(2))
    }

    /// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`, in thousandths.
    private static func qvalue(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Int? {
        guard let first = bytes.first, first == UInt8(ascii: "0") || first == UInt8(ascii: "1") else { return nil }
        let rest = bytes.dropFirst()
        var fraction = 0
        if let dot = rest.first {
            let digits = rest.dropFirst()
            guard dot == UInt8(ascii: "."), digits.count <= 3 else { return nil }
            for digit in digits {
                guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
                fraction = fraction * 10 + Int(digit - UInt8(ascii: "0"))
            }
            for _ in digits.count..<3 { fraction *= 10 }
        }
        if first == UInt8(ascii: "1") {
            return fraction == 0 ? 1000 : nil
        }
        return fraction
    }

    private static func trimmed(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Slice<UnsafeBufferPointer<UInt8>> {
        var s = bytes
        while let f = s.first, f == UInt8(ascii: " ") || f == UInt8(ascii: "\t") { s = s.dropFirst() }
        while let l = s.last, l == UInt8(ascii: " ") || l == UInt8(ascii: "\t") { s = s.dropLast() }
        return s
    }

    /// RFC 9110 tchar.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// `bytes` is a token (checked before), so setting bit 5 lower-cases letters and changes no
    /// token byte into another letter or `-`.
    private static func equalsIgnoringCase(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, _ lowercase: StaticString) -> Bool {
        bytes.count == lowercase.utf8CodeUnitCount
            && zip(bytes, UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount))
                .allSatisfy { $0 | 0x20 == $1 }
    }
}
