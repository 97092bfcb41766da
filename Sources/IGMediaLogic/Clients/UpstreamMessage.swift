/// Upstream error text made safe to log and to show.
public enum UpstreamMessage {
    /// `text` safe to log and to return: without any of `secrets`, without URL queries (signed
    /// CDN links, Graph `next` links embed tokens), without control characters, optionally without
    /// long hex runs (request signatures), clipped to `maxLength` characters.
    public static func redact(_ text: String, secrets: [String], maxLength: Int = 300, redactHexRuns: Bool = false) -> String {
        // Bytes, not Characters: a secret must match even when a combining mark follows it.
        var bytes = Array(text.utf8)
        for secret in secrets where secret.utf8.count >= 4 {
            bytes = replacing(Array(secret.utf8), with: Array("[redacted]".utf8), in: bytes)
        }
        bytes = dropURLQueries(bytes).map { $0 < 0x20 || $0 == 0x7F ? UInt8(ascii: " ") : $0 }
        var result = String(decoding: bytes, as: UTF8.self)
        if redactHexRuns { result = hexRunsRedacted(result) }
        if result.count > maxLength { result = String(result.prefix(maxLength)) + "…" }
        return result
    }

    /// Replaces every run of 32 or more hex digits (SHA-1/SHA-256 signatures) with `[redacted]`.
    static func hexRunsRedacted(_ text: String) -> String {
        var out = ""
        var run = ""
        for character in text {
            if character.isHexDigit {
                run.append(character)
                continue
            }
            out += run.count >= 32 ? "[redacted]" : run
            run = ""
            out.append(character)
        }
        return out + (run.count >= 32 ? "[redacted]" : run)
    }

    static func replacing(_ target: [UInt8], with replacement: [UInt8], in bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == target[0], bytes[index...].starts(with: target) {
                output += replacement
                index += target.count
            } else {
                output.append(bytes[index])
                index += 1
            }
        }
        return output
    }

    /// Cuts `?query` off every `http://`/`https://` URL (Graph `next` links embed the token).
    static func dropURLQueries(_ bytes: [UInt8]) -> [UInt8] {
        let scheme = Array("http".utf8)
        let stops: Set<UInt8> = [0x20, 0x0A, 0x0D, 0x09, UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: ">")]
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        var inURL = false
        while index < bytes.count {
            let byte = bytes[index]
            if !inURL, byte == scheme[0], bytes[index...].starts(with: scheme) {
                inURL = true
            } else if inURL, stops.contains(byte) {
                inURL = false
            } else if inURL, byte == UInt8(ascii: "?") {
                output += Array("?[query removed]".utf8)
                while index < bytes.count, !stops.contains(bytes[index]) { index += 1 }
                inURL = false
                continue
            }
            output.append(byte)
            index += 1
        }
        return output
    }
}
