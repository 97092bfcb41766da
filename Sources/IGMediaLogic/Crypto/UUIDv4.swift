/// Random (version 4) UUIDs in lowercase canonical form, e.g. `0f8fad5b-d9cb-469f-a165-70867728950e`.
public enum UUIDv4 {
    /// A fresh UUID from ``SecureRandom``: 122 random bits plus the version and variant bits.
    public static func make() -> String {
        var bytes = SecureRandom.bytes(16)
        bytes[6] = (bytes[6] & 0x0F) | 0x40  // version 4
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 4122 variant
        let hex = Digest.hex(bytes)
        var out = ""
        out.reserveCapacity(36)
        for (offset, character) in hex.enumerated() {
            switch offset {
            case 8, 12, 16, 20: out.append("-")
            default: break
            }
            out.append(character)
        }
        return out
    }

    /// True only for the form ``make()`` produces: 8-4-4-4-12 lowercase hex, version nibble `4`,
    /// variant nibble `8`–`b`. Uppercase is rejected so that one id has exactly one spelling (ids are
    /// used in storage keys).
    public static func isValid(_ string: String) -> Bool {
        let bytes = Array(string.utf8)
        guard bytes.count == 36 else { return false }
        for (offset, byte) in bytes.enumerated() {
            switch offset {
            case 8, 13, 18, 23:
                guard byte == UInt8(ascii: "-") else { return false }
            case 14:
                guard byte == UInt8(ascii: "4") else { return false }
            case 19:
                guard [UInt8(ascii: "8"), UInt8(ascii: "9"), UInt8(ascii: "a"), UInt8(ascii: "b")].contains(byte)
                else { return false }
            default:
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                else { return false }
            }
        }
        return true
    }
}
