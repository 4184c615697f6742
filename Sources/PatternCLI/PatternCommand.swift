import ArgumentParser

/// The `pattern` command and its subcommands.
public struct PatternCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pattern",
        abstract: "Compile GitOps patterns and site overlays into manifests, and reconcile clusters with them.",
        subcommands: []
    )
    public init() {}
}
