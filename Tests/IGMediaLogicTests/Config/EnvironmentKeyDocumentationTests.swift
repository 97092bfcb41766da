import Foundation
import Testing

@testable import IGMediaLogic

/// The README's configuration table, `systemd/igmedia.env.example` and `EnvironmentKey` (what the
/// parser reads) name the same variables: adding one in one place fails here until all three agree.
@Suite("Environment variables are documented where they are read")
struct EnvironmentKeyDocumentationTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var parsed: Set<String> { Set(EnvironmentKey.allCases.map(\.rawValue)) }

    static func text(_ path: String) throws -> String {
        try String(contentsOf: repository.appendingPathComponent(path), encoding: .utf8)
    }

    /// Names in backticks in the first column of the table under "## Configuration".
    static func readmeNames() throws -> Set<String> {
        let readme = try text("README.md")
        guard let section = readme.range(of: "\n## Configuration\n") else { return [] }
        let rest = readme[section.upperBound...]
        let end = rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex
        var names: Set<String> = []
        for line in rest[..<end].split(separator: "\n") where line.hasPrefix("| `") {
            let firstColumn = line.dropFirst(2).prefix(while: { $0 != "|" })
            for piece in firstColumn.split(separator: "`", omittingEmptySubsequences: false).enumerated()
            where piece.offset % 2 == 1 {
                names.insert(String(piece.element))
            }
        }
        return names
    }

    /// `NAME=` and `#NAME=` lines.
    static func exampleNames() throws -> Set<String> {
        var names: Set<String> = []
        for line in try text("systemd/igmedia.env.example").split(separator: "\n") {
            let assignment = line.hasPrefix("#") ? line.dropFirst() : line[...]
            guard let eq = assignment.firstIndex(of: "=") else { continue }
            let name = assignment[..<eq]
            if !name.isEmpty, name.allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" }) { names.insert(String(name)) }
        }
        return names
    }

    @Test("the README's configuration table lists exactly the variables the parser reads")
    func readme() throws {
        let documented = try Self.readmeNames()
        #expect(documented.subtracting(Self.parsed).sorted() == [], "documented but never read")
        #expect(Self.parsed.subtracting(documented).sorted() == [], "read but not in the README table")
    }

    @Test("systemd/igmedia.env.example lists exactly the variables the parser reads")
    func envExample() throws {
        let documented = try Self.exampleNames()
        #expect(documented.subtracting(Self.parsed).sorted() == [], "in the example but never read")
        #expect(Self.parsed.subtracting(documented).sorted() == [], "read but not in the example")
    }

    @Test("a key interpolates as its variable name, so messages name the variable")
    func description() {
        #expect("\(EnvironmentKey.port)" == "PORT")
        #expect(EnvironmentKey.allCases.count == Self.parsed.count, "two keys spell one variable")
    }
}
