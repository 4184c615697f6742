import ArgumentParser
import PatternCore
import PatternCompile
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
    public var workspace: Workspace { Workspace(tree: LocalTree(root: repo), layout: source.resolver.validatedPatternsLayout) }

    /// Compiles `sites`, resolving git patterns through the source cache; charts of sites
    /// whose `cluster.helm` uses the cluster replay what was last read from it (the cache).
    public func compile(_ sites: [String], chartReleases: ChartReleases = .install, expandApplications: Bool? = nil) throws -> [RenderedSite] {
        try Renderer.compile(sites: sites, workspace: workspace, resolver: source.resolver, chartReleases: chartReleases,
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
