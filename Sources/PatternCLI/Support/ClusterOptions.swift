import ArgumentParser
import PatternCore
import PatternCompile
import KubeClient
import PatternApply
import PatternRecord

/// Options of commands that talk to a cluster.
public struct ClusterOptions: ParsableArguments {
    @Option(help: "Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).")
    public var kubeconfig: String?

    @Option(help: "kubeconfig context (default: the site's cluster.context, else the current context).")
    public var context: String?

    @Option(help: "Namespace holding inventories and ledgers (default: the site's apply.recordNamespace, else pattern-system).")
    public var recordNamespace: String?

    @Option(name: .customLong("namespace"), help: "Observe namespaced kinds only in this namespace (repeatable; default: the site's apply.namespaces). For identities bound by a Role.")
    public var namespaces: [String] = []

    @Flag(help: "Allow --context to name another context than the site's cluster.context (e.g. a test cluster).")
    public var allowOtherContext = false

    public init() {}

    /// The parsed options as plain values: what code running concurrently (fleet tasks,
    /// `pattern history --all`) takes instead of the option group, which is not `Sendable`.
    public var settings: ClusterSettings {
        ClusterSettings(kubeconfig: kubeconfig, context: context, recordNamespace: recordNamespace, namespaces: namespaces,
                        allowOtherContext: allowOtherContext)
    }

    /// A client for `site`'s cluster (see `ClusterSettings.client(for:)`).
    public func client(for site: RenderedSite) throws -> KubeClient { try settings.client(for: site) }

    /// A client for the site named `site` whose overlays name `siteContext`.
    func client(site: String, siteContext: String?) throws -> KubeClient { try settings.client(site: site, siteContext: siteContext) }

    /// `--record-namespace`, else the site's `apply.recordNamespace`, else `pattern-system`.
    func recordNamespace(for site: RenderedSite) -> String { settings.recordNamespace(for: site) }

    /// `--namespace`, else the site's `apply.namespaces`; nil: the whole cluster.
    func observedNamespaces(for site: RenderedSite) -> [String]? { settings.observedNamespaces(for: site) }
}

/// The cluster options as plain values: which kubeconfig and context, where the records are,
/// which namespaces are observed. A `Sendable` value, so concurrent code can hold it.
public struct ClusterSettings: Sendable {
    /// `--kubeconfig`; nil: `$KUBECONFIG`, then `~/.kube/config`.
    public var kubeconfig: String?
    /// `--context`; nil: the site's `cluster.context`, else the current context.
    public var context: String?
    /// `--record-namespace`; nil: the site's `apply.recordNamespace`, else `pattern-system`.
    public var recordNamespace: String?
    /// `--namespace` (repeatable); empty: the site's `apply.namespaces`.
    public var namespaces: [String]
    /// `--allow-other-context`.
    public var allowOtherContext: Bool

    /// Settings as the options give them; the defaults are those of no options.
    public init(kubeconfig: String? = nil, context: String? = nil, recordNamespace: String? = nil, namespaces: [String] = [],
                allowOtherContext: Bool = false) {
        self.kubeconfig = kubeconfig
        self.context = context
        self.recordNamespace = recordNamespace
        self.namespaces = namespaces
        self.allowOtherContext = allowOtherContext
    }

    /// A client for `site`'s cluster. A site that names a context must find it: applying one
    /// site's manifests to whatever context happens to be current is how clusters get broken.
    /// `--context` naming another context than the site's needs `--allow-other-context`.
    public func client(for site: RenderedSite) throws -> KubeClient {
        try client(site: site.site, siteContext: site.cluster.context)
    }

    /// A client for the site named `site` whose overlays name `siteContext`.
    func client(site: String, siteContext: String?) throws -> KubeClient {
        if let c = context, let own = siteContext, c != own, !allowOtherContext {
            throw Diagnostic.error("site '\(site)' targets kubeconfig context '\(own)', but --context names '\(c)'",
                                   fix: "drop --context to use '\(own)', or add --allow-other-context if '\(c)' is really meant to receive \(site)'s objects")
        }
        let ctx = context ?? siteContext
        do {
            return try KubeClient(kubeconfig: kubeconfig, context: ctx)
        } catch {
            if context == nil, let c = siteContext {
                throw Diagnostic.error("site '\(site)' targets kubeconfig context '\(c)', which cannot be used: \(error)",
                                       fix: "add that context to your kubeconfig, or pass --context <name> to choose one explicitly")
            }
            throw Diagnostic.error("cannot configure the cluster connection: \(error)", fix: "check --kubeconfig/--context")
        }
    }

    /// `--record-namespace`, else the site's `apply.recordNamespace`, else `pattern-system`.
    func recordNamespace(for site: RenderedSite) -> String {
        recordNamespace ?? site.apply.recordNamespace ?? Inventory.defaultNamespace
    }

    /// `--namespace`, else the site's `apply.namespaces`; nil: the whole cluster.
    func observedNamespaces(for site: RenderedSite) -> [String]? {
        namespaces.isEmpty ? site.apply.namespaces : namespaces
    }
}

/// Renders one site for a cluster command; compile errors exit (nothing is written).
func renderOne(_ site: String, repo: RepoContext) throws -> RenderedSite {
    guard case .site(let name) = RenderTarget.parse(site, repo: repo.repo) else {
        throw Diagnostic.error("'\(site)' is a Kustomize directory; cluster commands take a site", fix: "name a site in overlays/")
    }
    return try repo.compile([name])[0]
}

/// Output format of reporting commands: text, or a JSON/YAML document with apiVersion and kind.
public typealias ReportFormat = DocumentFormat

extension ClusterOptions {
    /// Renders `site` and connects to its cluster. Problems are printed; the thrown exit code
    /// is `errorExit` (2 for diff and drift, whose 1 means "changes found", as kubectl diff).
    /// `renderAndConnect` for commands that render for the cluster they change (diff, apply):
    /// a site whose `cluster.helm` reads the cluster (`lookup: live`, `capabilities: discover`)
    /// is compiled with its charts fed from the cluster and the reads recorded in the cache
    /// (see `HelmClusterReading`); with `--offline`, or for other sites, the recording replays.
    func renderReadingCluster(_ site: String, repo: RepoContext, errorExit: Int32) async throws -> (RenderedSite, ApplyEngine) {
        guard !repo.offline, case .site(let name) = RenderTarget.parse(site, repo: repo.repo),
              let chain = try? repo.workspace.overlayChain(name) else {
            return try renderAndConnect(site, repo: repo, errorExit: errorExit)
        }
        let settings = OverlaySpec.helmSettings(chain)
        guard settings.readsCluster else { return try renderAndConnect(site, repo: repo, errorExit: errorExit) }
        do {
            let client = try client(site: name, siteContext: chain.reversed().lazy.compactMap(\.cluster.context).first)
            let rendered = try await HelmClusterReading.compile(name, repo: repo, client: client, settings: settings)
            return (rendered, ApplyEngine(client: client, recordNamespace: recordNamespace(for: rendered)))
        } catch {
            throw Self.reported(error, exit: errorExit)
        }
    }

    /// `renderReadingCluster` with the cluster reads overlapped with the render: the site's
    /// identity, context and observed namespaces come from its overlays, so its inventory and
    /// the LIST of every kind it holds are read while it renders (see `ObservePrefetch`; the
    /// engine uses them only when the render produced that identity). A failed render cancels
    /// the reads and reports the compile error alone. Sites whose render reads the cluster
    /// (`cluster.helm`), that name no `pattern.path` (git patterns, repository layouts) or whose
    /// connection cannot be configured before the render take the sequential path (nil).
    /// `readingCluster: false` (drift): the render replays recorded cluster reads, as
    /// `renderAndConnect`.
    func renderPrefetching(_ site: String, repo: RepoContext, errorExit: Int32, readingCluster: Bool = true,
                           readLedger: Bool = false, alsoList: [GroupVersionKind] = []) async throws -> (RenderedSite, ApplyEngine, ObservePrefetch?) {
        guard case .site(let name) = RenderTarget.parse(site, repo: repo.repo), let chain = try? repo.workspace.overlayChain(name),
              !readingCluster || repo.offline || !OverlaySpec.helmSettings(chain).readsCluster,
              let ahead = readAhead(name, chain: chain, workspace: repo.workspace),
              let client = try? client(site: name, siteContext: ahead.context) else {
            let (rendered, engine) = readingCluster ? try await renderReadingCluster(site, repo: repo, errorExit: errorExit)
                                                    : try renderAndConnect(site, repo: repo, errorExit: errorExit)
            return (rendered, engine, nil)
        }
        let engine = ApplyEngine(client: client, recordNamespace: ahead.identity.recordNamespace)
        let prefetch = engine.prefetch(ahead.identity, namespaces: ahead.namespaces, readLedger: readLedger, alsoList: alsoList)
        let rendered: RenderedSite
        do { rendered = try renderOne(site, repo: repo) } catch {
            prefetch.cancel()
            throw Self.reported(error, exit: errorExit)
        }
        guard rendered.cluster.context == ahead.context, recordNamespace(for: rendered) == ahead.identity.recordNamespace else {
            prefetch.cancel()
            do { return (rendered, ApplyEngine(client: try self.client(for: rendered), recordNamespace: recordNamespace(for: rendered)), nil) } catch {
                throw Self.reported(error, exit: errorExit)
            }
        }
        return (rendered, engine, prefetch)
    }

    /// What the render of `site` will say about where it lives, from its overlays alone (as
    /// `SiteCompiler` derives it: the last overlay naming a value wins); nil when the pattern
    /// name needs more than reading `pattern.yaml` of a `pattern.path`.
    func readAhead(_ site: String, chain: [OverlaySpec], workspace: Workspace) -> (identity: SiteIdentity, context: String?, namespaces: [String]?)? {
        guard let path = chain.reversed().lazy.compactMap(\.pattern).first?.path, let dir = try? TreePath(path),
              let pattern = try? Workspace.loadPattern(tree: workspace.tree, dir: dir, limits: workspace.yamlLimits) else { return nil }
        let declaredRecords = chain.reversed().lazy.compactMap(\.apply.recordNamespace).first
        let declaredNamespaces = chain.reversed().lazy.compactMap(\.apply.namespaces).first
        let identity = SiteIdentity(pattern: pattern.name, site: site,
                                    recordNamespace: recordNamespace ?? declaredRecords ?? Inventory.defaultNamespace)
        return (identity, chain.reversed().lazy.compactMap(\.cluster.context).first, namespaces.isEmpty ? declaredNamespaces : namespaces)
    }

    /// `error` printed (unless already reported), as the command's exit code.
    static func reported(_ error: any Error, exit: Int32) -> ExitCode {
        if let d = error as? Diagnostic { Output.report([d]) } else if !(error is ReportedFailure) { Output.err("error: \(error)\n") }
        return ExitCode(exit)
    }

    func renderAndConnect(_ site: String, repo: RepoContext, errorExit: Int32) throws -> (RenderedSite, ApplyEngine) {
        do {
            let rendered = try renderOne(site, repo: repo)
            return (rendered, ApplyEngine(client: try client(for: rendered), recordNamespace: recordNamespace(for: rendered)))
        } catch {
            throw Self.reported(error, exit: errorExit)
        }
    }
}
