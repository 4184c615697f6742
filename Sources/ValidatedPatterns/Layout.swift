import PatternCore
import PatternCompile
import Helm

/// The Validated Patterns layout as a `RepoLayout`: a checkout with `values-global.yaml` is a
/// pattern repo without overlay files.
///
/// - the hub clusterGroup (`main.clusterGroupName`, or `main.variant`) is a site of that name;
/// - each `clusterGroup.managedClusterGroups` entry of the hub is a group overlay of that name
///   (cluster labels from `clusterSelector.matchLabels`/`acmlabels`, Helm overrides from
///   `helmOverrides`); spoke sites are overlay files that extend it;
/// - an overlay file of the same name (`overlays/hub/overlay.yaml`) replaces the implied one,
///   to name a kubeconfig context, labels or values (its `values.global.*` win over facts);
/// - a site renders the clustergroup chart with the operator's value files and parameters
///   (`VPSitePlan`); the Argo CD Applications it produces stay objects of the site.
public struct ValidatedPatternsLayout: RepoLayout {
    /// Fetches clustergroup charts from chart or git repositories; nil: only charts inside the
    /// repository (`common/clustergroup`).
    public var chartResolver: (any ClusterGroupChartResolver)?
    /// The `Pattern` resource's `spec.multiSourceConfig` (the controller sets it for a
    /// PatternSync made for a Pattern): when set it decides the clustergroup chart, and
    /// `main.multiSourceConfig` of `values-global.yaml` is not read. nil: values-global decides.
    public var multiSourceConfig: MultiSourceConfig?
    /// `global.repoURL`/`targetRevision` where `values-global.yaml` sets no `main.git` (the
    /// controller: the PatternSync's git source). nil: the local checkout's `origin` and branch.
    public var gitDefaults: VPGitDefaults?

    public init(chartResolver: (any ClusterGroupChartResolver)? = nil, multiSourceConfig: MultiSourceConfig? = nil,
                gitDefaults: VPGitDefaults? = nil) {
        self.chartResolver = chartResolver
        self.multiSourceConfig = multiSourceConfig
        self.gitDefaults = gitDefaults
    }

    /// The component name rendered objects carry.
    public static let component = "clustergroup"

    public func siteNames(in workspace: Workspace) throws(Diagnostics) -> [String] {
        guard let repo = try VPRepo.load(workspace) else { return [] }
        return [repo.hub]
    }

    public func overlay(named name: String, in workspace: Workspace) throws(Diagnostics) -> OverlaySpec? {
        guard let repo = try VPRepo.load(workspace) else { return nil }
        if name == repo.hub { return OverlaySpec(kind: .site, name: name, file: VPRepo.globalFile) }
        if let g = repo.groups.first(where: { $0.name == name }) {
            return OverlaySpec(kind: .group, name: name, cluster: ClusterFacts(labels: g.labels), file: g.file)
        }
        return nil
    }

    public func render(site: String, chain: [OverlaySpec], in workspace: Workspace) throws(Diagnostics) -> LayoutRender? {
        guard let repo = try VPRepo.load(workspace) else { return nil }
        let plan = try VPSitePlan.make(site: site, chain: chain, repo: repo, workspace: workspace, multiSource: multiSourceConfig, git: gitDefaults)
        let (chart, display) = try loadChart(plan.chart, at: plan.chartMark, workspace: workspace)
        var caps = Capabilities()
        if let kv = plan.kubeVersion {
            guard let v = KubeVersion(kv) else {
                throw Diagnostics([.error("kubeVersion \"\(kv)\" of site '\(site)' is not a Kubernetes version",
                                          at: SourceLocation(file: SiteFacts.path(site: site, workspace: workspace).string),
                                          fix: "write it as 1.31 or v1.31.2")])
            }
            caps.kubeVersion = v
        }
        caps = caps.adding(apiVersions: chain.flatMap(\.cluster.apiVersions))
        let request = ChartRenderRequest(chart: chart, values: plan.layers,
                                         release: ReleaseOptions(name: plan.releaseName, namespace: plan.namespace),
                                         capabilities: caps, includeCRDs: true, skipTests: true, setNamespace: true,
                                         yamlLimits: workspace.yamlLimits)
        let result: ChartRender
        do { result = try ChartRenderer().render(request) } catch { throw Diagnostics(error.diagnostics) }
        func shown(_ source: String) -> String {
            let rest = source.split(separator: "/", maxSplits: 1).dropFirst().first.map(String.init) ?? source
            return display + "/" + rest
        }
        // Helm hooks are kept as objects: Argo CD (which renders this chart for the operator)
        // maps them to sync hooks; see Docs/validated-patterns.md.
        let objects = result.all.map { (object: $0.object, file: shown($0.source)) }
        var values = Value.emptyObject
        if let url = plan.layers.reversed().lazy.compactMap({ $0.value[path: ["global", "repoURL"]] }).first {
            values = ["global": ["repoURL": url]]
        }
        var render = LayoutRender(pattern: plan.pattern, component: Self.component, objects: objects,
                                  warnings: plan.warnings + result.warnings, kubeVersion: plan.kubeVersion, values: values)
        render.applications = try repo.applicationsDefault()
        return render
    }

    /// The plan of `site` (nil when the workspace is not a Validated Patterns checkout).
    public func plan(site: String, workspace: Workspace) throws(Diagnostics) -> VPSitePlan? {
        guard let repo = try VPRepo.load(workspace) else { return nil }
        var ws = workspace
        ws.layout = self
        return try VPSitePlan.make(site: site, chain: try ws.overlayChain(site), repo: repo, workspace: ws, multiSource: multiSourceConfig, git: gitDefaults)
    }

    /// The merged values of `site` with the file and line of every leaf, the chart's own
    /// values.yaml included when the chart can be loaded.
    public func explain(site: String, workspace: Workspace) throws(Diagnostics) -> ExplainedValues? {
        guard let plan = try plan(site: site, workspace: workspace) else { return nil }
        var defaults: ValueLayer? = nil
        if let (chart, display) = try? loadChart(plan.chart, at: plan.chartMark, workspace: workspace) {
            defaults = ValueLayer(file: display + "/values.yaml", value: chart.values)
        }
        var hint: String? = nil
        let missing = plan.files.flatMap(\.missingFacts).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        if !missing.isEmpty {
            hint = "facts not set: \(missing.joined(separator: ", ")); run `pattern facts \(site)` to write "
                + "\(SiteFacts.path(site: site, workspace: workspace).string) from the site's cluster, or set them under values.global in the site's overlay"
        }
        return ExplainedValues.merge(plan.layers, defaults: defaults, files: plan.files, factsHint: hint)
    }

    /// How to render without fetching the clustergroup chart.
    static let vendorFix = "vendor the chart (`helm pull oci://quay.io/validatedpatterns/clustergroup --untar --untardir common`, or a clone of its git repository at common/clustergroup, with `helm dependency build`) and set main.multiSourceConfig.enabled: false"

    func loadChart(_ source: ClusterGroupChartSource, at mark: Mark, workspace: Workspace) throws(Diagnostics) -> (Chart, String) {
        switch source {
        case .path(let p):
            let path: TreePath
            do { path = try TreePath(p) } catch {
                throw Diagnostics([.error("clustergroup chart path '\(p)': \(error)", at: SourceLocation(file: VPRepo.globalFile, mark: mark))])
            }
            guard workspace.tree.resolvedKind(path) == .directory else {
                throw Diagnostics([.error("the clustergroup chart is not at \(p)", at: SourceLocation(file: VPRepo.globalFile, mark: mark),
                                          fix: "vendor the clustergroup chart at \(p), or set main.multiSourceConfig.clusterGroupChartVersion to take it from the chart repository")])
            }
            do { return (try ChartLoader(yamlLimits: workspace.yamlLimits).load(tree: workspace.tree, path: path, display: p), p) } catch {
                throw Diagnostics(error.diagnostics)
            }
        case .repository, .git:
            guard let chartResolver else {
                throw Diagnostics([.error("the clustergroup chart comes from \(source) (main.multiSourceConfig in \(VPRepo.globalFile)), and this build renders it only from the repository",
                                          at: SourceLocation(file: VPRepo.globalFile, mark: mark),
                                          fix: Self.vendorFix)])
            }
            do { return (try chartResolver.chart(source, limits: workspace.yamlLimits), source.description) } catch {
                // The resolver knows no line: point at main.multiSourceConfig, and say how to
                // render without the chart server (offline, or a server that is down).
                throw Diagnostics(error.items.map { item in
                    var item = item
                    if item.location == nil || (item.location?.file == VPRepo.globalFile && item.location?.mark.isKnown != true) {
                        item.location = SourceLocation(file: VPRepo.globalFile, mark: mark)
                    }
                    if item.severity == .error {
                        item.fix = (item.fix.map { $0 + "; or " } ?? "") + Self.vendorFix
                    }
                    return item
                })
            }
        }
    }
}
