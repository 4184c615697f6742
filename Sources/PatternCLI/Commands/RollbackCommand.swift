import ArgumentParser
import PatternCore
import PatternCompile
import PatternReport
import PatternApply
import PatternRecord

/// `pattern rollback`: re-apply what an earlier ledger entry applied, rendered again from the
/// source cache (works while git is down).
public struct RollbackCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Re-apply what an earlier apply of a site applied, rendered again offline from the source cache.",
        usage: "pattern rollback <site> [--to <seq|revision|commit>] [--dry-run] [-y]\n  [--force] [-o text|json|yaml] [--context <name>] [-C <repo>]",
        discussion: """
            Every apply records in the site's ledger what it rendered from: the pattern's git URL, ref, path \
            and commit, the overlay checkout's commit (and whether it had uncommitted changes), chart \
            versions and digests, the .Release install/upgrade choices and the Helm cluster reads replayed. \
            rollback renders that entry again from those: the overlay files from the checkout's git history \
            (-C; no checkout, nothing in your work tree changes), git patterns and charts from the source \
            cache. It never touches the network, so it works while the git server is down.

            The render must give exactly the revision the entry recorded; otherwise rollback refuses and \
            says which inputs differ (a checkout that was dirty when it was applied, another pattern \
            version, missing cache entries). --force applies the new render anyway.

            Then it applies like `pattern apply`: the change table and `Continue? [yN]` on a terminal \
            (--yes skips it; without a terminal prunes need --yes), ordered server-side apply, readiness \
            waits, and prune of what the entry did not have, with the same prune guards. The new ledger \
            entry says `rollback of <seq>`.

            --to names the entry: a ledger seq (`history` lists them), or a prefix (7+ hex digits) of its \
            revision, pattern commit or overlay commit. Default: the newest earlier succeeded entry whose \
            revision differs from the live one (the last apply).

            Examples:
              pattern rollback edge-eu                   back to the apply before the last one
              pattern rollback edge-eu --dry-run         what would change, nothing written
              pattern rollback edge-eu --to 3 --yes      back to ledger entry 3, without asking
              pattern rollback edge-eu --to 4f1c2ab      back to the entry of that commit or revision
            """
    )

    @OptionGroup public var repoOptions: RepoOptions
    @OptionGroup public var cluster: ClusterOptions
    @Argument(help: "Site to roll back.") public var site: String
    @Option(help: "Ledger entry to go back to: seq, or a prefix of its revision, pattern commit or overlay commit (default: the last succeeded entry before the live one with another revision).")
    public var to: RollbackTarget?
    @Flag(help: "Show the change table and field diffs; every change is dry-run on the API server; nothing is written.") public var dryRun = false
    @Flag(name: .shortAndLong, help: "Roll back without asking (scripts and CI); also allows the prunes that are refused when no terminal can ask.") public var yes = false
    @Flag(help: "Apply the re-render although its revision differs from the entry's.") public var force = false
    @Flag(help: "Do not prune objects the entry did not have.") public var noPrune = false
    @Flag(help: "Allow a prune that the safety checks refuse (more than half the inventory).") public var pruneConfirm = false
    @Flag(help: "Take ownership of fields other field managers own instead of failing.") public var forceConflicts = false
    @Flag(help: "Roll back although a PatternSync in the cluster reconciles this site (it will revert the rollback).") public var overrideController = false
    @Flag(help: "Print the field diffs of every change before the change table.") public var diff = false
    @Option(help: "Longest readiness wait per level, in seconds.") public var timeout: Double = 300
    @Option(name: .shortAndLong, help: "Output: text, json or yaml (an ApplyReport).") public var output: ReportFormat = .text

    public init() {}

    public func run() async throws {
        // Errors (Diagnostic/Diagnostics with a fix) are printed by PatternMain, exit 1; nothing is written.
        let engine = try Rollback.connect(site: site, repo: repoOptions.context, cluster: cluster.settings)
        let plan = try Rollback.prepare(try await Rollback.load(site: site, engine: engine), to: to, repo: repoOptions.context, force: force)
        let t = plan.target
        Output.err("rolling back \(site) to entry \(t.seq) (\(t.time), revision \(Revision.short(t.revision))"
                   + (t.source.commit.isEmpty ? "" : ", pattern commit \(t.source.commit.prefix(12))")
                   + (t.render?.overlay.map { ", overlay commit \($0.commit.prefix(12))" } ?? "") + ")"
                   + (plan.current.map { "; live: entry \($0.seq), revision \(Revision.short($0.revision))" } ?? "") + "\n")
        if plan.rendered.revision != t.revision {
            Output.err("warning: --force: applying revision \(Revision.short(plan.rendered.revision)), not the \(Revision.short(t.revision)) entry \(t.seq) applied\n")
        }
        var options = ApplyOptions()
        options.dryRun = dryRun
        options.forceConflicts = forceConflicts
        options.prune = !noPrune
        options.pruneConfirm = pruneConfirm
        options.namespaces = cluster.observedNamespaces(for: plan.rendered)
        if let kinds = plan.rendered.apply.pruneKinds { options.pruneKinds = Set(kinds.map(GroupKind.parse)) }
        options.waitTimeoutSeconds = timeout
        options.rollbackOf = t.seq
        options.render = t.render
        if !dryRun && !overrideController {
            try await ApplyCommand.refuseIfControllerManages(plan.rendered, engine: engine)
        }
        var observed: ApplyEngine.Observed?
        if !dryRun {
            observed = try await ApplyCommand.preview(plan.rendered, engine: engine, options: options, diff: diff, showUnchanged: false,
                                                      yes: yes, output: output)
            options.client = await LedgerClient.cli(engine.client)
        }
        try await ApplyCommand.execute(plan.rendered, engine: engine, options: options, observed: observed, output: output, dryRun: dryRun)
    }
}
