/// Reads typed values out of an environment dictionary and collects every problem, so one
/// startup reports them all at once.
struct EnvironmentReader {
    let environment: [String: String]
    private(set) var problems: [String] = []
    /// `ALLOW_INSECURE_UPSTREAM=1`: `upstreamURL` then takes http:// for any host.
    var insecureUpstreamAllowed = false

    init(_ environment: [String: String]) { self.environment = environment }

    /// A trimmed, non-empty value, or nil.
    func raw(_ key: EnvironmentKey) -> String? {
        guard let value = environment[key.rawValue] else { return nil }
        let trimmed = value.trimmingCharacters(in: " \t\r\n")
        return trimmed.isEmpty ? nil : trimmed
    }

    func isSet(_ key: EnvironmentKey) -> Bool { raw(key) != nil }

    mutating func problem(_ text: String) { problems.append(text) }

    mutating func required(_ key: EnvironmentKey) -> String {
        guard let value = raw(key) else {
            problem("\(key) is required")
            return ""
        }
        return value
    }

    mutating func integer(_ key: EnvironmentKey, default defaultValue: Int, range: ClosedRange<Int>) -> Int {
        guard let text = raw(key) else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            problem("\(key) must be an integer in \(range.lowerBound)...\(range.upperBound)")
            return defaultValue
        }
        return value
    }

    mutating func url(_ key: EnvironmentKey, default defaultValue: String? = nil) -> String? {
        guard let text = raw(key) else { return defaultValue }
        guard Self.isHTTPURL(text) else {
            problem("\(key) must be an http(s) URL")
            return defaultValue
        }
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }

    /// `1` or `0` (also true/false, yes/no); unset is false.
    mutating func flag(_ key: EnvironmentKey) -> Bool {
        guard let text = raw(key) else { return false }
        switch text.lowercased() {
        case "1", "true", "yes": return true
        case "0", "false", "no": return false
        default:
            problem("\(key) must be 1 or 0")
            return false
        }
    }

    /// A base URL the service sends tokens or secrets to: https://, or http:// to a loopback host
    /// (the tests' fakes), or any http:// with `ALLOW_INSECURE_UPSTREAM=1`.
    mutating func upstreamURL(_ key: EnvironmentKey, default defaultValue: String) -> String {
        guard let url = url(key, default: defaultValue) else { return defaultValue }
        if url.lowercased().hasPrefix("http://"), !insecureUpstreamAllowed, !Self.isLoopback(host: Self.host(of: url)) {
            problem(
                "\(key) uses http:// to a host that is not loopback: its token would cross the network in clear text "
                    + "(use https://, or set \(EnvironmentKey.allowInsecureUpstream)=1)")
        }
        return url
    }

    /// The host of an http(s) URL: after the scheme and any `user:password@`, without the port;
    /// an IPv6 literal without its brackets.
    static func host(of url: String) -> Substring {
        guard let scheme = url.firstRange(of: "://") else { return "" }
        let authority = url[scheme.upperBound...].prefix(while: { $0 != "/" && $0 != "?" && $0 != "#" })
        let hostPort = authority.lastIndex(of: "@").map { authority[authority.index(after: $0)...] } ?? authority
        if hostPort.first == "[" {
            return hostPort.dropFirst().prefix(while: { $0 != "]" })
        }
        return hostPort.prefix(while: { $0 != ":" })
    }

    /// 127.0.0.0/8, ::1 or localhost.
    static func isLoopback(host: Substring) -> Bool {
        let lower = host.lowercased()
        return lower == "localhost" || lower == "::1" || (isIPv4(host) && host.hasPrefix("127."))
    }

    /// A dotted-quad IPv4 address.
    static func isIPv4(_ text: Substring) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy { $0.isASCII && $0.isNumber } && Int(part).map { $0 <= 255 } == true
        }
    }

    static func isHTTPURL(_ text: String) -> Bool {
        let lower = text.lowercased()
        let rest: Substring
        if lower.hasPrefix("https://") {
            rest = lower.dropFirst(8)
        } else if lower.hasPrefix("http://") {
            rest = lower.dropFirst(7)
        } else {
            return false
        }
        let host = rest.prefix(while: { $0 != "/" && $0 != "?" && $0 != "#" })
        return !host.isEmpty && !text.contains(where: { $0 == " " || $0 == "\n" || $0 == "\r" })
    }

    /// Checks that a group of variables is either complete or entirely absent.
    /// Returns true when the group is complete.
    mutating func group(_ label: String, _ keys: [EnvironmentKey]) -> Bool {
        let present = keys.filter { isSet($0) }
        if present.isEmpty { return false }
        if present.count == keys.count { return true }
        let missing = keys.filter { !isSet($0) }
        problem("\(label) is partially configured: set \(names(missing)) too, or unset \(names(present))")
        return false
    }

    private func names(_ keys: [EnvironmentKey]) -> String {
        keys.map(\.rawValue).joined(separator: ", ")
    }
}
