import ArgumentParser
import PatternCore
import PatternCompile
import PatternDiff
import PatternReport
import PatternApply
import PatternFleet

/// `pattern drift`: what changed in the cluster by hand, by whom and when.
public struct DriftCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "drift",
        abstract: "Report objects changed by hand (field, manager, time), deleted, or unexpectedly labelled.",
        usage: "pattern drift <site> [--heal] [-o text|json|yaml]\n  [--context <name>] [-C <repo>]\n  pattern drift (<site> <site>... | --all | --selector <selector>)\n  [--detail] [--parallel <n>] [--per-cluster <n>]",
        discussion: """
            Compares live objects with the render on the fields pattern manages. For each changed field it \
            names the field manager that owns it now (e.g. kubectl-edit, a controller), the operation and \
            time from metadata.managedFields. Also lists inventory objects missing from the cluster, objects \
            another site has taken over ("owned by another site", not missing), and objects carrying the \
            site's owner label that the inventory does not know. A site that was never applied to the \
            cluster is reported as "never applied" (exit 1), never as in sync.

            Exit codes: 0 in sync, 1 drift found or never applied, 2 error.

            Several sites, --all or --selector check every chosen site concurrently and print one \
            matrix (drifted objects and the result per site: in-sync, drifted, failed, unreachable) and \
            totals; --detail adds each site's drift list; -o json|yaml prints one FleetReport. An \
            unreachable cluster is never reported in sync. --heal takes one site. Exit codes: 0 every site \
            in sync, 1 some site drifted or was never applied, 2 some site failed or is unreachable.

            Examples:
              pattern drift hub
              pattern drift hub -o json
              pattern drift hub --heal        re-apply only the drifted objects (taking fields back)
              pattern drift --all             one matrix for the whole fleet
              pattern drift --selector group.pattern.dev/edge -o json
            """
    )

    @OptionGroup public var repoOptions: RepoOptions
    @OptionGroup public var cluster: ClusterOptions
    @Argument(help: "Site to check (several: a fleet matrix).") public var sites: [String] = []
    @OptionGroup public var fleet: FleetOptions
    @Option(name: .shortAndLong, help: "Output: text, json or yaml (a DriftReport).") public var output: ReportFormat = .text
    @Flag(help: "Re-apply the drifted objects (forcing ownership back).") public var heal = false
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
        let (rendered, engine, prefetch) = try await cluster.renderPrefetching(site, repo: repoOptions, errorExit: 2, readingCluster: false)
        defer { prefetch?.cancel() }
        do {
            let report = try await engine.drift(rendered, namespaces: cluster.observedNamespaces(for: rendered), prefetch: prefetch)
            let objects = ObjectDrift(missing: report.missing, unmanaged: report.unmanaged, ownedElsewhere: report.ownedElsewhere)
            switch output {
            case .json, .yaml:
                var v = MachineReport.drift(report.items, objects: objects)
                v["renderedRevision"] = .string(report.renderedRevision)
                if let l = report.lastAppliedRevision { v["lastAppliedRevision"] = .string(l) }
                v["inSync"] = .bool(report.inSync)
                v["neverApplied"] = .bool(report.neverApplied)
                Output.document(v, output)
            case .text:
                if report.neverApplied {
                    Output.out("\(rendered.site): never applied to this cluster (no inventory in \(engine.records.namespace))\n")
                } else if report.inSync {
                    Output.out("\(rendered.site): in sync\n")
                } else {
                    Output.out(HumanReport.drift(report.items, objects: objects))
                }
                if let l = report.lastAppliedRevision, l != report.renderedRevision {
                    Output.err("note: the render (\(Renderer.short(report.renderedRevision))) differs from the last applied revision (\(Renderer.short(l))); some differences are pending changes, not drift\n")
                }
            }
            if report.neverApplied { throw ExitCode(1) }
            if heal && !report.drifted.isEmpty {
                var options = ApplyOptions()
                options.forceConflicts = true
                options.prune = false
                options.only = Set(report.drifted.map(\.description))
                options.client = await LedgerClient.cli(engine.client)
                options.namespaces = cluster.observedNamespaces(for: rendered)
                if !overrideController { try await ApplyCommand.refuseIfControllerManages(rendered, engine: engine) }
                let result = try await engine.apply(rendered, options: options)
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
