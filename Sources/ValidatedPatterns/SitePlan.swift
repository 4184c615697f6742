import PatternCore
import PatternCompile
import Helm
import HelmTemplate

/// Where the clustergroup chart of a Validated Patterns repo comes from, decided as the
/// operator decides it from `main.multiSourceConfig` in `values-global.yaml`.
public enum ClusterGroupChartSource: Sendable, Hashable, CustomStringConvertible {
    /// A chart directory inside the pattern repository (`common/clustergroup` in older repos).
    case path(String)
    /// `clusterGroupChartVersion` of chart `clustergroup` from a Helm chart repository.
    case repository(url: String, chart: String, version: String)
    /// `clusterGroupGitRepoUrl` at `clusterGroupChartGitRevision`.
    case git(url: String, revision: String, path: String)

    public var description: String {
        switch self {
        case .path(let p): return p
        case .repository(let url, let chart, let version): return "\(chart) \(version) from \(url)"
        case .git(let url, let revision, let path): return "\(url)@\(revision):\(path)"
        }
    }
}

/// Fetches a clustergroup chart that does not live in the pattern repository (chart
/// repositories and other git repositories go through the source cache). Until one is given,
/// those sources are a typed error that says how to vendor the chart.
public protocol ClusterGroupChartResolver: Sendable {
    func chart(_ source: ClusterGroupChartSource, limits: YAMLLimits) throws(Diagnostics) -> Chart
}

/// Everything a Validated Patterns site render needs, in the operator's terms: the clusterGroup,
/// the values layers in precedence order and the clustergroup chart's source.
public struct VPSitePlan: Sendable {
    public var site: String
    public var clusterGroup: String
    public var isHub: Bool
    /// `global.pattern` (the operator's Pattern name).
    public var pattern: String
    /// `global.namespace`: the release namespace of the clustergroup render.
    public var namespace: String
    /// Values layers, lowest precedence first (the chart's own values.yaml is below them all).
    public var layers: [ValueLayer]
    /// The value files considered, in the operator's order, and whether each exists.
    public var files: [(path: String, present: Bool)]
    public var chart: ClusterGroupChartSource
    /// Where `values-global.yaml` decides the chart (`main.multiSourceConfig`), for diagnostics.
    public var chartMark: Mark
    public var kubeVersion: String?
    public var warnings: [Diagnostic]

    /// The release name the operator gives the clustergroup Application: `<pattern>-<clusterGroup>`.
    public var releaseName: String { "\(pattern)-\(clusterGroup)" }
}

extension VPSitePlan {
    /// The default namespace of the operator's `Pattern` (the pattern-install chart's).
    public static let defaultNamespace = "openshift-operators"
    public static let defaultHelmRepo = "https://charts.validatedpatterns.io/"
    public static let legacyChartPath = "common/clustergroup"

    /// Plans `site` of `repo`; `chain` is the site's overlay chain. `multiSource` (a `Pattern`
    /// resource's `spec.multiSourceConfig`) decides the clustergroup chart instead of
    /// `main.multiSourceConfig` of `values-global.yaml` when given.
    public static func make(site: String, chain: [OverlaySpec], repo: VPRepo, workspace: Workspace,
                            multiSource: MultiSourceConfig? = nil) throws(Diagnostics) -> VPSitePlan {
        guard let cg = repo.clusterGroup(of: chain) else {
            throw Diagnostics([.error("site '\(site)' is neither the hub clusterGroup '\(repo.hub)' nor extends a managed cluster group",
                                      at: SourceLocation(file: chain.last?.file ?? site),
                                      fix: "add 'extends: [<group>]' naming one of: \(([repo.hub] + repo.groups.map(\.name)).joined(separator: ", ")), or 'pattern:' to render another pattern")])
        }
        let isHub = cg == repo.hub
        var warnings: [Diagnostic] = []

        // Parameters (highest precedence, as the operator's Helm parameters), lowest first:
        // derived defaults, the facts file, spoke overrides, then the site's overlays.
        var params: [ValueLayer] = []
        let main = repo.global["main"]
        if let url = main?["git"]?["repoURL"], url.isScalar { params.append(ValueLayer(file: VPRepo.globalFile, value: ["global": ["repoURL": url]])) }
        if let rev = main?["git"]?["revision"], rev.isScalar { params.append(ValueLayer(file: VPRepo.globalFile, value: ["global": ["targetRevision": rev]])) }
        if repo.global["global"]?["namespace"] == nil {
            params.append(ValueLayer(file: "(default)", value: ["global": ["namespace": .string(defaultNamespace)]]))
        }
        let hubFacts = try SiteFacts.load(site: repo.hub, workspace: workspace)
        if let hub = hubFacts, let d = hub.layer["global"]?["localClusterDomain"] {
            params.append(ValueLayer(file: hub.file, value: ["global": ["hubClusterDomain": d]]))
        }
        let facts = isHub && site == repo.hub ? hubFacts : try SiteFacts.load(site: site, workspace: workspace)
        if let facts { params.append(ValueLayer(file: facts.file, value: facts.layer)) }
        if !isHub, let g = repo.groups.first(where: { $0.name == cg }) {
            var v = Value.emptyObject
            v[path: ["clusterGroup", "name"]] = .string(cg)
            for o in g.helmOverrides { v[path: o.name.split(separator: ".").map(String.init)] = o.value }
            params.append(ValueLayer(file: g.file, value: v))
        }
        for o in chain {
            for vf in o.valueFiles {
                let path: String
                do { path = vf.path.hasPrefix("/") ? try TreePath(String(vf.path.dropFirst())).string : try o.directory.resolving(vf.path).string } catch {
                    throw Diagnostics([.error("value file '\(vf.path)': \(error)", at: SourceLocation(file: o.file, mark: vf.mark),
                                              fix: "keep value files inside the repository")])
                }
                guard let v = try VPRepo.read(path, workspace) else {
                    throw Diagnostics([.error("value file \(path) does not exist", at: SourceLocation(file: o.file, mark: vf.mark),
                                              fix: "create it or remove it from valueFiles")])
                }
                params.append(ValueLayer(file: path, value: v))
            }
            if let vo = o.values.object, !vo.isEmpty { params.append(ValueLayer(file: o.file, value: o.values)) }
        }
        var paramValues = Value.emptyObject
        for p in params { paramValues = HelmValues.mergeLayers(paramValues, p.value) }
        func fact(_ k: String) -> String {
            guard let v = paramValues[path: ["global", k]], !v.isNull else { return "" }
            return v.scalarText ?? ""
        }
        // On the hub the operator sets hubClusterDomain and localClusterDomain both to its domain.
        if isHub, fact("hubClusterDomain").isEmpty, !fact("localClusterDomain").isEmpty {
            let v: Value = ["global": ["hubClusterDomain": .string(fact("localClusterDomain"))]]
            params.insert(ValueLayer(file: "(localClusterDomain)", value: v), at: 0)
            paramValues = HelmValues.mergeLayers(v, paramValues)
        }

        // Value files in the operator's order (newApplicationValueFiles), missing ones skipped.
        let platform = fact("clusterPlatform"), version = fact("clusterVersion"), name = fact("localClusterName")
        var names = [VPRepo.globalFile, repo.groupFile(cg),
                     repo.layerFile(cg, platform), repo.layerFile(cg, "\(platform)-\(version)"),
                     repo.layerFile(cg, "\(platform)-\(cg)"), repo.layerFile(cg, "\(version)-\(cg)"),
                     repo.layerFile(cg, name)]
        for extra in repo.global["global"]?["extraValueFiles"]?.array ?? [] {
            if let s = extra.string { names.append(String(s.drop(while: { $0 == "/" }))) }
        }
        var layers: [ValueLayer] = []
        var files: [(String, Bool)] = []
        for n in names {
            let v = try VPRepo.read(n, workspace)
            files.append((n, v != nil))
            if let v { layers.append(ValueLayer(file: n, value: v)) }
        }
        // sharedValueFiles: templates rendered against the merged files and parameters (hub only:
        // the spoke clustergroup Application acm-chart writes does not list them).
        if isHub {
            var merged = Value.emptyObject
            for l in layers + params { merged = HelmValues.mergeLayers(merged, l.value) }
            let setBy = (layers + params).last { $0.value[path: ["clusterGroup", "sharedValueFiles"]] != nil }?.file ?? VPRepo.globalFile
            for entry in merged[path: ["clusterGroup", "sharedValueFiles"]]?.array ?? [] {
                guard let text = entry.string else { continue }
                let path: String
                do { path = try SharedValueFiles.render(text, values: merged) } catch {
                    warnings.append(Diagnostic(.warning, at: SourceLocation(file: setBy, mark: entry.mark),
                                               "sharedValueFiles entry '\(text)' does not render (\(error)); skipped, as the operator skips it"))
                    continue
                }
                let rel = String(path.drop(while: { $0 == "/" }))
                let v = try VPRepo.read(rel, workspace)
                files.append((rel, v != nil))
                if let v { layers.append(ValueLayer(file: rel, value: v)) }
            }
        }
        layers += params

        var merged = Value.emptyObject
        for l in layers { merged = HelmValues.mergeLayers(merged, l.value) }
        let pattern = merged[path: ["global", "pattern"]]?.scalarText ?? workspace.tree.displayName.split(separator: "/").last.map(String.init) ?? "pattern"
        let namespace = merged[path: ["global", "namespace"]]?.scalarText ?? defaultNamespace
        var kubeVersion = facts?.kubeVersion
        for o in chain { kubeVersion = o.cluster.kubeVersion ?? kubeVersion }
        return VPSitePlan(site: site, clusterGroup: cg, isHub: isHub, pattern: pattern, namespace: namespace, layers: layers,
                          files: files, chart: multiSource?.chartSource(workspace) ?? chartSource(repo, workspace),
                          chartMark: (repo.global["main"]?["multiSourceConfig"] ?? repo.global["main"] ?? repo.global).mark, kubeVersion: kubeVersion, warnings: warnings)
    }

    /// The operator's choice: `main.multiSourceConfig.enabled: false` → `common/clustergroup` in
    /// the repository; a `clusterGroupGitRepoUrl` → that git repository; otherwise chart
    /// `clustergroup` `clusterGroupChartVersion` (default `0.9.*`) from `helmRepoUrl`. A repository
    /// that sets none of these and vendors `common/clustergroup` uses the vendored chart.
    static func chartSource(_ repo: VPRepo, _ workspace: Workspace) -> ClusterGroupChartSource {
        let cfg = repo.global["main"]?["multiSourceConfig"]
        let enabled = cfg?["enabled"]?.bool
        let vendored = workspace.tree.resolvedKind(try! TreePath(legacyChartPath)) == .directory
        if enabled == false || (enabled == nil && vendored && cfg?["clusterGroupChartVersion"] == nil) { return .path(legacyChartPath) }
        if let git = cfg?["clusterGroupGitRepoUrl"]?.string, !git.isEmpty {
            return .git(url: git, revision: cfg?["clusterGroupChartGitRevision"]?.scalarText ?? "main", path: ".")
        }
        return .repository(url: cfg?["helmRepoUrl"]?.string ?? defaultHelmRepo, chart: "clustergroup",
                           version: cfg?["clusterGroupChartVersion"]?.scalarText ?? "0.9.*")
    }
}

/// `clusterGroup.sharedValueFiles` entries are Helm templates (`/overrides/values-{{
/// $.Values.global.clusterPlatform }}.yaml`), rendered with `.Values` as the operator's `helmTpl`.
public enum SharedValueFiles {
    public static func render(_ text: String, values: Value) throws(TemplateError) -> String {
        var set = TemplateSet()
        try set.parse(name: "sharedValueFiles", text: text)
        let renderer = TemplateRenderer(templates: set)
        return try renderer.execute("sharedValueFiles", data: .dict(["Values": TemplateConversion.values(values)]))
    }
}
