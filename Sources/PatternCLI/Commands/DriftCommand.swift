import ArgumentParser
import PatternCore
import PatternCompile
import PatternDiff
import PatternReport
import PatternApply
import PatternFleet
import Synchronization

/// `pattern drift`: what changed in the cluster by hand, by whom and when.
public struct DriftCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "drift",
        abstract: "Report objects changed by hand (field, manager, time), deleted, or unexpectedly labelled.",
        usage: "pattern drift <site> [--heal] [-o text|json|yaml]\n  [--context <name>] [-C <repo>]\n  pattern drift (<site> <site>... | --all | --selector <selector>)\n  [--detail] [--parallel <n>] [--per-cluster <n>]",
        discussion: """
            Compares live objects with what pattern last applied (the ledger's last successful entry) on \
            the fields pattern manages. For each changed field it names the field manager that owns it now \
            (e.g. kubectl-edit, a controller), the operation and time from metadata.managedFields. Also lists \
            inventory objects missing from the cluster, objects another site has taken over ("owned by \
            another site", not missing), and objects carrying the site's owner label that the inventory does \
            not know. A site that was never applied to the cluster is reported as "never applied" (exit 1), \
            never as in sync.

            When the repository changed since the last apply, the render's differences from the cluster \
            are changes not yet applied, not drift: they are listed apart under "not yet applied" (see \
            `pattern diff`), name no manager, and do not change the exit code. The last applied entry is \
            rendered again from the source cache to tell them apart; when it cannot be, each object's \
            pattern.dev/applied-hash and managedFields decide, and a field the render sets that live lacks \
            and no manager owns is listed as "undetermined". --heal re-applies the drifted objects as they \
            were last applied (never the pending changes); it refuses when the last apply cannot be rendered \
            again while the render has changed.

            Exit codes: 0 in sync (changes not yet applied allowed), 1 drift found or never applied, 2 error.

            Several sites, --all or --selector check every chosen site concurrently and print one \
            matrix (drifted objects and the result per site: in-sync, drifted, failed, unreachable) and \
            totals; --detail adds each site's drift list; -o json|yaml prints one FleetReport. An \
            unreachable cluster is never reported in sync. --heal takes one site. Exit codes: 0 every site \
            in sync, 1 some site drifted or was never applied, 2 some site failed or is unreachable.

            Examples:
              pattern drift hub
              pattern drift hub -o json
              pattern drift hub --heal        re-apply only the drifted objects as last applied (taking fields back)
              pattern drift --all             one matrix for the whole fleet
              pattern drift --selector group.pattern.dev/edge -o json
            """
    )

    @OptionGroup public var repoOptions: RepoOptions
    @OptionGroup public var cluster: ClusterOptions
    @Argument(help: "Site to check (several: a fleet matrix).") public var sites: [String] = []
    @OptionGroup public var fleet: FleetOptions
    @Option(name: .shortAndLong, help: "Output: text, json or yaml (a DriftReport).") public var output: ReportFormat = .text
    @Flag(help: "Re-apply the drifted objects as they were last applied (forcing ownership back).") public var heal = false
    @Flag(help: "Heal although a PatternSync in the cluster reconciles this site.") public var overrideController = false

    public init() {}

    var site: String { sites.first ?? "" }

    public func validate() throws {
        if sites.isEmpty && !fleet.all && fleet.selector == nil { throw ValidationError("Missing expected argument '<site>' (or --all, --selector)") }
        if heal && fleet.isFleet(sites) { throw ValidationError("--heal takes one site; run `pattern drift <site> --heal` per site") }
    }

    public func run() async throws {
        if fleet.isFleet(sites) {
            return try await FleetRun(repo: repoOptions, cluster: cluster, fleet: fleet, output: output).drift(sites)
        }
        let (rendered, engine, prefetch) = try await cluster.renderPrefetching(site, repo: repoOptions.context, errorExit: 2, readingCluster: false)
        defer { prefetch?.cancel() }
        // The recovery below runs in the engine's tasks: it takes the repository as a plain value.
        let repo = repoOptions.context
        let name = rendered.site
        do {
            // Asked only when the render is not what was last applied: that entry rendered again.
            let unrecovered = UnrecoveredBox()
            let report = try await engine.drift(rendered, namespaces: cluster.observedNamespaces(for: rendered), prefetch: prefetch,
                                                lastApplied: { entry in
                switch Rollback.applied(entry, site: name, repo: repo, current: { nil }) {
                case .success(let r): return r
                case .failure(let u): unrecovered.value = u; return nil
                }
            })
            let objects = ObjectDrift(missing: report.missing, unmanaged: report.unmanaged, ownedElsewhere: report.ownedElsewhere)
            switch output {
            case .json, .yaml:
                Output.document(DriftCommand.document(report, objects: objects), output)
            case .text:
                if report.neverApplied {
                    Output.out("\(rendered.site): never applied to this cluster (no inventory in \(engine.records.namespace))\n")
                } else if report.inSync {
                    Output.out("\(rendered.site): in sync\(report.pendingObjects.isEmpty ? "" : " with what was last applied")\n")
                } else {
                    Output.out(HumanReport.drift(report.items, objects: objects))
                }
                if !report.neverApplied { Output.out(DriftCommand.pendingText(report, site: rendered.site)) }
                if let u = unrecovered.value {
                    Output.err("note: \(u.description); drift is judged per object from its pattern.dev/applied-hash and managedFields\n  fix: \(u.fix)\n")
                }
            }
            if report.neverApplied { throw ExitCode(1) }
            if heal && !report.drifted.isEmpty {
                if !report.unhealable.isEmpty {
                    let entry = report.lastAppliedEntry.map { "entry \($0.seq) (\(Renderer.short($0.revision)))" } ?? "the last apply"
                    Output.report([Diagnostic.error(
                        "cannot heal \(report.unhealable.count) drifted object\(report.unhealable.count == 1 ? "" : "s") of \(rendered.site) as last applied: \(entry) cannot be rendered again, and the render has changes not yet applied that healing with it would roll out; nothing was written",
                        fix: "run `pattern apply \(rendered.site) --force-conflicts` to apply the render (it also puts the drifted fields back), or make \(entry) renderable again: \(unrecovered.value?.fix ?? "see `pattern history \(rendered.site)`")")])
                    throw ExitCode(2)
                }
                var options = ApplyOptions()
                options.forceConflicts = true
                options.prune = false
                options.only = Set(report.drifted.map(\.description))
                options.client = await LedgerClient.cli(engine.client)
                options.namespaces = cluster.observedNamespaces(for: rendered)
                // Put back what was last applied, never the changes not yet applied.
                let target = report.lastApplied ?? rendered
                if report.lastApplied != nil { options.render = report.lastAppliedEntry?.render }
                if !overrideController { try await ApplyCommand.refuseIfControllerManages(rendered, engine: engine) }
                let result = try await engine.apply(target, options: options)
                Output.err("healed: \(result.count(.configured) + result.count(.created)) objects re-applied, \(result.writeRequests) writes\n")
                if !result.succeeded {
                    for f in result.failed { Output.err("failed \(f.key): \(f.message ?? "")\n") }
                    throw ExitCode(2)
                }
                return
            }
            if !report.inSync { throw ExitCode(1) }
        } catch let e as ExitCode {
            throw e
        } catch is ReportedFailure {
            throw ExitCode(2)
        } catch {
            Output.err("error: \(error)\n")
            throw ExitCode(2)
        }
    }
}

extension DriftCommand {
    /// The `DriftReport` document of `-o json|yaml`, for one site and for each site of a fleet.
    static func document(_ report: DriftReport, objects: ObjectDrift) -> Value {
        var v = MachineReport.drift(report.items, objects: objects)
        v["renderedRevision"] = .string(report.renderedRevision)
        if let l = report.lastAppliedRevision { v["lastAppliedRevision"] = .string(l) }
        v["inSync"] = .bool(report.inSync)
        v["neverApplied"] = .bool(report.neverApplied)
        v["basis"] = .string(report.basis.rawValue)
        v["pending"] = MachineReport.pendingFields(report.pending)
        v["undetermined"] = MachineReport.pendingFields(report.undetermined)
        v["pendingObjects"] = .array(report.pendingObjects.map(MachineReport.object))
        return v
    }

    /// The "not yet applied" section: changes the render has that were never applied (not
    /// drift), and fields that cannot be told apart; "" when there are none.
    static func pendingText(_ report: DriftReport, site: String) -> String {
        guard !report.pendingObjects.isEmpty || !report.undetermined.isEmpty else { return "" }
        let last = report.lastAppliedRevision.map { " (\(Renderer.short($0)))" } ?? ""
        var out = "\nnot yet applied: the render (\(Renderer.short(report.renderedRevision))) changed since the last apply\(last); "
            + "\(report.pendingObjects.count) object\(report.pendingObjects.count == 1 ? "" : "s") differ\(report.pendingObjects.count == 1 ? "s" : ""). "
            + "Not drift: `pattern diff \(site)` shows them, `pattern apply \(site)` applies them.\n"
        if !report.pending.isEmpty { out += HumanReport.pending(report.pending) }
        for u in report.undetermined {
            out += "undetermined: \(u.key) \(u.path): the render sets it, live lacks it and no manager owns it (deleted by hand, or new in the render)\n"
        }
        return out
    }
}

/// Carries why the last apply could not be rendered again out of the `drift` callback.
final class UnrecoveredBox: Sendable {
    private let stored = Mutex<Rollback.Unrecoverable?>(nil)
    var value: Rollback.Unrecoverable? {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}
