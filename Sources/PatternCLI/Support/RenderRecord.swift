import PatternCore
import PatternCompile
import PatternSource
import PatternRecord
import PatternController
import PatternReport

/// What the ledger records about a CLI render so it can be repeated exactly (`pattern rollback`,
/// `pattern history --diff`): the git commits and chart versions the resolver used, the overlay
/// checkout's commit (and whether it was dirty), the `.Release` choices and the Helm cluster
/// reads replayed.
enum RenderRecord {
    /// The record of `rendered`, compiled from `repo` while `recorder` was installed.
    static func make(_ rendered: RenderedSite, repo: RepoContext, recorder: SourceRecorder, releases: ChartReleases,
                     expandApplications: Bool? = nil) -> LedgerEntry.Render {
        deferred(rendered, repo: repo, recorder: recorder, releases: releases, expandApplications: expandApplications)()
    }

    /// `make` in two parts: what is in memory is taken now; the overlay checkout's state (a
    /// libgit2 status walk) and the copy of the Helm reads are made when the closure runs, which
    /// apply does only when it writes a ledger entry (`ApplyOptions.deferredRender`).
    static func deferred(_ rendered: RenderedSite, repo: RepoContext, recorder: SourceRecorder, releases: ChartReleases,
                         expandApplications: Bool? = nil) -> @Sendable () -> LedgerEntry.Render {
        let readsPath = HelmClusterReading.recordPath(rendered.site, repo: repo)
        let (root, cacheDir) = (repo.repo, cacheDirectory(repo))
        let (sources, charts) = (recorder.sources, recorder.charts)   // what this render used, taken now
        return {
            record(sources: sources, charts: charts, releases: releases, expandApplications: expandApplications,
                   overlay: overlay(root), readsPath: readsPath, cacheDir: cacheDir)
        }
    }

    static func cacheDirectory(_ repo: RepoContext) -> String { repo.cacheDir ?? SourceCache.defaultDirectory() }

    /// `make` with the overlay checkout already inspected (`overlay(_:)`): commands over many
    /// sites inspect the checkout once, not once per site.
    static func make(_ rendered: RenderedSite, repo: RepoContext, recorder: SourceRecorder, releases: ChartReleases,
                     expandApplications: Bool? = nil, overlay: LedgerEntry.Render.Overlay?) -> LedgerEntry.Render {
        record(sources: recorder.sources, charts: recorder.charts, releases: releases, expandApplications: expandApplications, overlay: overlay,
               readsPath: HelmClusterReading.recordPath(rendered.site, repo: repo), cacheDir: cacheDirectory(repo))
    }

    /// The one place a CLI render record is built: what the resolver recorded, the `.Release`
    /// choices, the overlay checkout and the kept copy of the Helm reads at `readsPath`.
    private static func record(sources: [LedgerEntry.Render.GitPin], charts: [LedgerEntry.Render.ChartPin], releases: ChartReleases, expandApplications: Bool?,
                               overlay: LedgerEntry.Render.Overlay?, readsPath: String, cacheDir: String) -> LedgerEntry.Render {
        var r = LedgerEntry.Render(sources: sources, charts: charts, upgraded: releases.upgraded.sorted(),
                                   upgradeAll: releases.upgradeAll, releaseRevision: releases.revision,
                                   expandApplications: expandApplications)
        r.overlay = overlay
        r.helmReads = keepHelmReads(at: readsPath, cacheDir: cacheDir)
        return r
    }

    /// The overlay checkout's commit, directory and dirtiness (nil: not a git checkout).
    static func overlay(_ repo: RepoContext) -> LedgerEntry.Render.Overlay? { overlay(repo.repo) }

    /// The checkout at `root` (nil: not a git checkout).
    static func overlay(_ root: String) -> LedgerEntry.Render.Overlay? {
        CheckoutState.inspect(root).map { .init(commit: $0.commit, dirty: $0.dirty, path: $0.path) }
    }

    /// Compiles `sites` (one failing site does not stop the others) with one `SourceRecorder`
    /// per site, so each site's ledger entry records only the sources its own render used: the
    /// fleet forms of apply and rollouts.
    static func compile(_ sites: [String], repo: RepoContext, revision: SourceRevision? = nil, chartReleases: ChartReleases = .install)
        -> (rendered: [RenderedSite], items: [ValidationReport.Item], recorders: [String: SourceRecorder]) {
        var recorders: [String: SourceRecorder] = [:]
        for s in sites where recorders[s] == nil { recorders[s] = SourceRecorder() }
        let base = repo.resolver
        let (rendered, items) = Renderer.compileCollecting(
            sites: sites, workspace: repo.workspace, resolver: base, chartReleases: chartReleases,
            helmReads: { s throws(Diagnostic) in try HelmClusterReading.load(s, repo: repo) },
            resolverFor: { [recorders] s in
                var r = base
                r.recorder = recorders[s]
                guard let revision else { return r }
                return RevisionResolver(base: r, revision: revision)
            })
        return (rendered, items, recorders)
    }

    /// A git revision to render some git sources at, instead of the ref the overlays name
    /// (`pattern rollout start --revision`): sources whose URL is in `urls`.
    struct SourceRevision: Sendable {
        var ref: String
        var urls: Set<String>
    }

    /// `GitPatternResolver` with the `SourceRevision`'s sources resolved at its ref (recorded
    /// so, in the ledger, with the commit found).
    struct RevisionResolver: PatternSourceResolver, ChartArchiveResolver {
        var base: GitPatternResolver
        var revision: SourceRevision

        func resolve(_ asked: PatternRef.GitRef) throws -> (tree: any SourceTree, directory: TreePath, provenance: Provenance, warnings: [String]) {
            guard revision.urls.contains(asked.url) else { return try base.resolve(asked) }
            var r = asked
            r.ref = revision.ref
            return try base.resolve(r)
        }

        func fetchChart(_ ref: ChartRepositoryRef) throws -> (bytes: [UInt8], display: String, warnings: [String]) {
            try base.fetchChart(ref)
        }
    }

    /// `<cache>/helm-reads/by-id/<hex>.json`: recorded cluster reads by content, so an old
    /// entry replays the reads it used even after later renders replaced the site's recording.
    static func helmReadsPath(id: String, cacheDir: String) -> String? {
        let hex = id.hasPrefix("sha256:") ? String(id.dropFirst(7)) : id
        guard hex.count == 64, hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else { return nil }
        return cacheDir + "/helm-reads/by-id/" + hex + ".json"
    }

    /// The content id of the site's recorded cluster reads at `path` (nil when there are
    /// none), after keeping a copy by that id (mode 0600: reads can hold Secret data).
    static func keepHelmReads(at path: String, cacheDir: String) -> String? {
        guard FileSystem.exists(path), let bytes = readFile(path) else { return nil }
        let id = "sha256:" + SHA256.hex(bytes)
        if let copy = helmReadsPath(id: id, cacheDir: cacheDir), !FileSystem.exists(copy) {
            let dir = String(copy[..<copy.lastIndex(of: "/")!])
            try? FileSystem.makeDirectories(dir)
            try? FileSystem.write(copy, bytes, mode: 0o600)
        }
        return id
    }

    /// The reads stored under `id`, nil when the cache no longer has them.
    static func loadHelmReads(id: String, repo: RepoContext) throws(Diagnostic) -> HelmClusterReads? {
        guard let path = helmReadsPath(id: id, cacheDir: cacheDirectory(repo)), FileSystem.exists(path), let bytes = readFile(path),
              "sha256:" + SHA256.hex(bytes) == id else { return nil }
        return try HelmClusterReads(decoding: try JSONParser.parse(bytes, file: path), file: path)
    }

    static func readFile(_ path: String) -> [UInt8]? {
        guard let slash = path.lastIndex(of: "/"), let name = try? TreePath(String(path[path.index(after: slash)...])) else { return nil }
        return try? LocalTree(root: String(path[..<slash])).read(name)
    }
}
