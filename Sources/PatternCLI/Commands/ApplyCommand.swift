import ArgumentParser
import PatternCore
import PatternCompile
import PatternDiff
import PatternReport
import PatternApply
import PatternRecord
import PatternController
import KubeClient
import PatternFleet

/// `pattern apply`: change the cluster to match the render, in dependency order.
public struct ApplyCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Apply a site to its cluster: ordered server-side apply, readiness waits, safe prune, ledger.",
        usage: "pattern apply <site> [--dry-run] [--diff] [-y] [--no-prune]\n  [-o text|json|yaml] [--context <name>] [-C <repo>]\n  pattern apply (<site> <site>... | --all | --selector <selector>) [-y]\n  [--detail] [--parallel <n>] [--per-cluster <n>]",
        discussion: """
            Order: namespaces and CRDs first (waiting until CRDs are Established), then the usual kind \
            order, component dependsOn and config.kubernetes.io/depends-on annotations. Inside a level \
            objects are applied concurrently; objects that did not change are not written at all. Between \
            levels apply waits until objects are ready (Deployments rolled out, Jobs complete, …).

            Prune removes objects that earlier applies created and the render no longer has, after \
            everything else, dependents first. It is refused when the render is empty or would remove more \
            than half of the inventory (objects inside pruned Namespaces and CRDs count), unless \
            --prune-confirm. It never runs on a stale source (cached commit) unless --prune-stale, never \
            deletes objects marked `pattern.dev/prune: disabled` or of kinds outside --prune-kind, and never \
            deletes a Namespace or CRD that holds objects another site owns. --dry-run lists exactly what \
            would be pruned.

            Ownership: objects another site (or pattern) applied are refused, listing them and their owner, \
            unless --adopt. A site reconciled in the cluster by a PatternSync that is not suspended is \
            refused (the controller would revert the change) unless --override-controller.

            Preview and confirm (as kapp): before writing, apply prints a change table (namespace, kind, \
            name, create/update/prune, level, what it waits for; objects that already match are counted, \
            --show-unchanged lists them) and asks `Continue? [yN]` when stdin and stderr are a terminal. \
            --yes (-y) skips the question. Without a terminal and without --yes, creates and updates go \
            ahead as with `kubectl apply` in a script, but prunes are refused before anything is written: \
            deleting needs a person's yes or an explicit --yes. --diff prints the field diffs before the table.

            Progress goes to stderr: on a terminal one line redrawn in place (level n/m, objects \
            applied/total, ready, what is waited for and for how long, elapsed); in a log a line per level \
            and a summary every 5 seconds. Identical failures are one line with a count and the first \
            objects.

            Nothing is written when the render fails. The inventory lists every object before it is created; \
            if recording fails afterwards the report still lists every object and says so (exit 1).

            --dry-run asks the API server to dry-run every change (as `kubectl apply --dry-run=server`): \
            conflicts and validation errors show as the real apply would get them, with field diffs.

            Several sites, --all or --selector: every site is compiled first (if any fails, nothing is \
            written to any cluster); then every site is previewed concurrently and one matrix of planned \
            creates, changes and prunes is printed, with one question for the whole fleet (no terminal: \
            prunes need --yes, as for one site). Sites run at most --parallel at once and --per-cluster at \
            once on one cluster; unreachable sites are reported as such and skipped. The result is one \
            matrix (created, changed, pruned, failed, result per site, totals); --detail adds every \
            site's apply report; -o json|yaml prints one FleetReport. Exit codes: 0 every site applied, \
            1 stopped before writing (answer no, prunes without --yes), 2 some site failed or is unreachable.

            Examples:
              pattern apply hub --dry-run             show the plan, the field diffs and what would be pruned
              pattern apply hub                       show the changes, ask, apply, wait, prune, record
              pattern apply hub --yes                 the same without asking (CI)
              pattern apply hub --diff                field diffs, then the change table, then ask
              pattern apply edge-eu --force-conflicts take over fields another manager owns
              pattern apply edge-eu --adopt           take over objects another site applied
              pattern apply --selector tier=edge --yes   every edge site, one matrix, no question
              pattern apply edge-eu edge-us --per-cluster 2
            """
    )

    @OptionGroup public var repoOptions: RepoOptions
    @OptionGroup public var cluster: ClusterOptions
    @Argument(help: "Site to apply (several: a fleet).") public var sites: [String] = []
    @OptionGroup public var fleet: FleetOptions
    @Flag(help: "Show the plan, the field diffs and what would be pruned; every change is dry-run on the API server; nothing is written.") public var dryRun = false
    @Flag(help: "Take ownership of fields other field managers own instead of failing.") public var forceConflicts = false
    @Flag(help: "Do not prune objects that are no longer rendered.") public var noPrune = false
    @Flag(help: "Allow a prune that the safety checks refuse (empty render, more than half the inventory including what pruned namespaces/CRDs hold).") public var pruneConfirm = false
    @Flag(help: "Prune even though the source is stale (every remote failed; a cached commit was rendered).") public var pruneStale = false
    @Option(name: .customLong("prune-kind"), help: "Only prune objects of this kind (Kind or Kind.group; repeatable; default: the site's apply.pruneKinds, else every kind).") public var pruneKinds: [String] = []
    @Flag(help: "Take over objects another site or pattern applied (refused otherwise).") public var adopt = false
    @Flag(help: "Apply although a PatternSync in the cluster reconciles this site (it will revert what differs from its source).") public var overrideController = false
    @Flag(help: "Do not wait for readiness: objects are applied as soon as what they depend on is applied, and the command ends after the last write.") public var noWait = false
    @Option(help: "Longest readiness wait per level, in seconds.") public var timeout: Double = 300
    @Option(help: "Concurrent requests inside a level.") public var concurrency: Int = 8
    @Flag(name: .shortAndLong, help: "Apply without asking (scripts and CI); also allows the prunes that are refused when no terminal can ask.") public var yes = false
    @Flag(help: "Print the field diffs of every change before the change table.") public var diff = false
    @Flag(help: "List objects that already match (no-op) in the change table too.") public var showUnchanged = false
    @Option(name: .shortAndLong, help: "Output: text, json or yaml (an ApplyReport).") public var output: ReportFormat = .text

    public init() {}

    var site: String { sites.first ?? "" }

    public func validate() throws {
        if sites.isEmpty && !fleet.all && fleet.selector == nil { throw ValidationError("Missing expected argument '<site>' (or --all, --selector)") }
        if diff && fleet.isFleet(sites) { throw ValidationError("--diff takes one site; use `pattern diff --detail` for a fleet's field diffs") }
    }

    public func run() async throws {
        if fleet.isFleet(sites) { return try await runFleet() }
        let recorder = SourceRecorder()
        let (installRender, engine, prefetch) = try await SourceRecorder.$current.withValue(recorder) {
            // The ledger too (a no-op's catch-up check) and the PatternSyncs (the controller
            // check), unless a dry run or the flag skips them.
            try await cluster.renderPrefetching(site, repo: repoOptions.context, errorExit: 1, readLedger: !dryRun,
                                                alsoList: dryRun || overrideController ? [] : [PatternSyncSpec.gvk])
        }
        defer { prefetch?.cancel() }
        let (rendered, releases) = try await SourceRecorder.$current.withValue(recorder) {
            try await ChartReleaseRecords.refineWithReleases(installRender, engine: engine, repo: repoOptions.context)
        }
        var options = commonOptions()
        // Made only when a ledger entry is written (a no-op apply writes none).
        options.deferredRender = RenderRecord.deferred(rendered, repo: repoOptions.context, recorder: recorder, releases: releases)
        if let kinds = pruneKinds.isEmpty ? rendered.apply.pruneKinds : pruneKinds { options.pruneKinds = Set(kinds.map(GroupKind.parse)) }
        options.namespaces = cluster.observedNamespaces(for: rendered)
        options.wait = !noWait
        options.waitTimeoutSeconds = timeout
        options.concurrency = max(1, concurrency)
        if dryRun && output == .text {
            let plan = try ApplyEngine.plan(rendered)
            Output.out("Plan for \(rendered.site) (\(rendered.objects.count) objects, \(plan.levels.count) levels):\n")
            for (i, level) in plan.levels.enumerated() {
                Output.out("  level \(i + 1): " + level.map(\.description).joined(separator: ", ") + "\n")
            }
        }
        if !dryRun && !overrideController {
            try await ApplyCommand.refuseIfControllerManages(rendered, engine: engine, prefetch: prefetch)
        }
        var observed: ApplyEngine.Observed?
        if !dryRun {
            observed = try await preview(rendered, engine: engine, options: options, prefetch: prefetch)
            let client = engine.client
            options.deferredClient = { await LedgerClient.cli(client) }
        }
        // Without a preview (dry run) the apply itself takes the prefetched reads; with one, it
        // takes the prefetched ledger (the no-op catch-up check).
        let result = try await Self.execute(rendered, engine: engine, options: options, observed: observed,
                                            prefetch: prefetch, output: output, dryRun: dryRun)
        KeepUntilExit.keep(rendered, observed as Any, result)
    }

    /// Applies with progress on stderr, prints the report, and throws when the apply failed
    /// (shared with `pattern rollback`).
    @discardableResult
    static func execute(_ rendered: RenderedSite, engine: ApplyEngine, options: ApplyOptions, observed: ApplyEngine.Observed?, prefetch: ObservePrefetch? = nil,
                        output: ReportFormat, dryRun: Bool) async throws -> ApplyResult {
        let tty = Output.stderrIsTTY
        let progress = ApplyProgressPrinter(tty: tty, quiet: output != .text, total: rendered.objects.count, write: { Output.err($0) })
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                progress.tick()
            }
        }
        let result: ApplyResult
        do {
            result = try await engine.apply(rendered, options: options, observed: observed, prefetch: prefetch) { progress.handle($0) }
        } catch {
            ticker.cancel()
            progress.finish()
            Output.report([.error(error.message, fix: error.fix)])
            throw ReportedFailure()
        }
        ticker.cancel()
        progress.finish()
        switch output {
        case .json, .yaml:
            Output.document(ApplyReport.json(result, site: rendered.site), output)
        case .text:
            Output.out(ApplyReport.text(result, site: rendered.site, dryRun: dryRun, style: Style(color: Output.stdoutIsTTY)))
        }
        if let e = result.recordError { Output.report([.error(e, fix: "re-run apply once the cluster accepts writes to \(engine.records.namespace); the objects listed above were applied")]) }
        if !result.succeeded { throw ReportedFailure() }
        return result
    }

    /// The options every apply takes from the command line (one site or a fleet).
    func commonOptions() -> ApplyOptions {
        var options = ApplyOptions()
        options.dryRun = dryRun
        options.forceConflicts = forceConflicts
        options.adopt = adopt
        options.prune = !noPrune
        options.pruneConfirm = pruneConfirm
        options.pruneStale = pruneStale
        return options
    }

    /// The fleet form: the same options for every chosen site.
    func runFleet() async throws {
        var options = commonOptions()
        options.wait = !noWait
        options.waitTimeoutSeconds = timeout
        options.concurrency = max(1, concurrency)
        try await FleetRun(repo: repoOptions, cluster: cluster, fleet: fleet, output: output)
            .apply(sites, options: options, pruneKinds: pruneKinds, yes: yes, overrideController: overrideController)
    }

    /// Preview and confirm (as `kapp deploy`): the field diffs when `--diff`, the change table,
    /// then `Continue? [yN]` on a terminal. Without a terminal and without `--yes`, creates and
    /// updates go ahead (as `kubectl apply` in a script) but prunes are refused: deleting needs a
    /// person's yes or an explicit `--yes`. Returns what was observed, so apply does not read the
    /// cluster again. Throws (nothing written) when the user says no or a prune is refused.
    func preview(_ rendered: RenderedSite, engine: ApplyEngine, options: ApplyOptions, prefetch: ObservePrefetch?) async throws -> ApplyEngine.Observed {
        try await Self.preview(rendered, engine: engine, options: options, diff: diff, showUnchanged: showUnchanged, yes: yes, output: output,
                               prefetch: prefetch)
    }

    /// `preview` with the flags given (shared with `pattern rollback`).
    static func preview(_ rendered: RenderedSite, engine: ApplyEngine, options: ApplyOptions, diff: Bool, showUnchanged: Bool,
                        yes: Bool, output: ReportFormat, prefetch: ObservePrefetch? = nil) async throws -> ApplyEngine.Observed {
        let read: (diffs: [ObjectDiff], observation: Observation, inventory: Inventory?)
        do {
            read = try await engine.diff(rendered, fieldManager: options.fieldManager, namespaces: options.namespaces, lookUpMissing: false,
                                         prefetch: prefetch)
        } catch {
            Output.report([.error(error.message, fix: error.fix)])
            throw ReportedFailure()
        }
        let diffs = read.diffs
        // Apply reuses these diffs: every object is diffed once per run.
        let observed = ApplyEngine.Observed(diff: read, revision: rendered.revision, fieldManager: options.fieldManager)
        // Prunes the engine would carry out: not with --no-prune, only of --prune-kind kinds.
        let shown = diffs.filter { d in
            d.action != .prune || (options.prune && (options.pruneKinds?.contains(d.key.groupKind) ?? true))
        }
        var levels: [ObjectKey: Int] = [:]
        // Levels are shown only in rows, and a no-op shows none (unless --show-unchanged).
        if showUnchanged || shown.contains(where: { $0.action != .unchanged }), let plan = try? ApplyEngine.plan(rendered) {
            for (i, level) in plan.levels.enumerated() { for k in level { levels[k] = i } }
        }
        let table = ChangePreview(diffs: shown, levels: levels, wait: options.wait)
        // The table goes where the person reads: stdout for text, stderr when stdout is JSON.
        let fd: Int32 = output != .text ? 2 : 1
        var text = ""
        if diff {
            text = HumanReport.diffs(shown.filter { $0.action != .unchanged }, style: Style(color: Output.color(fd)))
            if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
        }
        text += table.text(showUnchanged: showUnchanged, style: Style(color: Output.color(fd)))
        Output.write(fd, text)
        guard table.hasChanges, !yes else { return observed }
        let terminal = Terminal.current
        if terminal.isInteractive {
            guard terminal.confirm("Continue?") else {
                Output.err("stopped: nothing was written\n")
                throw ReportedFailure()
            }
            return observed
        }
        if table.prunes > 0 {
            Output.report([.error("refusing to prune \(table.prunes) object\(table.prunes == 1 ? "" : "s") without confirmation: there is no terminal to ask on (nothing was written)",
                                  fix: "re-run with --yes to apply and prune, or with --no-prune to apply without pruning")])
            throw ReportedFailure()
        }
        return observed
    }

    /// Refuses when a PatternSync that is not suspended reconciles this site in the cluster.
    /// `prefetch`: the PatternSyncs listed while the site rendered, when they were.
    static func refuseIfControllerManages(_ site: RenderedSite, engine: ApplyEngine, prefetch: ObservePrefetch? = nil) async throws {
        let claimants: [SiteClaims.Claimant]
        do {
            if let listed = await prefetch?.listed(PatternSyncSpec.gvk) {
                claimants = try SiteClaims.claimants(listed: listed, pattern: site.pattern, site: site.site, recordNamespace: engine.records.namespace)
            } else {
                claimants = try await SiteClaims.claimants(engine.client, pattern: site.pattern, site: site.site, recordNamespace: engine.records.namespace)
            }
        } catch {
            if case .forbidden = error {
                Output.err("note: cannot list PatternSyncs (forbidden): not checking whether a controller manages \(site.site)\n")
                return
            }
            Output.report([.error("cannot check whether a PatternSync manages \(site.site): \(error)", fix: "check the connection; --override-controller skips the check")])
            throw ReportedFailure()
        }
        let active = claimants.filter { !$0.suspended }
        guard !active.isEmpty else { return }
        Output.report([.error("site \(site.site) of pattern \(site.pattern) is reconciled in the cluster by \(active.map(\.description).joined(separator: ", ")); a CLI apply would be reverted by the controller",
                              fix: "change the site's source instead, set spec.suspend: true on the PatternSync first, or re-run with --override-controller")])
        throw ReportedFailure()
    }
}

