import PatternCore
import PatternCompile
import PatternSource
import PatternRecord
import PatternApply
import ValidatedPatterns
import Helm

/// How the controller renders a PatternSync's site, and what its ledger entries record so the
/// render can be repeated exactly later (`pattern rollback` of a controller-managed site, with
/// the PatternSync suspended).
///
/// A git-sourced PatternSync's entry records the PatternSync's repository as the first git pin
/// (redacted URL, ref, path, commit) and as the entry's `overlay` (commit and path), then what
/// the render itself resolved (`pattern.git` patterns, charts) and the `.Release` choices. A
/// path-sourced one records the directory's git checkout as `overlay` when it is one, exactly
/// as a CLI apply from that checkout does (so the CLI's own re-render applies).
public enum ControllerRender {
    /// `LedgerEntry.Client.tool` of the controller's entries.
    public static let tool = "pattern-controller"

    /// Compiles `site` from `tree` on the blocking executor (file reads, parsing and git
    /// patterns stay off the cooperative pool), recording what it resolves into `recorder`.
    static func compile(tree: any SourceTree, site: String, cache: SourceCache, treeProvenance: Provenance?, repositoryURLs: [String],
                        releases: ChartReleases, recorder: SourceRecorder?, pins: SourcePins? = nil,
                        offline: Bool = false, multiSourceConfig: MultiSourceConfig? = nil, sourceRef: String? = nil,
                        helmReads: HelmClusterReads? = nil, lookupMisses: LookupMisses? = nil) async throws(Diagnostics) -> RenderedSite {
        try await BlockingExecutor.shared.run { () throws(Diagnostics) -> RenderedSite in
            try compileNow(tree: tree, site: site, cache: cache, treeProvenance: treeProvenance, repositoryURLs: repositoryURLs,
                           releases: releases, recorder: recorder, pins: pins, offline: offline,
                           multiSourceConfig: multiSourceConfig, sourceRef: sourceRef, helmReads: helmReads, lookupMisses: lookupMisses)
        }
    }

    static func compileNow(tree: any SourceTree, site: String, cache: SourceCache, treeProvenance: Provenance?, repositoryURLs: [String],
                           releases: ChartReleases, recorder: SourceRecorder?, pins: SourcePins? = nil,
                           offline: Bool = false, multiSourceConfig: MultiSourceConfig? = nil, sourceRef: String? = nil,
                           helmReads: HelmClusterReads? = nil, lookupMisses: LookupMisses? = nil) throws(Diagnostics) -> RenderedSite {
        var resolver = GitPatternResolver(resolver: SourceResolver(cache: cache, offline: offline))
        resolver.recorder = recorder
        resolver.pins = pins
        var layout = resolver.validatedPatternsLayout
        layout.multiSourceConfig = multiSourceConfig   // a Validated Patterns Pattern's choice of clustergroup chart
        // global.repoURL/targetRevision where values-global.yaml sets no main.git: the source, as
        // the operator passes its Pattern's gitSpec (HEAD or no ref: the chart's own default).
        if let url = repositoryURLs.first {
            layout.gitDefaults = VPGitDefaults(repoURL: url, revision: sourceRef.flatMap { $0.isEmpty || $0 == "HEAD" ? nil : $0 },
                                               origin: "(PatternSync spec.source.git)")
        }
        var compiler = SiteCompiler(workspace: Workspace(tree: tree, layout: layout),
                                    resolver: resolver, treeProvenance: treeProvenance)
        compiler.repositoryURLs = repositoryURLs
        compiler.chartReleases = releases
        compiler.helmReads = helmReads
        compiler.lookupMisses = lookupMisses
        return try compiler.compile(site: site)
    }

    /// Helm's install-or-upgrade choice for `site`'s chart components, as Helm makes it (an
    /// upgrade when the release exists): a chart component whose objects an earlier successful
    /// apply recorded in the site's inventory renders as an upgrade (`.Release.IsUpgrade`,
    /// upgrade hooks); the rest as installs. Every install when the site has no chart component
    /// or its records cannot be read (the apply reads and checks the inventory again). The
    /// PatternSync's reconcile and the PatternRollout's apply of a site both choose here, so
    /// they render the same revision. See `ChartChoice` for `.Release.Revision`.
    static func chartReleases(_ site: RenderedSite, records: RecordStore, identity: SiteIdentity) async -> ChartChoice {
        guard !site.chartComponents.isEmpty,
              let ledger = try? await records.loadLedger(identity), let inventory = try? await records.loadInventory(identity) else { return ChartChoice() }
        let next = ChartReleases.fromRecords(site, inventory: inventory.objects, anySucceeded: ledger.entries.contains { $0.result == .succeeded },
                                             nextSeq: (ledger.last?.seq ?? 0) + 1)
        var choice = ChartChoice(next: next)
        if !next.upgraded.isEmpty, let last = ledger.entries.last(where: { $0.result == .succeeded }), let r = last.render {
            let live = ChartReleases(upgraded: Set(r.upgraded), upgradeAll: r.upgradeAll, revision: r.releaseRevision)
            if live != next { choice.live = (live, last.revision) }
        }
        return choice
    }

    /// The `.Release` of a site's chart components for one render, stable while the site's
    /// desired state does not change: an upgrade's revision is the number of the ledger entry
    /// the coming apply writes (`next`), but when the site renders exactly as its last
    /// successful apply did with that apply's recorded choice (`live`: its upgraded components
    /// and revision), that render stands and nothing is applied. So a chart that prints
    /// `.Release.Revision` (or `.Release.IsUpgrade`) does not re-apply on every interval, and
    /// the site matches a PatternRollout's revision; the revision advances only when something
    /// else in the render changed. (Flux's helm-controller makes a new release, and revision,
    /// only when the chart or values changed; Argo CD renders `helm template`, always an
    /// install at revision 1.)
    struct ChartChoice: Sendable {
        /// The choice for a new apply (every install when nothing was applied before).
        var next: ChartReleases = .install
        /// The last successful apply's choice and the revision it rendered (nil: none, or the
        /// same as `next`).
        var live: (releases: ChartReleases, revision: String)?

        /// The render and its `.Release` choice: `render(next)` when it renders as the site has
        /// it (no revision in use) or something else changed, else `render(live)`. `installed`
        /// is the render with every chart an install (no second render when nothing is an upgrade).
        func render<E: Error>(installed: RenderedSite, _ render: (ChartReleases) async throws(E) -> RenderedSite) async throws(E) -> (RenderedSite, ChartReleases) {
            if next.upgraded.isEmpty { return (installed, .install) }
            let upgraded = try await render(next)
            guard let live, upgraded.revision != live.revision else { return (upgraded, next) }
            let same = try await render(live.releases)
            return same.revision == live.revision ? (same, live.releases) : (upgraded, next)
        }
    }

    /// The ledger's render record of one controller render.
    static func record(_ source: PatternSyncSpec.SourceSpec, commit: String?, recorder: SourceRecorder,
                       releases: ChartReleases) -> LedgerEntry.Render {
        var r = LedgerEntry.Render(sources: recorder.sources, charts: recorder.charts, upgraded: releases.upgraded.sorted(),
                                   upgradeAll: releases.upgradeAll, releaseRevision: releases.revision)
        switch source {
        case .git(let url, let ref, let path, _, _):
            if let commit {
                let tree = LedgerEntry.Render.GitPin(url: SourcePins.key(url), ref: ref ?? "", path: path ?? "", commit: commit)
                r.sources.removeAll { $0 == tree }
                r.sources.insert(tree, at: 0)
                r.overlay = .init(commit: commit, dirty: false, path: path ?? "")
            }
        case .path(let dir):
            if let c = CheckoutState.inspect(dir) { r.overlay = .init(commit: c.commit, dirty: c.dirty, path: c.path) }
        }
        return r
    }

    /// The git pin of a controller entry's PatternSync repository (nil: the entry is not a
    /// controller entry of a git-sourced PatternSync).
    public static func treePin(_ e: LedgerEntry) -> LedgerEntry.Render.GitPin? {
        guard e.client.tool == tool, let r = e.render, let o = r.overlay, let first = r.sources.first,
              first.commit == o.commit, first.path == o.path else { return nil }
        return first
    }

    /// Renders a controller entry of a git-sourced PatternSync again from the source cache only
    /// (no network): the repository at the recorded commit, git patterns and charts at their
    /// recorded pins, the same `.Release` choices. Nil when `e` is not such an entry (the caller
    /// renders it as a CLI entry). Throws `Diagnostics` when something is not in the cache.
    public static func rerender(_ e: LedgerEntry, site: String, cache: SourceCache) throws(Diagnostics) -> RenderedSite? {
        guard let pin = treePin(e), let render = e.render else { return nil }
        let resolver = SourceResolver(cache: cache, offline: true)
        let resolved: ResolvedSource
        do throws(SourceError) {
            resolved = try resolver.resolve(GitSource(url: pin.url, ref: pin.commit, path: pin.path.isEmpty ? nil : pin.path))
        } catch {
            throw Diagnostics([.error("cannot read commit \(pin.commit.prefix(12)) of \(pin.url) (entry \(e.seq), applied by the controller) from the source cache: \(error.message)",
                                      fix: "run rollback with the --cache-dir the commit is in (the controller's cache, or one a `pattern apply` of that repository filled)")])
        }
        let provenance = Provenance(source: e.source.url.isEmpty ? pin.url : e.source.url, commit: pin.commit, stale: e.source.fromCache)
        return try compileNow(tree: resolved.tree, site: site, cache: cache, treeProvenance: provenance, repositoryURLs: [pin.url],
                              releases: ChartReleases(upgraded: Set(render.upgraded), upgradeAll: render.upgradeAll, revision: render.releaseRevision),
                              recorder: nil, pins: SourcePins(render), offline: true)
    }
}
