/// Writes a response the CGI way: a `Status:` line, headers, a blank line, then the body.
public enum ResponseSerializer {
    /// The head (status line and headers). The body is written separately so a large feed is
    /// never copied into a second buffer.
    public static func head(_ response: Response) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160)
        append("Status: \(response.status.code) \(response.status.reasonPhrase)\r\n", to: &out)
        var hasLength = false
        for field in response.headers {
            // Header injection guard: a value never carries a line break.
            guard isSafe(field.name), isSafe(field.value) else { continue }
            if HTTPHeaders.sameName(field.name, "Content-Length") { hasLength = true }
            append("\(field.name): \(field.value)\r\n", to: &out)
        }
        if !hasLength && response.status != .notModified {
            append("Content-Length: \(response.body.count)\r\n", to: &out)
        }
        append("\r\n", to: &out)
        return out
    }

    public static func serialize(_ response: Response) -> [UInt8] {
        head(response) + response.body
    }

    private static func isSafe(_ text: String) -> Bool {
        !text.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 })
    }

    private static func append(_ text: String, to out: inout [UInt8]) {
        out.append(contentsOf: text.utf8)
    }
}
