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

    /// The git ref a PatternSync's source names (nil: a path source, or no ref), which a
    /// Validated Patterns site renders as `global.targetRevision` where values-global.yaml sets no
    /// `main.git.revision`. The reconciler and a PatternRollout's apply of the site both pass it,
    /// so both render the same revision.
    static func sourceRef(_ source: PatternSyncSpec.SourceSpec) -> String? {
        if case .git(_, let ref, _, _, _) = source { return ref }
        return nil
    }

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

    /// The ledger's render record of one controller render.
    static func record(_ source: PatternSyncSpec.SourceSpec, commit: String?, recorder: SourceRecorder,
                       releases: ChartReleases, multiSourceConfig: MultiSourceConfig? = nil) -> LedgerEntry.Render {
        var r = LedgerEntry.Render(sources: recorder.sources, charts: recorder.charts, upgraded: releases.upgraded.sorted(),
                                   upgradeAll: releases.upgradeAll, releaseRevision: releases.revision,
                                   multiSourceConfig: multiSourceConfig?.value)
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
    /// recorded pins, the same `.Release` choices, the recorded ref (a Validated Patterns site's
    /// `global.targetRevision` default, as the PatternSync rendered it). Nil when `e` is not such
    /// an entry (the caller renders it as a CLI entry). Throws `Diagnostics` when something is not
    /// in the cache.
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
                              recorder: nil, pins: SourcePins(render), offline: true,
                              multiSourceConfig: render.multiSourceConfig.map { MultiSourceConfig(value: $0) }, sourceRef: pin.ref)
    }
}
