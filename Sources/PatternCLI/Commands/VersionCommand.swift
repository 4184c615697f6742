import ArgumentParser
import PatternCore

/// `pattern version`: build information.
public struct VersionCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the version of pattern and how it was built.",
        discussion: """
            Prints the version, the Swift compiler and the platform. `pattern --version` prints the same \
            as one line. With -o json or yaml: a document with apiVersion and kind (Version).
            """
    )

    @Option(name: .shortAndLong, help: "Output format: text, json or yaml.") public var output: DocumentFormat = .text

    public init() {}

    public func run() throws {
        let doc: Value = ["apiVersion": "pattern.dev/v1alpha1", "kind": "Version", "version": .string(PatternVersion.current),
                          "swift": .string(PatternVersion.swift), "platform": .string(PatternVersion.platform)]
        switch output {
        case .text:
            Output.out("pattern \(PatternVersion.current)\n  swift:    \(PatternVersion.swift)\n  platform: \(PatternVersion.platform)\n")
        case .json: Output.out(JSONWriter.string(doc, options: .init(indent: 2)) + "\n")
        case .yaml: Output.out(YAMLEmitter().emit(doc))
        }
    }
}
