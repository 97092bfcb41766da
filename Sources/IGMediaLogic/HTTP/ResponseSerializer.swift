/// Writes a response the CGI way: a `Status:` line, headers, a blank line, then the body.
public enum ResponseSerializer {
    /// The head (status line and headers). The body is written separately so a large feed is
    /// never copied into a second buffer.
    public static func head(_ response: Response) -> [UInt8] {
        // Appended as bytes: String interpolation per header line showed up in profiles.
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(contentsOf: "Status: ".utf8)
        appendDecimal(response.status.code, to: &out)
        out.append(0x20)
        out.append(contentsOf: response.status.reasonPhrase.utf8)
        out.append(contentsOf: [0x0D, 0x0A])
        var hasLength = false
        for field in response.headers {
            // Header injection guard: a value never carries a line break.
            guard isSafe(field.name), isSafe(field.value) else { continue }
            if HTTPHeaders.sameName(field.name, "Content-Length") { hasLength = true }
            out.append(contentsOf: field.name.utf8)
            out.append(contentsOf: [0x3A, 0x20])
            out.append(contentsOf: field.value.utf8)
            out.append(contentsOf: [0x0D, 0x0A])
        }
        if !hasLength && response.status != .notModified {
            out.append(contentsOf: "Content-Length: ".utf8)
            appendDecimal(response.body.count, to: &out)
            out.append(contentsOf: [0x0D, 0x0A])
        }
        out.append(contentsOf: [0x0D, 0x0A])
        return out
    }

    private static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        precondition(value >= 0)
        var digits: [UInt8] = []
        var rest = value
        repeat {
            digits.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        out.append(contentsOf: digits.reversed())
    }

    public static func serialize(_ response: Response) -> [UInt8] {
        head(response) + response.body
    }

    private static func isSafe(_ text: String) -> Bool {
        !text.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 })
    }

}
