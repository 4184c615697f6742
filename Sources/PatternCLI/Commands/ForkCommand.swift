import ArgumentParser
import PatternSource
import PatternCore

/// `pattern fork <upstream-url> <dir>`: a working clone of a pattern with its upstream recorded.
public struct ForkCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fork",
        abstract: "Clone a pattern repository as a fork that can take upstream updates.",
        usage: "pattern fork <upstream> <directory> [--ref <ref>]\n  [--git-user <user>] [--token-env <var> | --token-file <file>]\n  [--ssh-key <file> [--ssh-passphrase-env <var>]] [--ca-bundle <file>]\n  [-o text|json|yaml]",
        discussion: """
            Clones <upstream-url> into <dir> with the remote named 'upstream' and records \
            pattern.upstream and pattern.upstreamRef in the repository config. Add your site \
            overlays, commit, and later run `pattern update` to merge upstream changes. -o json or \
            yaml prints a Fork document (directory, upstream, upstreamRef, branch, commit).

            Examples:
              pattern fork https://github.com/example/multicloud-gitops.git my-platform
              pattern fork git@github.com:example/pattern.git my-platform --ref v1.4.0 --ssh-key ~/.ssh/id_ed25519
            """
    )

    @Argument(help: "Upstream repository URL or path.") public var upstream: String
    @Argument(help: "Directory to create.") public var directory: String
    @Option(help: "Upstream branch, tag or commit to start from (default: the upstream default branch).")
    public var ref: String?
    @OptionGroup public var credentialOptions: GitCredentialOptions
    @Option(name: .shortAndLong, help: "Output: text, json or yaml (a Fork document).") public var output: DocumentFormat = .text

    public init() {}

    public func run() async throws {
        do {
            let c = try Fork.create(upstream: upstream, into: directory, ref: ref, credentials: credentialOptions.credentials)
            if output != .text { Output.document(ToolReports.fork(c), output); return }
            Output.out("forked \(c.upstreamURL) (\(c.upstreamRef)) into \(c.directory)" + "\n")
            Output.out("branch \(c.branch) at \(c.commit)" + "\n")
            Output.out("next: add overlays/<site>/, commit, and run `pattern update` to take upstream changes" + "\n")
        } catch {
            throw SourceOutput.fail(error)
        }
    }
}
