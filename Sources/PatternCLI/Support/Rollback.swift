import ArgumentParser
import PatternCore
import PatternCompile
import PatternSource
import PatternRecord
import PatternApply
import PatternController
import KubeClient

/// Which ledger entry `pattern rollback --to` (and the library API) names.
public enum RollbackTarget: Sendable, Hashable, ExpressibleByArgument, CustomStringConvertible {
    /// A ledger sequence number.
    case seq(Int)
    /// A prefix (at least 7 hex digits) of a rendered revision (`sha256:` optional), of a
    /// pattern source commit, or of an overlay checkout commit.
    case id(String)

    public init?(argument: String) {
        if let n = Int(argument), n > 0, argument.count < 7 { self = .seq(n); return }
        let hex = argument.hasPrefix("sha256:") ? String(argument.dropFirst(7)) : argument
        guard hex.count >= 7, hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else { return nil }
        self = .id(hex)
    }

    public var description: String {
        switch self {
        case .seq(let n): return "seq \(n)"
        case .id(let s): return s
        }
    }
}

/// Rollback from the ledger: a site's earlier entry rendered again from the source cache and
/// the overlay checkout's git history (fully offline), checked against the entry's revision,
/// then applied through the same engine as `pattern apply` (prune guards included).
public enum Rollback {
    /// Where a site's records are and what they say.
    public struct SiteRecords: Sendable {
        public var engine: ApplyEngine
        public var identity: SiteIdentity
        public var ledger: Ledger
    }

    /// A rollback ready to apply.
    public struct Plan: Sendable {
        /// The entry rolled back to.
        public var target: LedgerEntry
        /// The site's latest entry (what is live), nil when the ledger is empty.
        public var current: LedgerEntry?
        /// `target` rendered again (its revision equals `target.revision` unless forced).
        public var rendered: RenderedSite
    }

    /// Reverts `site` to an earlier ledger entry (default: the latest earlier succeeded entry
    /// whose revision differs from the live one) and applies it without asking, recording a new
    /// ledger entry that says it is a rollback of that entry's `seq`. For callers that already
    /// hold the site's cluster connection (`engine`), such as progressive rollouts reverting a
    /// wave. Throws a `Diagnostic` (nothing written) when the entry cannot be rendered again
    /// exactly.
    public static func rollback(site: String, to target: RollbackTarget? = nil, repo: RepoContext, engine: ApplyEngine,
                                options: ApplyOptions = ApplyOptions(), force: Bool = false) async throws -> ApplyResult {
        let records = try await load(site: site, engine: engine)
        let plan = try prepare(records, to: target, repo: repo, force: force)
        return try await apply(plan, engine: engine, options: options)
    }

    /// `rollback(site:to:repo:engine:)` connecting to the site's cluster as the CLI does
    /// (`--kubeconfig`, `--context`, the overlay's `cluster.context` and record namespace).
    public static func rollback(site: String, to target: RollbackTarget? = nil, repo: RepoContext, cluster: ClusterSettings,
                                options: ApplyOptions = ApplyOptions(), force: Bool = false) async throws -> ApplyResult {
        try await rollback(site: site, to: target, repo: repo, engine: try connect(site: site, repo: repo, cluster: cluster),
                           options: options, force: force)
    }

    /// Applies `plan` (the new entry records `rollbackOf`, and the target's render record so it
    /// can itself be rolled back to).
    public static func apply(_ plan: Plan, engine: ApplyEngine, options: ApplyOptions = ApplyOptions(),
                             observed: ApplyEngine.Observed? = nil,
                             progress: @escaping @Sendable (ApplyProgress) -> Void = { _ in }) async throws -> ApplyResult {
        var options = options
        options.rollbackOf = plan.target.seq
        options.render = plan.target.render
        if let kinds = plan.rendered.apply.pruneKinds, options.pruneKinds == nil { options.pruneKinds = Set(kinds.map(GroupKind.parse)) }
        if options.namespaces == nil { options.namespaces = plan.rendered.apply.namespaces }
        return try await engine.apply(plan.rendered, options: options, observed: observed, progress: progress)
    }

    /// A client for `site`'s cluster, read from the current checkout's overlay chain only (the
    /// pattern is not rendered: its current version may be what is broken).
    public static func connect(site: String, repo: RepoContext, cluster: ClusterSettings) throws -> ApplyEngine {
        let chain = try? repo.workspace.overlayChain(site)
        let context = chain?.reversed().lazy.compactMap(\.cluster.context).first
        let ns = cluster.recordNamespace ?? chain?.reversed().lazy.compactMap(\.apply.recordNamespace).first ?? Inventory.defaultNamespace
        return ApplyEngine(client: try cluster.client(site: site, siteContext: context), recordNamespace: ns)
    }

    /// The site's ledger, found by its labels in the record namespace (the pattern's name is
    /// read from the ledger, not from a render).
    public static func load(site: String, engine: ApplyEngine) async throws -> SiteRecords {
        guard let r = try await find(site: site, engine: engine) else {
            throw Diagnostic.error("no applies of site '\(site)' are recorded in \(engine.records.namespace)",
                                   fix: "check the site name and --record-namespace; only sites applied with pattern have a ledger")
        }
        return r
    }

    /// `load`, nil when the site has no ledger.
    public static func find(site: String, engine: ApplyEngine) async throws -> SiteRecords? {
        let list: ObjectList
        do {
            list = try await engine.client.list(GroupVersionKind(apiVersion: "v1", kind: "ConfigMap"), namespace: engine.records.namespace,
                                                labelSelector: "\(Ownership.siteLabel)=\(Ownership.labelValue(site)),\(Ownership.ledgerLabel)")
        } catch {
            throw Diagnostic.error("cannot read the ledgers in \(engine.records.namespace): \(error)",
                                   fix: "check the connection and that you may list ConfigMaps in \(engine.records.namespace)")
        }
        let patterns = Set(list.items.compactMap { cm -> String? in cm["data"]?["site"]?.string == site ? cm["data"]?["pattern"]?.string : nil })
        guard let pattern = patterns.first else { return nil }
        guard patterns.count == 1 else {
            throw Diagnostic.error("site '\(site)' has ledgers of several patterns in \(engine.records.namespace): \(patterns.sorted().joined(separator: ", "))",
                                   fix: "remove the ledger ConfigMap of the pattern the site no longer uses")
        }
        let identity = SiteIdentity(pattern: pattern, site: site, recordNamespace: engine.records.namespace)
        let ledger: Ledger
        do { ledger = try await engine.records.loadLedger(identity) } catch {
            throw Diagnostic.error("cannot read the ledger of \(site): \(error.message)", fix: "check the connection")
        }
        return SiteRecords(engine: engine, identity: identity, ledger: ledger)
    }

    /// The entry `target` names; nil `target`: the latest succeeded entry before the live one
    /// whose revision differs from it.
    public static func entry(_ target: RollbackTarget?, in ledger: Ledger) throws(Diagnostic) -> LedgerEntry {
        guard let current = ledger.last else {
            throw Diagnostic.error("the ledger of \(ledger.site) is empty", fix: "apply the site first")
        }
        switch target {
        case nil:
            guard let e = ledger.entries.last(where: { $0.seq < current.seq && $0.result == .succeeded && $0.revision != current.revision }) else {
                throw Diagnostic.error("no earlier succeeded apply of \(ledger.site) has another revision than the live one (\(Revision.short(current.revision)))",
                                       fix: "see `pattern history \(ledger.site)`; name an entry with --to <seq>")
            }
            return e
        case .seq(let n)?:
            guard let e = ledger.entries.first(where: { $0.seq == n }) else {
                let kept = ledger.entries.first.map { " (the ledger keeps seq \($0.seq)–\(current.seq))" } ?? ""
                throw Diagnostic.error("the ledger of \(ledger.site) has no entry \(n)\(kept)", fix: "see `pattern history \(ledger.site)`")
            }
            return e
        case .id(let given)?:
            func hex(_ s: String) -> String { s.hasPrefix("sha256:") ? String(s.dropFirst(7)) : s }
            // A revision may come with its `sha256:` prefix (rollouts pass the stored revision).
            let prefix = hex(given)
            let matches = ledger.entries.filter { e in
                hex(e.revision).hasPrefix(prefix) || e.source.commit.hasPrefix(prefix) || (e.render?.overlay?.commit.hasPrefix(prefix) ?? false)
            }
            // Several entries of one revision are the same render: take the newest succeeded.
            guard let e = matches.last(where: { $0.result == .succeeded }) ?? matches.last else {
                throw Diagnostic.error("no entry of \(ledger.site) has a revision, pattern commit or overlay commit starting with \(prefix)",
                                       fix: "see `pattern history \(ledger.site)` for the revisions and commits it keeps")
            }
            return e
        }
    }

    /// Chooses the entry and renders it again; refuses (unless `force`) when the render's
    /// revision differs from the entry's.
    public static func prepare(_ records: SiteRecords, to target: RollbackTarget?, repo: RepoContext, force: Bool) throws -> Plan {
        let e = try entry(target, in: records.ledger)
        let rendered = try rerender(e, site: records.identity.site, repo: repo)
        if rendered.revision != e.revision && !force {
            throw Diagnostic.error(mismatch(e, got: rendered.revision),
                                   fix: "nothing was written; re-run with --force to apply this render although it differs from what entry \(e.seq) applied, or choose another entry with --to")
        }
        return Plan(target: e, current: records.ledger.last, rendered: rendered)
    }

    /// Why a re-render's revision differs, with the inputs that may explain it.
    static func mismatch(_ e: LedgerEntry, got: String) -> String {
        var why: [String] = []
        if let r = e.render?.notReproducible { why.append(r) }
        if !e.client.version.isEmpty && e.client.version != PatternVersion.current {
            why.append("entry \(e.seq) was rendered by pattern \(e.client.version), this is \(PatternVersion.current)")
        }
        if e.render?.helmReads != nil { why.append("its charts read the cluster (lookup/capabilities)") }
        let inputs = (e.render?.sources ?? []).map { "\($0.url)@\($0.commit.prefix(12))" }
            + (e.render?.overlay.map { ["overlay checkout @\($0.commit.prefix(12))"] } ?? [])
        return "rendering entry \(e.seq) again gives revision \(Revision.short(got)), not the \(Revision.short(e.revision)) it applied"
            + (inputs.isEmpty ? "" : " (inputs: " + inputs.joined(separator: ", ") + ")")
            + (why.isEmpty ? "" : "; likely because " + why.joined(separator: "; "))
    }

    /// Renders `entry` of `site` again from the source cache only: the overlay files from the
    /// checkout's git history at the recorded overlay commit, git patterns at their recorded
    /// commits, charts at their recorded versions and digests, the same `.Release` choices and
    /// recorded Helm reads. Never touches the network.
    public static func rerender(_ e: LedgerEntry, site: String, repo: RepoContext) throws -> RenderedSite {
        guard let render = e.render else {
            throw Diagnostic.error("entry \(e.seq) of \(site) was recorded without what is needed to render it again (an older pattern wrote it)",
                                   fix: "choose an entry applied with this version of pattern (see `pattern history \(site) -o yaml`: entries with a render field)")
        }
        // An entry the controller wrote for a git-sourced PatternSync: its repository from the cache.
        if let site = try ControllerRender.rerender(e, site: site, cache: repo.cache) { return site }
        guard let overlay = render.overlay, !overlay.commit.isEmpty else {
            throw Diagnostic.error("entry \(e.seq) of \(site) was applied from a checkout that is not a git repository; its overlay files cannot be read again",
                                   fix: "apply sites from a git checkout to be able to roll back; choose another entry with --to")
        }
        guard let checkout = CheckoutState.inspect(repo.repo) else {
            throw Diagnostic.error("\(repo.repo) is not a git checkout: entry \(e.seq)'s overlay files are read from its history",
                                   fix: "run rollback in the checkout the site was applied from (-C <dir>)")
        }
        let tree: GitTree
        do { tree = try CheckoutState.tree(gitDir: checkout.gitDir, commit: overlay.commit, directory: overlay.path) } catch {
            throw Diagnostic.error("cannot read the overlay files of entry \(e.seq) at commit \(overlay.commit.prefix(12)) in \(repo.repo): \(error.message)",
                                   fix: "fetch the branch that has commit \(overlay.commit.prefix(12)) into this checkout (git fetch), then retry")
        }
        var resolver = GitPatternResolver(resolver: SourceResolver(cache: repo.cache, offline: true, deadlines: repo.deadlines))
        resolver.pins = SourcePins(render)
        var compiler = SiteCompiler(workspace: Workspace(tree: tree, layout: resolver.validatedPatternsLayout), resolver: resolver)
        // Relative local pattern URLs anchor at the checkout, as when the entry was applied.
        compiler.localRoot = repo.repo
        compiler.chartReleases = ChartReleases(upgraded: Set(render.upgraded), upgradeAll: render.upgradeAll, revision: render.releaseRevision)
        compiler.expandApplications = render.expandApplications
        if let id = render.helmReads {
            guard let reads = try RenderRecord.loadHelmReads(id: id, repo: repo) else {
                throw Diagnostic.error("the Helm cluster reads entry \(e.seq) used (\(Revision.short(id))) are no longer in the source cache",
                                       fix: "use the cache the site was applied with (--cache-dir), or choose another entry with --to")
            }
            compiler.helmReads = reads
        }
        do { return try compiler.compile(site: site) } catch {
            throw Diagnostics([Diagnostic.error("cannot render entry \(e.seq) of \(site) again from the cache",
                                                fix: "the messages below say what is missing; sources must be in the cache (--cache-dir) the site was applied with")] + error.items)
        }
    }
}

extension Rollback {
    /// Why what a ledger entry applied cannot be shown or compared with: no render of it gives
    /// the revision it recorded.
    public struct Unrecoverable: Error, Sendable, CustomStringConvertible {
        /// The entry's `seq`.
        public var seq: Int
        /// Why, in words (the re-render's mismatch, or why it could not render at all).
        public var reason: String
        /// What the user can do.
        public var fix: String
        public var description: String { "entry \(seq): what it applied cannot be recovered: \(reason)" }
    }

    /// What ledger entry `e` applied, as objects: a render whose revision (the content hash of
    /// the render) is the one the entry recorded, and nothing else. Tried in order: the entry
    /// rendered again from the cache as `rollback` does (`rerender`), then `current()` — the
    /// checkout as it is now, which still holds the uncommitted changes an entry applied from
    /// a dirty working tree unless they were changed since. A render of the entry's commit
    /// that gives another revision is never returned.
    public static func applied(_ e: LedgerEntry, site: String, repo: RepoContext,
                               current: () -> RenderedSite?) -> Result<RenderedSite, Unrecoverable> {
        var reason: String
        do {
            let r = try rerender(e, site: site, repo: repo)
            if r.revision == e.revision { return .success(r) }
            reason = mismatch(e, got: r.revision)
        } catch let d as Diagnostic {
            reason = d.message
        } catch let d as Diagnostics {
            reason = d.items.map(\.message).joined(separator: "; ")
        } catch {
            reason = "\(error)"
        }
        if let c = current(), c.revision == e.revision { return .success(c) }
        let dirty = e.render?.overlay?.dirty == true
        let fix = dirty
            ? "entry \(e.seq) was applied from uncommitted changes that are no longer in the checkout; restore them (or commit what you apply) to compare with it"
            : "run in the checkout the site was applied from, with the source cache it used (--cache-dir)"
        return .failure(Unrecoverable(seq: e.seq, reason: reason, fix: fix))
    }
}
