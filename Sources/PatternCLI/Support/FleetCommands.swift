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

/// Options of `diff`, `apply` and `drift` over several sites (Docs/fleet.md).
public struct FleetOptions: ParsableArguments {
    @Flag(help: "Every site of the repository.")
    public var all = false

    @Option(help: ArgumentHelp("Only the sites whose labels match (kubectl -l grammar: k=v, k!=v, k in (a,b), k notin (a,b), k, !k; ',' is AND). Filters the named sites, or every site when none is named.",
                               valueName: "selector"))
    public var selector: String?

    @Option(help: "Sites handled at once over the whole fleet.")
    public var parallel: Int = FleetSelection.defaultParallel

    @Option(help: "Sites handled at once on one cluster (sites sharing a kubeconfig context).")
    public var perCluster: Int = FleetSelection.defaultPerCluster

    @Flag(help: "Print every site's detail (field diffs, apply report, drift) after the matrix; without it only failed and unreachable sites get one.")
    public var detail = false

    public init() {}

    /// True when the command runs over a fleet: several sites, `--all` or `--selector`. One
    /// named site without either keeps the single-site command exactly as it was.
    func isFleet(_ sites: [String]) -> Bool { all || selector != nil || sites.count > 1 }

    /// The parsed options as plain values (the option group is not `Sendable`).
    var selection: FleetSelection {
        FleetSelection(all: all, selector: selector, parallel: parallel, perCluster: perCluster, detail: detail)
    }
}

/// `FleetOptions` as plain values: which sites, how many at once, how much detail.
struct FleetSelection: Sendable {
    static let defaultParallel = 8, defaultPerCluster = 1
    var all = false
    var selector: String?
    var parallel = FleetSelection.defaultParallel
    var perCluster = FleetSelection.defaultPerCluster
    var detail = false
}

/// One selected site: its name and where it goes.
struct FleetTarget: Sendable {
    var name: String
    /// The site's `cluster.context` (nil: the current context).
    var context: String?
    var site: FleetSite
    /// The errors of an overlay chain that does not load, for a site kept under `--selector`
    /// although its labels could not be read (it is that site's failure, not the command's).
    var chainErrors: [Diagnostic] = []
}

/// The sites of a fleet run, compiled.
struct FleetCompiled: Sendable {
    /// Rendered sites by name.
    var rendered: [String: RenderedSite]
    /// A failed result for each site that did not compile.
    var failed: [String: SiteResult]
    /// What each site's render resolved (git commits, charts), for its ledger entry.
    var recorders: [String: SourceRecorder]
}

/// The shared steps of the fleet forms of diff, apply and drift: choose the sites, compile
/// them, connect, probe, run bounded, print one matrix. It holds the options as plain
/// `Sendable` values, so its per-site tasks share nothing mutable.
struct FleetRun: Sendable {
    let repo: RepoContext
    let cluster: ClusterSettings
    let fleet: FleetSelection
    let output: ReportFormat

    init(repo: RepoContext, cluster: ClusterSettings, fleet: FleetSelection, output: ReportFormat) {
        self.repo = repo
        self.cluster = cluster
        self.fleet = fleet
        self.output = output
    }

    /// A run with the values of the parsed options.
    init(repo: RepoOptions, cluster: ClusterOptions, fleet: FleetOptions, output: ReportFormat) {
        self.init(repo: repo.context, cluster: cluster.settings, fleet: fleet.selection, output: output)
    }

    /// Site names from the arguments, `--all` and `--selector`, in repository order for
    /// `--all`/`--selector`, else as given (duplicates dropped).
    func targets(_ names: [String]) throws -> [FleetTarget] {
        if fleet.all && !names.isEmpty {
            throw ValidationError("give site names or --all, not both (--selector filters either)")
        }
        let ws = repo.workspace
        var chosen: [String]
        if names.isEmpty {
            do { chosen = try ws.siteNames() } catch { Output.report(error.items); throw ExitCode(2) }
        } else {
            var seen = Set<String>()
            chosen = []
            for n in names {
                guard case .site(let s) = RenderTarget.parse(n, repo: repo.repo) else {
                    throw ValidationError("'\(n)' is not a site; diff, apply and drift take sites from overlays/")
                }
                if seen.insert(s).inserted { chosen.append(s) }
            }
        }
        let selector: SiteSelector?
        if let text = fleet.selector {
            do { selector = try SiteSelector(parsing: text) } catch { Output.report([error]); throw ExitCode(2) }
        } else {
            selector = nil
        }
        var out: [FleetTarget] = []
        for name in chosen {
            var layers: [SiteLabels.Layer] = []
            var context: String? = nil
            do {
                for o in try ws.overlayChain(name) {
                    layers.append(SiteLabels.Layer(name: o.name, clusterLabels: o.cluster.labels, clusterName: o.cluster.name, context: o.cluster.context))
                    if let c = o.cluster.context { context = c }
                }
            } catch {
                // The site is kept and fails in the matrix with these errors (as kubectl reports
                // per-target errors); a selector cannot be evaluated without its labels, so under
                // --selector it is kept too rather than silently left out. For apply it then
                // stops every write, as any site that does not compile does.
                let key = cluster.context ?? "(unknown cluster)"
                out.append(FleetTarget(name: name, context: nil, site: FleetSite(name: name, clusterKey: key), chainErrors: error.items))
                continue
            }
            if let selector, !selector.matches(SiteLabels.labels(site: name, chain: layers)) { continue }
            let key = cluster.context ?? context ?? "(current context)"
            out.append(FleetTarget(name: name, context: context, site: FleetSite(name: name, clusterKey: key)))
        }
        if out.isEmpty {
            Output.report([.error(fleet.selector.map { "no site matches --selector \($0)" } ?? "no sites in \(repo.repo)/overlays",
                                  fix: "list the sites and their labels with `pattern render --all`, check Docs/fleet.md \"Selecting sites\"")])
            throw ExitCode(2)
        }
        return out
    }

    static func index(_ targets: [FleetTarget]) -> [String: FleetTarget] {
        var out: [String: FleetTarget] = [:]
        for t in targets { out[t.name] = t }
        return out
    }

    var limits: FleetLimits { FleetLimits(parallel: fleet.parallel, perCluster: fleet.perCluster) }

    /// Compiles every target (one failing site does not stop the others) with one source
    /// recorder per site: rendered sites by name, and a failed result for each site that did
    /// not compile (or whose overlay chain does not load).
    func compile(_ targets: [FleetTarget]) -> FleetCompiled {
        var failed: [String: SiteResult] = [:]
        for t in targets where !t.chainErrors.isEmpty {
            let n = t.chainErrors.count
            var r = SiteResult.failure(t.site, .failed, "its overlay chain does not load (\(n) error\(n == 1 ? "" : "s"))"
                                       + (fleet.selector != nil ? "; --selector cannot be evaluated for it" : ""),
                                       fix: "run `pattern validate \(t.name)` and fix the errors listed")
            r.detail = t.chainErrors.map(\.description).joined(separator: "\n")
            failed[t.name] = r
        }
        let (sites, items, recorders) = RenderRecord.compile(targets.filter { failed[$0.name] == nil }.map(\.name), repo: repo)
        var rendered: [String: RenderedSite] = [:]
        for r in sites { rendered[r.site] = r }
        var errorsBySite: [String: [Diagnostic]] = [:]
        for i in items where i.diagnostic.severity == .error { errorsBySite[i.site, default: []].append(i.diagnostic) }
        for t in targets where rendered[t.name] == nil && failed[t.name] == nil {
            let errors = errorsBySite[t.name] ?? []
            var r = SiteResult.failure(t.site, .failed, "the site does not compile (\(errors.count) error\(errors.count == 1 ? "" : "s"))",
                                       fix: "run `pattern validate \(t.name)` and fix the errors listed")
            r.detail = errors.map(\.description).joined(separator: "\n")
            failed[t.name] = r
        }
        return FleetCompiled(rendered: rendered, failed: failed, recorders: recorders)
    }

    /// Runs `body` for one site with its stderr notes buffered, then writes them at once, each
    /// line prefixed with the site (concurrent sites' notes never interleave).
    static func buffered<T: Sendable>(_ site: String, _ body: () async -> T) async -> T {
        let buffer = OutputCapture()
        let result = await Output.$capture.withValue(buffer) { await body() }
        for (fd, text) in [(Int32(1), buffer.stdout), (Int32(2), buffer.stderr)] where !text.isEmpty {
            var out = ""
            for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0) {
                out += "\(site): " + line + "\n"
            }
            Output.write(fd, out)
        }
        return result
    }

    /// A connected, reachable engine for `target`, or the site's failed/unreachable result.
    func connect(_ target: FleetTarget, _ rendered: RenderedSite) async -> Result<ApplyEngine, FleetFailure> {
        let client: KubeClient
        do { client = try cluster.client(site: target.name, siteContext: target.context) } catch {
            let d = error as? Diagnostic
            return .failure(FleetFailure(.failed, d?.message ?? "\(error)", fix: d?.fix))
        }
        do {
            if let reason = try await Reachability.probe(client) {
                return .failure(FleetFailure(.unreachable, reason, fix: Self.unreachableFix(target)))
            }
        } catch {
            return .failure(FleetFailure(.failed, error.description))
        }
        return .success(ApplyEngine(client: client, recordNamespace: cluster.recordNamespace(for: rendered)))
    }

    static func unreachableFix(_ target: FleetTarget) -> String {
        "check that the cluster of context \(target.context ?? "(current)") is up and reachable, then re-run for this site"
    }

    /// The result of a site whose operation failed after it connected: `unreachable` when the
    /// cluster could not be read and no longer answers `/version` (it went away mid-run), else
    /// `failed` with the error's message and fix.
    func failure(_ t: FleetTarget, _ error: any Error, client: KubeClient) async -> SiteResult {
        if let a = error as? ApplyError, a.kind == .clusterUnavailable {
            do {
                if let reason = try await Reachability.probe(client) { return SiteResult(t, FleetFailure(.unreachable, reason, fix: Self.unreachableFix(t))) }
            } catch {}
        }
        return SiteResult(t, FleetFailure(.failed, Self.message(error), fix: Self.fix(error)))
    }

    static func fix(_ error: any Error) -> String? {
        if let a = error as? ApplyError { return a.fix }
        if let d = error as? Diagnostic { return d.fix }
        return nil
    }

    /// `connect`, then the chart components rendered as installs or upgrades from the site's
    /// records in that cluster (sources a re-render resolves go to `recorder`), and the
    /// `.Release` choices made.
    func connectAndRefine(_ target: FleetTarget, _ installRender: RenderedSite,
                          recorder: SourceRecorder? = nil) async -> Result<(ApplyEngine, RenderedSite, ChartReleases), FleetFailure> {
        switch await connect(target, installRender) {
        case .failure(let f): return .failure(f)
        case .success(let engine):
            do {
                let repo = self.repo
                let (site, releases) = try await SourceRecorder.$current.withValue(recorder) {
                    try await ChartReleaseRecords.refineWithReleases(installRender, engine: engine, repo: repo)
                }
                return .success((engine, site, releases))
            } catch {
                return .failure(FleetFailure(.failed, Self.message(error), fix: Self.fix(error)))
            }
        }
    }

    /// Prints the report: text (matrix, then detail) or one FleetReport document.
    func print(_ report: FleetReport) {
        switch output {
        case .json, .yaml:
            Output.document(report.document, output)
        case .text:
            Output.out(report.matrix(all: fleet.detail))
            let d = report.details(all: fleet.detail)
            if !d.isEmpty { Output.out(d) }
        }
    }
}

/// Why a site could not be handled.
struct FleetFailure: Error {
    var outcome: SiteOutcome
    var message: String
    var fix: String?
    init(_ outcome: SiteOutcome, _ message: String, fix: String? = nil) { self.outcome = outcome; self.message = message; self.fix = fix }
}

/// Results shared between the tasks of a fleet run.
final class FleetBox<T: Sendable>: @unchecked Sendable {
    private let lock = Lock()
    private var items: [String: T] = [:]
    subscript(key: String) -> T? {
        get { lock.withLock { items[key] } }
        set { lock.withLock { items[key] = newValue } }
    }
}

extension SiteResult {
    init(_ t: FleetTarget, _ f: FleetFailure) {
        self = .failure(t.site, f.outcome, f.message, fix: f.fix)
    }

    /// Planned (diff) counts.
    mutating func count(_ diffs: [ObjectDiff]) {
        for d in diffs {
            switch d.action {
            case .create: created += 1
            case .update: changed += 1
            case .prune: pruned += 1
            case .unchanged: unchanged += 1
            }
        }
    }
}

// MARK: diff

extension FleetRun {
    func diff(_ names: [String], serverSide: Bool) async throws {
        try await runEach(names, command: .diff) { t, site in await diffOne(t, site, serverSide: serverSide) }
    }

    /// Compiles the chosen sites, runs `op` on each that compiled (bounded), prints the report
    /// and exits with its code.
    func runEach(_ names: [String], command: FleetReport.Command,
                 _ op: @escaping @Sendable (FleetTarget, RenderedSite) async -> SiteResult) async throws {
        let targets = try targets(names)
        let compiled = compile(targets)
        let byName = Self.index(targets)
        let results = await FleetRunner.run(targets.map(\.site), limits: limits) { site in
            let t = byName[site.name]!
            if let f = compiled.failed[t.name] { return f }
            return await Self.buffered(t.name) { await op(t, compiled.rendered[t.name]!) }
        }
        let report = FleetReport(command: command, results: results, selector: fleet.selector)
        print(report)
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }

    func diffOne(_ t: FleetTarget, _ installRender: RenderedSite, serverSide: Bool) async -> SiteResult {
        let engine: ApplyEngine, site: RenderedSite
        switch await connectAndRefine(t, installRender) {
        case .failure(let f): return SiteResult(t, f)
        case .success(let c): (engine, site, _) = c
        }
        do {
            let (diffs, _, _) = try await engine.diff(site, namespaces: cluster.observedNamespaces(for: site))
            var r = SiteResult(site: t.name, cluster: t.site.clusterKey, outcome: .inSync)
            r.count(diffs)
            var machine = MachineReport.diff(diffs, revision: site.revision)
            var text = HumanReport.diffs(diffs, style: Style(color: false))
            if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
            text += HumanReport.summary(diffs)
            if serverSide {
                let rejected = await engine.serverDryRun(site, diffs: diffs)
                r.failed = rejected.count
                machine["serverDryRun"] = .array(rejected.map { ["object": MachineReport.object($0.0), "error": .string($0.1.description)] })
                for (k, e) in rejected { text += "server dry-run rejected \(k): \(e)\n" }
                if !rejected.isEmpty { r.message = "server dry-run rejected \(rejected.count) change\(rejected.count == 1 ? "" : "s")" }
            }
            r.report = machine
            r.detail = text
            r.outcome = r.failed > 0 ? .failed : (r.created + r.changed + r.pruned > 0 ? .changed : .inSync)
            return r
        } catch {
            return await failure(t, error, client: engine.client)
        }
    }

    static func message(_ error: any Error) -> String {
        if let a = error as? ApplyError { return a.message }
        if let d = error as? Diagnostic { return d.message }
        return "\(error)"
    }
}

// MARK: drift

extension FleetRun {
    func drift(_ names: [String]) async throws {
        try await runEach(names, command: .drift) { t, site in await driftOne(t, site) }
    }

    func driftOne(_ t: FleetTarget, _ site: RenderedSite) async -> SiteResult {
        let engine: ApplyEngine
        switch await connect(t, site) {
        case .failure(let f): return SiteResult(t, f)
        case .success(let e): engine = e
        }
        do {
            // Against what was last applied, as `pattern drift <site>`: that entry rendered again.
            let repo = self.repo
            let name = site.site
            let report = try await engine.drift(site, namespaces: cluster.observedNamespaces(for: site), lastApplied: { entry in
                try? Rollback.applied(entry, site: name, repo: repo, current: { nil }).get()
            })
            let objects = ObjectDrift(missing: report.missing, unmanaged: report.unmanaged, ownedElsewhere: report.ownedElsewhere)
            var r = SiteResult(site: t.name, cluster: t.site.clusterKey, outcome: report.inSync ? .inSync : .drifted)
            r.drifted = report.drifted.count + report.unmanaged.count + report.ownedElsewhere.count
            r.report = DriftCommand.document(report, objects: objects)
            if report.neverApplied {
                r.message = "never applied (no inventory in \(engine.records.namespace))"
                r.detail = "never applied to this cluster\n"
            } else if !report.inSync {
                r.detail = HumanReport.drift(report.items, objects: objects) + DriftCommand.pendingText(report, site: t.name)
            }
            return r
        } catch {
            return await failure(t, error, client: engine.client)
        }
    }
}
