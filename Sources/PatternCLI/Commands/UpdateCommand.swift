import ArgumentParser
import PatternSource
import PatternCore

/// `pattern update [<dir>]`: merge upstream changes into a fork.
public struct UpdateCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "Fetch the upstream pattern and merge its changes into this fork, keeping local edits.",
        usage: "pattern update [<directory>] [--ref <ref>] [--dry-run]\n  [--git-user <user>] [--token-env <var> | --token-file <file>]\n  [--ssh-key <file> [--ssh-passphrase-env <var>]] [--ca-bundle <file>]\n  [-o text|json|yaml]",
        discussion: """
            Three-way merge of the upstream ref (default: pattern.upstreamRef) into the checked-out \
            branch. A clean merge is committed with a message naming the upstream commit; a fork \
            without commits of its own is fast-forwarded instead (--ff-only refuses anything else). \
            An explicit --ref is remembered as the new pattern.upstreamRef. Untracked files that \
            upstream would overwrite stop the update, as they stop `git merge`. On \
            conflicts, the files are listed and the repository is left exactly as `git merge` \
            leaves it: edit the files, `git add` them and `git commit` (or `git merge --abort`).
            Exits 0 when merged or up to date, 1 on conflicts or errors. -o json or yaml prints an \
            Update document (outcome, commit, upstream and local changes, conflicts) with the same \
            exit codes.

            Examples:
              pattern update --dry-run
              pattern update my-platform --ref v1.5.0
            """
    )

    @Argument(help: "The fork's directory (default: current directory).") public var directory: String = "."
    @Option(help: "Upstream branch, tag or commit to merge (default: pattern.upstreamRef).") public var ref: String?
    @Flag(name: .customLong("dry-run"), help: "Only show what changed upstream and what would conflict.")
    public var dryRun = false
    @Flag(name: .customLong("ff-only"), help: "Only fast-forward: refuse when the fork has commits of its own.")
    public var ffOnly = false
    @OptionGroup public var credentialOptions: GitCredentialOptions
    @Option(name: .shortAndLong, help: "Output: text, json or yaml (a Update document).") public var output: DocumentFormat = .text

    public init() {}

    public func run() async throws {
        let r: Fork.UpdateResult
        do {
            r = try Fork.update(directory: directory, ref: ref, dryRun: dryRun, ffOnly: ffOnly, credentials: credentialOptions.credentials)
        } catch {
            throw SourceOutput.fail(error)
        }
        if output != .text {
            for w in r.warnings { SourceOutput.err("warning: \(w)") }
            Output.document(ToolReports.update(r), output)
            switch r.outcome {
            case .wouldConflict, .conflicted: throw ExitCode.failure
            default: return
            }
        }
        let up = "upstream \(r.upstreamRef) at \(r.upstreamCommit.prefix(12))"
        for w in r.warnings { SourceOutput.err("warning: \(w)") }
        if r.outcome == .upToDate { Output.out("already up to date with \(up)" + "\n"); return }
        Output.out("changed upstream since the last merge (\(r.upstreamChanges.count) files):" + "\n")
        for c in r.upstreamChanges { Output.out("  \(c)" + "\n") }
        switch r.outcome {
        case .upToDate: break
        case .wouldMerge:
            Output.out("dry run: merging \(up) would be clean (\(r.localChanges.count) locally changed files kept)" + "\n")
        case .wouldConflict:
            Output.out("dry run: merging \(up) would conflict in:" + "\n")
            for c in r.conflicts { Output.out("  \(c)" + "\n") }
            throw ExitCode.failure
        case .merged(let commit):
            Output.out("merged \(up) as \(commit.prefix(12))" + "\n")
        case .fastForwarded(let commit):
            Output.out("fast-forwarded to \(up) (\(commit.prefix(12))); the fork had no commits of its own" + "\n")
        case .conflicted:
            SourceOutput.err("merge of \(up) stopped with conflicts in:")
            for c in r.conflicts { SourceOutput.err("  \(c)") }
            SourceOutput.err("fix: edit the files (look for <<<<<<< markers), `git add` them, then `git commit`; or `git merge --abort`")
            throw ExitCode.failure
        }
    }
}
