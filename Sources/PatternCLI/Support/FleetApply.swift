import ArgumentParser
import PatternCore
import PatternCompile
import PatternDiff
import PatternReport
import PatternApply
import PatternRecord
import PatternController
import PatternFleet
import KubeClient

/// What the preview of one site found, kept for its apply (no second read of the cluster).
struct FleetPrepared: Sendable {
    var target: FleetTarget
    var site: RenderedSite
    var engine: ApplyEngine
    var observed: ApplyEngine.Observed
    var options: ApplyOptions
    var plannedPrunes: Int
}

extension FleetRun {
    /// `pattern apply` over several sites: compile all (any failure: nothing is written
    /// anywhere), preview every site (bounded, concurrent), print one matrix of planned
    /// changes, ask once, apply the reachable sites, print the result matrix.
    func apply(_ names: [String], options base: ApplyOptions, pruneKinds: [String], yes: Bool, overrideController: Bool) async throws {
        let targets = try targets(names)
        let compiled = compile(targets)
        let compileFailures = compiled.failed
        if !compileFailures.isEmpty {
            var results: [SiteResult] = []
            for t in targets {
                if let f = compileFailures[t.name] { results.append(f) } else {
                    results.append(.failure(t.site, .failed, "not applied: another site does not compile", fix: "fix the sites that do not compile first"))
                }
            }
            let report = FleetReport(command: .apply, results: results, selector: fleet.selector)
            print(report)
            Output.report([.error("\(compileFailures.count) of \(targets.count) sites do not compile; nothing was written to any cluster",
                                  fix: "run `pattern validate` on them and fix the errors, or leave them out of the selection")])
            throw ExitCode(2)
        }
        let byName = Self.index(targets)
        let prepared = FleetBox<FleetPrepared>()
        // The overlay checkout, once for every site's ledger entry.
        let overlay = base.dryRun ? nil : RenderRecord.overlay(repo)
        // 1. Preview: connect, probe, refine chart releases, check the controller, diff.
        let preview = await FleetRunner.run(targets.map(\.site), limits: limits) { s in
            let t = byName[s.name]!
            return await Self.buffered(t.name) {
                await prepareOne(t, compiled.rendered[t.name]!, recorder: compiled.recorders[t.name], overlay: overlay, base: base,
                                 pruneKinds: pruneKinds, overrideController: overrideController, into: prepared)
            }
        }
        let previewReport = FleetReport(command: .diff, results: preview, selector: fleet.selector)
        // The plan goes where the person reads: stdout for text, stderr when stdout is JSON.
        let fd: Int32 = output != .text ? 2 : 1
        Output.write(fd, "Plan for \(targets.count) site\(targets.count == 1 ? "" : "s"):\n" + previewReport.matrix(all: fleet.detail))
        let ready = preview.filter { prepared[$0.site] != nil }
        let changes = ready.contains { $0.created + $0.changed + $0.pruned > 0 }
        let prunes = ready.reduce(0) { $0 + (prepared[$1.site]?.plannedPrunes ?? 0) }
        if !ready.isEmpty && changes && !yes && !base.dryRun {
            let terminal = Terminal.current
            if terminal.isInteractive {
                guard terminal.confirm("Apply to \(ready.count) site\(ready.count == 1 ? "" : "s")?") else {
                    Output.err("stopped: nothing was written\n")
                    throw ExitCode(1)
                }
            } else if prunes > 0 {
                Output.report([.error("refusing to prune \(prunes) object\(prunes == 1 ? "" : "s") across the fleet without confirmation: there is no terminal to ask on (nothing was written)",
                                      fix: "re-run with --yes to apply and prune, or with --no-prune to apply without pruning")])
                throw ExitCode(1)
            }
        }
        // 2. Apply the sites the preview could prepare; the others keep their preview result.
        let applied = await FleetRunner.run(ready.map { byName[$0.site]!.site }, limits: limits) { s in
            await Self.buffered(s.name) { await applyOne(prepared[s.name]!, base: base) }
        }
        var bySite: [String: SiteResult] = [:]
        for r in applied { bySite[r.site] = r }
        let results = preview.map { bySite[$0.site] ?? $0 }
        let report = FleetReport(command: .apply, results: results, selector: fleet.selector)
        if output == .text { Output.out("\n") }
        print(report)
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }

    func applyOptions(_ base: ApplyOptions, site: RenderedSite, pruneKinds: [String]) -> ApplyOptions {
        var o = base
        if let kinds = pruneKinds.isEmpty ? site.apply.pruneKinds : pruneKinds { o.pruneKinds = Set(kinds.map(GroupKind.parse)) }
        o.namespaces = cluster.observedNamespaces(for: site)
        return o
    }

    /// Previews one site; its apply options carry the render record (`recorder`, the
    /// `.Release` choices, `overlay`), so the ledger entry can be rolled back to.
    func prepareOne(_ t: FleetTarget, _ installRender: RenderedSite, recorder: SourceRecorder?, overlay: LedgerEntry.Render.Overlay?,
                    base: ApplyOptions, pruneKinds: [String], overrideController: Bool,
                    into box: FleetBox<FleetPrepared>) async -> SiteResult {
        let engine: ApplyEngine, site: RenderedSite, releases: ChartReleases
        switch await connectAndRefine(t, installRender, recorder: recorder) {
        case .failure(let f): return SiteResult(t, f)
        case .success(let c): (engine, site, releases) = c
        }
        do {
            var options = applyOptions(base, site: site, pruneKinds: pruneKinds)
            if !base.dryRun, let recorder {
                options.render = RenderRecord.make(site, repo: repo, recorder: recorder, releases: releases, overlay: overlay)
            }
            if !base.dryRun && !overrideController {
                let claimants = try await SiteClaims.claimants(engine.client, pattern: site.pattern, site: site.site, recordNamespace: engine.records.namespace)
                let active = claimants.filter { !$0.suspended }
                if !active.isEmpty {
                    return SiteResult(t, FleetFailure(.failed, "reconciled in the cluster by \(active.map(\.description).joined(separator: ", ")); a CLI apply would be reverted",
                                                      fix: "set spec.suspend: true on the PatternSync first, or re-run with --override-controller"))
                }
            }
            let (diffs, observation, inventory) = try await engine.diff(site, namespaces: options.namespaces, lookUpMissing: false)
            // Prunes the engine would carry out: not with --no-prune, only of --prune-kind kinds.
            let shown = diffs.filter { d in d.action != .prune || (options.prune && (options.pruneKinds?.contains(d.key.groupKind) ?? true)) }
            var r = SiteResult(site: t.name, cluster: t.site.clusterKey, outcome: .inSync)
            r.count(shown)
            r.outcome = r.created + r.changed + r.pruned > 0 ? .changed : .inSync
            r.report = MachineReport.diff(shown, revision: site.revision)
            box[t.name] = FleetPrepared(target: t, site: site, engine: engine,
                                        observed: ApplyEngine.Observed(observation: observation, inventory: inventory, revision: site.revision),
                                        options: options, plannedPrunes: r.pruned)
            return r
        } catch {
            return await failure(t, error, client: engine.client)
        }
    }

    func applyOne(_ p: FleetPrepared, base: ApplyOptions) async -> SiteResult {
        var options = p.options
        if !base.dryRun { options.client = await LedgerClient.cli(p.engine.client) }
        let t = p.target
        do {
            let result = try await p.engine.apply(p.site, options: options, observed: base.dryRun ? nil : p.observed)
            var r = SiteResult(site: t.name, cluster: t.site.clusterKey, outcome: .inSync)
            if base.dryRun {
                r.created = result.count(.wouldCreate); r.changed = result.count(.wouldConfigure); r.pruned = result.count(.wouldPrune)
            } else {
                r.created = result.count(.created); r.changed = result.count(.configured); r.pruned = result.count(.pruned)
            }
            r.unchanged = result.count(.unchanged)
            r.failed = result.failed.count
            r.report = ApplyReport.json(result, site: p.site.site)
            r.detail = ApplyReport.text(result, site: p.site.site, dryRun: base.dryRun, style: Style(color: false))
            if !result.succeeded {
                r.outcome = .failed
                r.message = result.recordError.map { "recording failed: \($0)" } ?? result.pruneRefused.map { "prune refused: \($0)" }
                    ?? "\(r.failed) object\(r.failed == 1 ? "" : "s") failed"
            } else {
                r.outcome = r.created + r.changed + r.pruned > 0 ? .changed : .inSync
            }
            return r
        } catch {
            var r = SiteResult(t, FleetFailure(.failed, error.message, fix: error.fix))
            r.detail = error.description
            return r
        }
    }
}
