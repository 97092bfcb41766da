/// Reads typed values out of an environment dictionary and collects every problem, so one
/// startup reports them all at once.
struct EnvironmentReader {
    let environment: [String: String]
    private(set) var problems: [String] = []

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
