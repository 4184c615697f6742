import ArgumentParser
import PatternCore
import PatternCompile
import PatternDiff
import PatternReport
import PatternApply
import KubeClient
import PatternFleet

/// `pattern diff`: what apply would change, on the fields this tool manages.
public struct DiffCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show what `apply` would change in the site's cluster, without noise from server defaults.",
        usage: "pattern diff <site> [--server-side] [-o text|json|yaml]\n  [--context <name>] [-C <repo>]\n  pattern diff (<site> <site>... | --all | --selector <selector>)\n  [--detail] [--parallel <n>] [--per-cluster <n>]",
        discussion: """
            Compares the render with live objects on the fields pattern manages (server-side apply \
            ownership): status, server-set metadata and fields defaulted by the server or owned by other \
            managers are ignored; quantities compare by value (1000m = 1). Secret values are shown as \
            sha256 fingerprints, never in clear. Reads live state with one LIST per kind; the site's \
            inventory and the LISTs of the kinds it holds start while the site renders (a failed render \
            cancels them and shows only its errors). Objects another \
            site owns are marked "owned by <pattern>/<site>" (apply refuses them unless --adopt). A site with \
            cluster.helm (lookup: live, capabilities: discover) renders its charts with `lookup` and \
            .Capabilities read from the cluster (read-only) and records the reads in the cache for \
            `pattern render` and --offline (see Docs/helm.md).

            Exit codes (as kubectl diff): 0 no changes, 1 changes, 2 error.

            Several sites, --all or --selector diff every chosen site concurrently (at most --parallel \
            at once, --per-cluster on one cluster) and print one matrix: per site the objects to create, \
            change and prune and the result (in-sync, changed, failed, unreachable), then totals; --detail \
            adds every site's field diffs (failed and unreachable sites always get theirs). -o json|yaml \
            prints one FleetReport. A cluster that cannot be reached is "unreachable", never in sync. \
            Exit codes: 0 every site in sync, 1 some site has changes, 2 some site failed or is unreachable \
            (2 wins over 1). See Docs/fleet.md.

            Examples:
              pattern diff hub
              pattern diff edge-eu -o json          machine-readable, for CI
              pattern diff dev --server-side        also verify every change with a server dry-run apply
              pattern diff --all                    one matrix for every site
              pattern diff --selector 'tier=edge,region in (eu,us)' --detail
              pattern diff edge-eu edge-us -o json  one FleetReport for CI
            """
    )

    @OptionGroup public var repoOptions: RepoOptions
    @OptionGroup public var cluster: ClusterOptions
    @Argument(help: "Site to diff (several: a fleet matrix).") public var sites: [String] = []
    @OptionGroup public var fleet: FleetOptions
    @Option(name: .shortAndLong, help: "Output: text, json or yaml (a DiffReport).") public var output: ReportFormat = .text
    @Flag(help: "Verify changes with a server-side dry-run apply.") public var serverSide = false

    public init() {}

    var site: String { sites.first ?? "" }

    public func validate() throws {
        if sites.isEmpty && !fleet.all && fleet.selector == nil { throw ValidationError("Missing expected argument '<site>' (or --all, --selector)") }
    }

    public func run() async throws {
        if fleet.isFleet(sites) {
            return try await FleetRun(repo: repoOptions, cluster: cluster, fleet: fleet, output: output).diff(sites, serverSide: serverSide)
        }
        let (installRender, engine, prefetch) = try await cluster.renderPrefetching(site, repo: repoOptions.context, errorExit: 2)
        defer { prefetch?.cancel() }
        let rendered = try await ChartReleaseRecords.refine(installRender, engine: engine, repo: repoOptions.context)
        do {
            let read = try await engine.diff(rendered, namespaces: cluster.observedNamespaces(for: rendered), prefetch: prefetch)
            KeepUntilExit.keep(read, rendered, installRender)
            let diffs = read.diffs
            var dryRunFailures: [(ObjectKey, KubeError)] = []
            if serverSide { dryRunFailures = await engine.serverDryRun(rendered, diffs: diffs) }
            let changed = diffs.contains { $0.action != .unchanged }
            switch output {
            case .json, .yaml:
                var v = MachineReport.diff(diffs, revision: rendered.revision)
                if serverSide {
                    v["serverDryRun"] = .array(dryRunFailures.map { ["object": MachineReport.object($0.0), "error": .string($0.1.description)] })
                }
                Output.document(v, output)
            case .text:
                let style = Style(color: Output.color(1))
                var text = HumanReport.diffs(diffs, style: style)
                if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
                text += HumanReport.summary(diffs)
                Output.out(text)
                for (k, e) in dryRunFailures { Output.err("server dry-run rejected \(k): \(e)\n") }
            }
            if !dryRunFailures.isEmpty { throw ExitCode(2) }
            if changed { throw ExitCode(1) }
        } catch let e as ExitCode {
            throw e
        } catch {
            Output.err("error: \(error)\n")
            throw ExitCode(2)
        }
    }
}
