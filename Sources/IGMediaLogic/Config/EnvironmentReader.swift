/// Reads typed values out of an environment dictionary and collects every problem, so one
/// startup reports them all at once.
struct EnvironmentReader {
    let environment: [String: String]
    private(set) var problems: [String] = []

    init(_ environment: [String: String]) { self.environment = environment }

    /// A trimmed, non-empty value, or nil.
    func raw(_ name: String) -> String? {
        guard let value = environment[name] else { return nil }
        let trimmed = value.trimmingCharacters(in: " \t\r\n")
        return trimmed.isEmpty ? nil : trimmed
    }

    func isSet(_ name: String) -> Bool { raw(name) != nil }

    mutating func problem(_ text: String) { problems.append(text) }

    mutating func required(_ name: String) -> String {
        guard let value = raw(name) else {
            problem("\(name) is required")
            return ""
        }
        return value
    }

    mutating func integer(_ name: String, default defaultValue: Int, range: ClosedRange<Int>) -> Int {
        guard let text = raw(name) else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            problem("\(name) must be an integer in \(range.lowerBound)...\(range.upperBound)")
            return defaultValue
        }
        return value
    }

    mutating func url(_ name: String, default defaultValue: String? = nil) -> String? {
        guard let text = raw(name) else { return defaultValue }
        guard Self.isHTTPURL(text) else {
            problem("\(name) must be an http(s) URL")
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
    mutating func group(_ label: String, _ names: [String]) -> Bool {
        let present = names.filter { isSet($0) }
        if present.isEmpty { return false }
        if present.count == names.count { return true }
        let missing = names.filter { !isSet($0) }
        problem("\(label) is partially configured: set \(missing.joined(separator: ", ")) too, or unset \(present.joined(separator: ", "))")
        return false
    }
}
