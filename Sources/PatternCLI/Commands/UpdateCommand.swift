import ArgumentParser
import PatternSource

/// `pattern update [<dir>]`: merge upstream changes into a fork.
public struct UpdateCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "Fetch the upstream pattern and merge its changes into this fork, keeping local edits.",
        discussion: """
            Three-way merge of the upstream ref (default: pattern.upstreamRef) into the checked-out \
            branch. A clean merge is committed with a message naming the upstream commit; a fork \
            without commits of its own is fast-forwarded instead (--ff-only refuses anything else). \
            An explicit --ref is remembered as the new pattern.upstreamRef. Untracked files that \
            upstream would overwrite stop the update, as they stop `git merge`. On \
            conflicts, the files are listed and the repository is left exactly as `git merge` \
            leaves it: edit the files, `git add` them and `git commit` (or `git merge --abort`).
            Exits 0 when merged or up to date, 1 on conflicts or errors.

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

    public init() {}

    public func run() async throws {
        let r: Fork.UpdateResult
        do {
            r = try Fork.update(directory: directory, ref: ref, dryRun: dryRun, ffOnly: ffOnly, credentials: credentialOptions.credentials)
        } catch {
            throw SourceOutput.fail(error)
        }
        let up = "upstream \(r.upstreamRef) at \(r.upstreamCommit.prefix(12))"
        for w in r.warnings { SourceOutput.err("warning: \(w)") }
        if r.outcome == .upToDate { print("already up to date with \(up)"); return }
        print("changed upstream since the last merge (\(r.upstreamChanges.count) files):")
        for c in r.upstreamChanges { print("  \(c)") }
        switch r.outcome {
        case .upToDate: break
        case .wouldMerge:
            print("dry run: merging \(up) would be clean (\(r.localChanges.count) locally changed files kept)")
        case .wouldConflict:
            print("dry run: merging \(up) would conflict in:")
            for c in r.conflicts { print("  \(c)") }
            throw ExitCode.failure
        case .merged(let commit):
            print("merged \(up) as \(commit.prefix(12))")
        case .fastForwarded(let commit):
            print("fast-forwarded to \(up) (\(commit.prefix(12))); the fork had no commits of its own")
        case .conflicted:
            SourceOutput.err("merge of \(up) stopped with conflicts in:")
            for c in r.conflicts { SourceOutput.err("  \(c)") }
            SourceOutput.err("fix: edit the files (look for <<<<<<< markers), `git add` them, then `git commit`; or `git merge --abort`")
            throw ExitCode.failure
        }
    }
}
