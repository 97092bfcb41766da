/// Every missing or invalid variable, by name. Values are never included: they may be secrets.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible, Equatable {
    public let problems: [String]

    public init(problems: [String]) { self.problems = problems }

    public var description: String {
        "invalid configuration (\(problems.count) problem\(problems.count == 1 ? "" : "s")):\n"
            + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}
