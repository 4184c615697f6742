import ArgumentParser
import PatternCore

/// `pattern version`: build information.
public struct VersionCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the version of pattern and how it was built.",
        discussion: """
            Prints the version, the git commit it was built from (with "(modified)" when tracked \
            files differed from it; "unknown" for a build outside a git checkout, such as a Docker \
            build without PATTERN_GIT_COMMIT), the Swift compiler and the platform. \
            `pattern --version` prints the same as one line. With -o json or yaml: a document with \
            apiVersion and kind (Version); `dirty` is null when unknown.
            """
    )

    @Option(name: .shortAndLong, help: "Output format: text, json or yaml.") public var output: DocumentFormat = .text

    public init() {}

    /// The commit as `pattern version` prints it: 12 hex digits, "+dirty" when modified.
    static var commitText: String {
        let c = GitInfo.commit
        let short = c.count >= 40 && c.allSatisfy(\.isHexDigit) ? String(c.prefix(12)) : c
        return short + (GitInfo.dirty == true ? " (modified)" : "")
    }

    /// `pattern 0.1.0 (commit 0123456789ab, swift 6.3+, linux/amd64)`: what `--version` prints.
    static var line: String {
        "pattern \(PatternVersion.current) (commit \(commitText), swift \(PatternVersion.swift), \(PatternVersion.platform))"
    }

    public func run() throws {
        let doc: Value = ["apiVersion": "pattern.dev/v1alpha1", "kind": "Version", "version": .string(PatternVersion.current),
                          "commit": .string(GitInfo.commit), "dirty": GitInfo.dirty.map { .bool($0) } ?? .null,
                          "swift": .string(PatternVersion.swift), "platform": .string(PatternVersion.platform)]
        switch output {
        case .text:
            Output.out("pattern \(PatternVersion.current)\n  commit:   \(Self.commitText)\n  swift:    \(PatternVersion.swift)\n  platform: \(PatternVersion.platform)\n")
        case .json, .yaml: Output.document(doc, output)
        }
    }
}
