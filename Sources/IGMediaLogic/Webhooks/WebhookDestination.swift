/// A tenant's webhook URL, checked when it is set: `https://` (plain `http://` only with
/// `WEBHOOK_ALLOW_INSECURE=1`), a host, no credentials, no fragment, at most 2,048 bytes, and no
/// IP literal in a refused range unless `WEBHOOK_ALLOW_PRIVATE=1`. A name is resolved only when
/// a delivery connects, and the address actually connected is checked then (the transport's
/// public-addresses-only mode), so a name that resolves, or later rebinds, to a private address
/// is refused there.
public struct WebhookDestination: Sendable, Equatable {
    public let url: String
    public let host: String

    public struct Policy: Sendable {
        public var allowInsecure: Bool
        public var allowPrivate: Bool
        public init(allowInsecure: Bool, allowPrivate: Bool) {
            self.allowInsecure = allowInsecure
            self.allowPrivate = allowPrivate
        }
    }

    public static func parse(_ text: String, policy: Policy) throws(HTTPError) -> WebhookDestination {
        guard text.utf8.count <= 2048 else { throw .validation("url must be at most 2048 bytes") }
        guard text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .validation("url must be printable ASCII without spaces (percent-encode the rest)")
        }
        let rest: Substring
        if text.lowercased().hasPrefix("https://") {
            rest = text.dropFirst(8)
        } else if text.lowercased().hasPrefix("http://") {
            guard policy.allowInsecure else { throw .validation("url must start with https:// (http:// needs WEBHOOK_ALLOW_INSECURE=1)") }
            rest = text.dropFirst(7)
        } else {
            throw .validation("url must start with https://")
        }
        guard !text.contains("#") else { throw .validation("url must not have a fragment") }
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        guard !authority.contains("@") else { throw .validation("url must not carry credentials") }
        var host = String(authority)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { throw .validation("url has a malformed IPv6 host") }
            host = String(host[host.index(after: host.startIndex)..<close])
        } else if let colon = host.lastIndex(of: ":") {
            let port = host[host.index(after: colon)...]
            guard !port.isEmpty, port.count <= 5, port.allSatisfy(\.isASCIIDigit), let number = Int(port), (1...65535).contains(number)
            else { throw .validation("url has an invalid port") }
            host = String(host[..<colon])
        }
        host = host.lowercased()
        guard !host.isEmpty, host.utf8.count <= 253 else { throw .validation("url must name a host") }
        if !policy.allowPrivate {
            if host == "localhost" || host.hasSuffix(".localhost") || host.hasSuffix(".internal") || host.hasSuffix(".local") {
                throw .validation("url must not point at a local or internal host")
            }
            if let octets = IPv4.parse(host), !IPv4.isPublic(octets) {
                throw .validation("url must not point at a loopback, private, link-local or reserved address")
            }
            if host.contains(":") { throw .validation("url must not use an IPv6 literal (use a DNS name)") }
        }
        return WebhookDestination(url: text, host: host)
    }
}

/// Dotted-quad IPv4 literals and the ranges deliveries refuse (the transport's C check is the
/// one that counts; this one gives an early, clear answer when the URL is set).
enum IPv4 {
    static func parse(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCIIDigit), let value = UInt8(part) else { return nil }
            octets.append(value)
        }
        return octets
    }

    static func isPublic(_ b: [UInt8]) -> Bool {
        switch (b[0], b[1]) {
        case (0, _), (10, _), (127, _): return false
        case (100, 64...127): return false
        case (169, 254): return false
        case (172, 16...31): return false
        case (192, 168): return false
        case (198, 18...19): return false
        case (224...255, _): return false
        default: break
        }
        if b[0] == 192 && b[1] == 0 && (b[2] == 0 || b[2] == 2) { return false }
        if b[0] == 198 && b[1] == 51 && b[2] == 100 { return false }
        if b[0] == 203 && b[1] == 0 && b[2] == 113 { return false }
        return true
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
