import ArgumentParser
import PatternCore
import PatternCompile
import PatternDiff
import PatternReport
import PatternApply
import PatternRecord
#if canImport(Glibc)
import Glibc
#endif

/// `pattern history`: the ledger of applies kept in the cluster.
public struct HistoryCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show the recent applies of sites; what changed between two applies; what changed across the fleet.",
        usage: """
            pattern history <site> [-o text|json|yaml] [--context <name>] [-C <repo>]
              pattern history <site> --diff [<a> <b>]
              pattern history (--all | <site>...) [--selector <sel>] [--since 2h]
            """,
        discussion: """
            The ledger lives in the cluster (a ConfigMap in the record namespace, found by the site's \
            label), so every client sees the same history and no checkout is needed: without one, name \
            the cluster with --context/--kubeconfig (default: the current context) and the namespace with \
            --record-namespace (default pattern-system). In a checkout that has the site, its overlay \
            names the context and record namespace. It keeps the last 20 applies of a site.

            --diff lists the objects added, removed and changed between two ledger entries (seq numbers; \
            default: the last two). In the site's checkout each entry is rendered again from the \
            source cache as `pattern rollback` does (offline; Secret values appear only as fingerprints; \
            the provenance annotations are left out), or taken from the checkout as it is when that \
            renders the entry's revision (an apply from uncommitted changes still there), and changed \
            objects show each field path with old → new values. A render that is not what an entry \
            applied is never shown: the output says that entry cannot be recovered and why, then lists \
            objects from the ledger. Without the site's checkout the ledger alone answers: the objects the \
            applies in between created, configured or pruned, with their seq numbers, and no field values.

            Several sites, or --all (every site of the checkout), print one table across sites, newest \
            first: time, site, seq, result, revision, pattern commit, counts, who. --since keeps entries \
            newer than a duration (90s, 30m, 2h, 7d). Sites without a ledger are skipped; a site whose \
            cluster cannot be read is reported on stderr (exit 1), never shown as quiet.

            Examples:
              pattern history hub
              pattern history hub -o json
              pattern history hub --diff               the last two applies
              pattern history hub --diff 3 5
              pattern history hub --context prod   from any directory
              pattern history --all --since 2h         what changed across the fleet in two hours
              pattern history edge-eu edge-us -o yaml
            """
    )

    @OptionGroup public var repoOptions: RepoOptions
    @OptionGroup public var cluster: ClusterOptions
    @Argument(help: "Sites; with --diff: one site, then optionally two seq numbers.") public var targets: [String] = []
    @Flag(help: "Objects and fields that changed between two entries of one site (default: the last two).") public var diff = false
    @Flag(help: "Every site of the checkout, in one table.") public var all = false
    @Option(help: ArgumentHelp("Only the sites whose labels match (kubectl -l grammar, as for diff/apply/drift; see Docs/fleet.md). Filters the named sites, or every site when none is named.",
                               valueName: "selector")) public var selector: String?
    @Option(help: "Only entries newer than this duration (e.g. 90s, 30m, 2h, 7d).") public var since: String?
    @Option(name: .shortAndLong, help: "Output: text, json or yaml (a History, HistoryDiff or FleetHistory).") public var output: ReportFormat = .text

    public init() {}

    public func validate() throws {
        if diff {
            guard targets.count == 1 || targets.count == 3, !all, selector == nil else {
                throw ValidationError("--diff takes one site and optionally two seq numbers: pattern history <site> --diff [<a> <b>]")
            }
            if targets.count == 3, Int(targets[1]) == nil || Int(targets[2]) == nil {
                throw ValidationError("--diff: '\(targets[1])' and '\(targets[2])' must be ledger seq numbers (see `pattern history \(targets[0])`)")
            }
        } else if targets.isEmpty && !all && selector == nil {
            throw ValidationError("name a site, several sites, --all or --selector")
        }
        if let s = since, HistoryCommand.seconds(s) == nil {
            throw ValidationError("--since '\(s)' is not a duration: use a number with s, m, h or d (90s, 30m, 2h, 7d)")
        }
    }

    public func run() async throws {
        if diff { return try await runDiff() }
        if targets.count == 1 && !all && since == nil && selector == nil { return try await runOne(targets[0]) }
        try await runFleet()
    }

    /// One site's ledger, found by the site label in the record namespace: no render and no
    /// checkout needed (the checkout, when it has the site, names its context and namespace).
    func runOne(_ site: String) async throws {
        let engine = try Rollback.connect(site: site, repo: repoOptions.context, cluster: cluster.settings)
        let entries = try await Rollback.find(site: site, engine: engine)?.ledger.entries ?? []
        switch output {
        case .json, .yaml: Output.document(MachineReport.history(entries), output)
        case .text:
            Output.out(entries.isEmpty ? "no applies of \(site) recorded in \(engine.records.namespace)\n" : HumanReport.history(entries))
        }
    }

    func runDiff() async throws {
        let site = targets[0]
        let engine = try Rollback.connect(site: site, repo: repoOptions.context, cluster: cluster.settings)
        let ledger = try await Rollback.load(site: site, engine: engine).ledger
        let a: LedgerEntry, b: LedgerEntry
        if targets.count == 3 {
            a = try Rollback.entry(.seq(Int(targets[1])!), in: ledger)
            b = try Rollback.entry(.seq(Int(targets[2])!), in: ledger)
        } else {
            guard ledger.entries.count >= 2 else {
                throw Diagnostic.error("the ledger of \(site) has \(ledger.entries.count) entr\(ledger.entries.count == 1 ? "y" : "ies"); --diff needs two",
                                       fix: "apply the site again, or name two entries: pattern history \(site) --diff <a> <b>")
            }
            (a, b) = (ledger.entries[ledger.entries.count - 2], ledger.entries[ledger.entries.count - 1])
        }
        // Without the site's checkout nothing can be rendered again: the ledger alone says which
        // objects the applies in between changed.
        if (try? repoOptions.workspace.overlayChain(site)) == nil {
            let d = LedgerDiff(entries: ledger.entries, from: a.seq, to: b.seq)
            switch output {
            case .json, .yaml: Output.document(HistoryReport.ledgerDiffDocument(d, site: site, a: a, b: b), output)
            case .text: Output.out(HistoryReport.ledgerDiff(d, site: site, a: a, b: b))
            }
            return
        }
        // What each entry really applied: a render with the revision it recorded (rendered
        // again from the cache, or the checkout as it is now), never a render of its commit
        // that gives another revision (an apply from uncommitted changes).
        var current: RenderedSite?? = nil
        let repo = repoOptions.context
        func checkout() -> RenderedSite? {
            if let c = current { return c }
            let r = try? renderOne(site, repo: repo)
            current = .some(r)
            return r
        }
        let ra = Rollback.applied(a, site: site, repo: repo, current: checkout)
        let rb = a.revision == b.revision ? ra : Rollback.applied(b, site: site, repo: repo, current: checkout)
        guard case .success(let oldSite) = ra, case .success(let newSite) = rb else {
            var lost: [Rollback.Unrecoverable] = []
            for r in [ra, rb] { if case .failure(let u) = r, !lost.contains(where: { $0.seq == u.seq }) { lost.append(u) } }
            // No field diff from a render that is not what was applied: the ledger's objects only.
            let d = LedgerDiff(entries: ledger.entries, from: a.seq, to: b.seq)
            switch output {
            case .json, .yaml:
                var doc = HistoryReport.ledgerDiffDocument(d, site: site, a: a, b: b)
                doc["unrecoverable"] = .array(lost.map { ["seq": .int($0.seq), "reason": .string($0.reason), "fix": .string($0.fix)] })
                Output.document(doc, output)
            case .text:
                var out = ""
                for u in lost { out += "\(u.description)\n  fix: \(u.fix)\n" }
                let which = lost.map { "entry \($0.seq)" }.joined(separator: " and ")
                Output.out(out + HistoryReport.ledgerDiff(d, site: site, a: a, b: b,
                                                          objectsOnly: "field values are not shown because what \(which) applied cannot be recovered"))
            }
            return
        }
        let d = RenderDiff(old: oldSite.objects, new: newSite.objects)
        switch output {
        case .json, .yaml: Output.document(HistoryReport.diffDocument(d, site: site, a: a, b: b), output)
        case .text: Output.out(HistoryReport.diff(d, site: site, a: a, b: b))
        }
    }

    func runFleet() async throws {
        let sites: [String]
        if selector != nil {
            // The same site choice as the fleet forms of diff, apply and drift.
            let chosen = try FleetRun(repo: repoOptions.context, cluster: self.cluster.settings, fleet: FleetSelection(all: all, selector: selector),
                                      output: output).targets(targets)
            // A site whose overlay chain does not load cannot be placed on a cluster here.
            let broken = chosen.flatMap(\.chainErrors)
            if !broken.isEmpty { Output.report(broken); throw ExitCode(2) }
            sites = chosen.map(\.name)
        } else {
            sites = all ? try repoOptions.workspace.siteNames() : targets
        }
        let cutoff = since.flatMap(HistoryCommand.seconds).map { HistoryCommand.rfc3339(time(nil) - $0) }
        // Sites are read in child tasks: they take the options as plain `Sendable` values.
        let repo = repoOptions.context, cluster = self.cluster.settings
        var rows: [HistoryReport.SiteEntry] = [], failures: [Diagnostic] = []
        // Sites are read concurrently, at most 8 at a time.
        try await withThrowingTaskGroup(of: (String, Result<Ledger?, Diagnostic>).self) { group in
            var next = 0
            func add() {
                guard next < sites.count else { return }
                let site = sites[next]
                next += 1
                group.addTask {
                    do {
                        let engine = try Rollback.connect(site: site, repo: repo, cluster: cluster)
                        return (site, .success(try await Rollback.find(site: site, engine: engine)?.ledger))
                    } catch let d as Diagnostic {
                        return (site, .failure(d))
                    } catch {
                        return (site, .failure(.error("\(error)")))
                    }
                }
            }
            for _ in 0..<8 { add() }
            while let (site, r) = try await group.next() {
                switch r {
                case .success(let ledger):
                    for e in ledger?.entries ?? [] where cutoff.map({ e.time >= $0 }) ?? true { rows.append(.init(site: site, entry: e)) }
                case .failure(let d):
                    failures.append(.error("site \(site): \(d.message)", fix: d.fix))
                }
                add()
            }
        }
        switch output {
        case .json, .yaml: Output.document(HistoryReport.fleetDocument(rows), output)
        case .text: Output.out(rows.isEmpty ? "no applies recorded\(since.map { " in the last \($0)" } ?? "")\n" : HistoryReport.fleet(rows))
        }
        if !failures.isEmpty {
            Output.report(failures.sorted { $0.message < $1.message })
            throw ReportedFailure()
        }
    }

    /// `90s`, `30m`, `2h`, `7d` → seconds; nil when not a positive duration.
    static func seconds(_ text: String) -> Int? {
        guard let unit = text.last, let n = Int(text.dropLast()), n > 0, n < 100_000_000 else { return nil }
        switch unit {
        case "s": return n
        case "m": return n * 60
        case "h": return n * 3600
        case "d": return n * 86400
        default: return nil
        }
    }

    /// RFC 3339 UTC (`2026-05-01T12:00:00Z`, as the ledger writes times).
    static func rfc3339(_ t: time_t) -> String {
        var t = t
        var tmv = tm()
        gmtime_r(&t, &tmv)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(tmv.tm_year + 1900)-\(two(tmv.tm_mon + 1))-\(two(tmv.tm_mday))T\(two(tmv.tm_hour)):\(two(tmv.tm_min)):\(two(tmv.tm_sec))Z"
    }
}
