import ArgumentParser
import PatternCore
import PatternCompile
import PatternSource
import ValidatedPatterns
import PatternController

/// Options shared by commands that read a pattern repository.
public struct RepoOptions: ParsableArguments {
    @Option(name: [.customLong("repo"), .customShort("C")], help: "Pattern repository root (holds patterns/ and overlays/).")
    public var repo: String = "."

    @OptionGroup public var source: SourceOptions

    public init() {}

    /// The repository; a Validated Patterns checkout (values-global.yaml) implies its sites, and
    /// its clustergroup chart comes through the source cache when it is not in the repository.
    public var workspace: Workspace { context.workspace }

    /// Compiles `sites`, resolving git patterns through the source cache; charts of sites
    /// whose `cluster.helm` uses the cluster replay what was last read from it (the cache).
    public func compile(_ sites: [String], chartReleases: ChartReleases = .install, expandApplications: Bool? = nil) throws -> [RenderedSite] {
        try context.compile(sites, chartReleases: chartReleases, expandApplications: expandApplications)
    }

    /// The parsed options as plain values: what code running concurrently (task groups,
    /// `@Sendable` closures) takes instead of the option group, which is not `Sendable`.
    public var context: RepoContext {
        RepoContext(repo: repo, cacheDir: source.cacheDir, requireFresh: source.requireFresh, offline: source.offline,
                    deadlines: source.network.deadlines)
    }
}

/// The repository and source options as plain values: what compiling a site needs, whether
/// the options were parsed or are the defaults (`RenderCommand`'s start-up fast path). A
/// `Sendable` value, so concurrent code (fleet tasks, rollout reverts, drift's recovery of what
/// was last applied) can hold it.
public struct RepoContext: Sendable {
    /// The repository root (`-C`, `--repo`).
    public var repo = "."
    /// `--cache-dir`; nil: the default cache.
    public var cacheDir: String?
    /// `--require-fresh`.
    public var requireFresh = false
    /// `--offline`.
    public var offline = false
    /// `--connect-timeout`, `--low-speed-time`, `--low-speed-limit`.
    public var deadlines = NetworkDeadlines.default

    /// The context of the repository at `repo` with the given source settings.
    public init(repo: String = ".", cacheDir: String? = nil, requireFresh: Bool = false, offline: Bool = false,
                deadlines: NetworkDeadlines = .default) {
        self.repo = repo
        self.cacheDir = cacheDir
        self.requireFresh = requireFresh
        self.offline = offline
        self.deadlines = deadlines
    }

    /// The source cache: `--cache-dir`, else the default one.
    var cache: SourceCache { cacheDir.map { SourceCache(directory: $0) } ?? .default }

    /// The resolver; it records what it resolves into `SourceRecorder.current` when a command
    /// installed one (apply, for the ledger).
    var resolver: GitPatternResolver {
        var r = GitPatternResolver(resolver: SourceResolver(cache: cache,
                                                            requireFresh: requireFresh, offline: offline, deadlines: deadlines))
        r.recorder = SourceRecorder.current
        return r
    }

    var workspace: Workspace { Workspace(tree: LocalTree(root: repo), layout: resolver.validatedPatternsLayout) }

    /// See `RepoOptions.compile`.
    func compile(_ sites: [String], chartReleases: ChartReleases = .install, expandApplications: Bool? = nil) throws -> [RenderedSite] {
        try Renderer.compile(sites: sites, workspace: workspace, resolver: resolver, chartReleases: chartReleases,
                             expandApplications: expandApplications,
                             helmReads: { site throws(Diagnostic) in try HelmClusterReading.load(site, repo: self) })
    }
}

/// What a command-line target names.
enum RenderTarget {
    /// A site by name (overlays/<name>).
    case site(String)
    /// A plain Kustomize directory.
    case kustomizeDirectory(String)
    /// A Helm chart directory (holds Chart.yaml) or chart archive.
    case chart(String)

    /// `hub`, `overlays/hub`, `./overlays/hub/` → site; a directory with kustomization.yaml → Kustomize.
    static func parse(_ arg: String, repo: String) -> RenderTarget {
        var a = arg
        while a.count > 1 && a.hasSuffix("/") { a.removeLast() }
        if (a.contains("/") || a == "." || !FileSystem.exists(repo + "/overlays/" + a)) && ChartRenderCommand.isChart(a) {
            return .chart(a)
        }
        if a.contains("/") || a == "." {
            for name in ["kustomization.yaml", "kustomization.yml", "Kustomization"] where FileSystem.exists(a + "/" + name) {
                return .kustomizeDirectory(a)
            }
            if FileSystem.exists(a + "/" + Workspace.overlayFileName) {
                return .site(String(a.split(separator: "/").last!))
            }
        } else if !FileSystem.exists(repo + "/overlays/" + a), FileSystem.isDirectory(a) {
            for name in ["kustomization.yaml", "kustomization.yml", "Kustomization"] where FileSystem.exists(a + "/" + name) {
                return .kustomizeDirectory(a)
            }
        }
        return .site(a)
    }
}
