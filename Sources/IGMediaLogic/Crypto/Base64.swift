/// Standard and URL-safe base64 (RFC 4648), strict on decode.
public enum Base64 {
    private static let standardAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let urlAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    public static func encode<C: Collection>(_ bytes: C, urlSafe: Bool = false, padding: Bool = true) -> String
    where C.Element == UInt8 {
        let alphabet = urlSafe ? urlAlphabet : standardAlphabet
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var iterator = bytes.makeIterator()
        while let b0 = iterator.next() {
            let b1 = iterator.next()
            let b2 = iterator.next()
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | (b1 ?? 0) >> 4)])
            if let b1 {
                out.append(alphabet[Int((b1 & 0x0F) << 2 | (b2 ?? 0) >> 6)])
            } else if padding {
                out.append(UInt8(ascii: "="))
            }
            if let b2 {
                out.append(alphabet[Int(b2 & 0x3F)])
            } else if padding {
                out.append(UInt8(ascii: "="))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func encodeURL<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        encode(bytes, urlSafe: true, padding: false)
    }

    /// Decodes standard base64; padding optional. Returns nil on any invalid character.
    public static func decode(_ text: String) -> [UInt8]? { decode(text, urlSafe: false) }

    /// Decodes base64url; padding optional.
    public static func decodeURL(_ text: String) -> [UInt8]? { decode(text, urlSafe: true) }

    static func decode(_ text: String, urlSafe: Bool) -> [UInt8]? {
        var values: [UInt8] = []
        values.reserveCapacity(text.utf8.count)
        var padding = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: "=") {
                padding += 1
                continue
            }
            guard padding == 0 else { return nil }
            let value: UInt8
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = byte - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = byte - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+") where !urlSafe: value = 62
            case UInt8(ascii: "/") where !urlSafe: value = 63
            case UInt8(ascii: "-") where urlSafe: value = 62
            case UInt8(ascii: "_") where urlSafe: value = 63
            default: return nil
            }
            values.append(value)
        }
        guard padding <= 2, values.count % 4 != 1 else { return nil }
        if padding > 0 && (values.count + padding) % 4 != 0 { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(values.count * 3 / 4)
        var index = 0
        while index + 4 <= values.count {
            let v0 = values[index], v1 = values[index + 1], v2 = values[index + 2], v3 = values[index + 3]
            out.append(v0 << 2 | v1 >> 4)
            out.append(v1 << 4 | v2 >> 2)
            out.append(v2 << 6 | v3)
            index += 4
        }
        let rest = values.count - index
        if rest >= 2 {
            let v0 = values[index], v1 = values[index + 1]
            out.append(v0 << 2 | v1 >> 4)
            if rest == 3 {
                let v2 = values[index + 2]
                out.append(v1 << 4 | v2 >> 2)
            }
        }
        return out
    }
}
