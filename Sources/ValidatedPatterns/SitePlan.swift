import PatternCore
import PatternCompile
import Helm
import HelmTemplate
import ArgoCD

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

/// Where `global.repoURL` and `global.targetRevision` come from when `values-global.yaml` sets no
/// `main.git.repoURL`/`main.git.revision` (Validated Patterns repositories do not: `make install`
/// passes `--set main.git.repoURL=<origin> --set main.git.revision=<branch>` from the checkout,
/// and the operator passes its `Pattern`'s `gitSpec`).
public struct VPGitDefaults: Sendable, Hashable {
    public var repoURL: String?
    public var revision: String?
    /// What `pattern values --explain` names as having set them.
    public var origin: String

    public init(repoURL: String?, revision: String?, origin: String) {
        self.repoURL = repoURL; self.revision = revision; self.origin = origin
    }

    /// The local checkout's remote `origin` (as `https://`, see `httpsURL`) and checked-out
    /// branch, as the Validated Patterns Makefile reads them; nil without either.
    public static func checkout(_ root: String) -> VPGitDefaults? {
        let url = GitRemotes.url(of: root).map(httpsURL), branch = GitRemotes.branch(of: root)
        guard url != nil || branch != nil else { return nil }
        return VPGitDefaults(repoURL: url, revision: branch, origin: "(git checkout)")
    }

    /// The Makefile's rewrite of a remote URL to the `https://` URL the cluster reads with a
    /// token: `git@host:path` and `ssh://[user@]host[:port]/path` → `https://host/path`; user
    /// and password of an `http(s)://` URL are dropped (they would land in every Application);
    /// anything else (a local path, `file://`) is kept.
    public static func httpsURL(_ url: String) -> String {
        if url.hasPrefix("https://") || url.hasPrefix("http://") {
            let scheme = url.hasPrefix("https://") ? "https://" : "http://"
            let rest = url.dropFirst(scheme.count)
            let authority = rest.prefix { $0 != "/" }
            guard let at = authority.lastIndex(of: "@") else { return url }
            return scheme + rest[rest.index(after: at)...]
        }
        if url.hasPrefix("ssh://") {
            let rest = url.dropFirst(6)
            let authority = rest.prefix { $0 != "/" }
            let host = (authority.split(separator: "@").last ?? authority).prefix { $0 != ":" }
            return "https://" + host + rest.dropFirst(authority.count)
        }
        // scp-like: [user@]host:path (no scheme, a ':' before any '/')
        if let colon = url.firstIndex(of: ":"), !url[..<colon].contains("/"), !url.hasPrefix("file:") {
            let authority = url[..<colon]
            let host = authority.split(separator: "@").last ?? authority
            let path = url[url.index(after: colon)...].drop { $0 == "/" }
            return "https://" + host + "/" + path
        }
        return url
    }
}

/// One entry of the operator's value-file list for a site, as `pattern values --explain` shows it.
public struct VPValueFile: Sendable, Hashable {
    /// The file in the repository. An entry whose name is built from a cluster fact that is not
    /// set has the fact's name in its place (`values-<clusterPlatform>.yaml`).
    public var path: String
    /// Whether the file exists (and was read); false for an entry with `missingFacts`.
    public var present: Bool
    /// The facts (`global.<name>`) the entry's name needs that are not set, in the order the
    /// name uses them; such an entry is not a file and is not read (empty: the name resolved).
    public var missingFacts: [String]

    public init(path: String, present: Bool, missingFacts: [String] = []) {
        self.path = path; self.present = present; self.missingFacts = missingFacts
    }
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
    /// The value files considered, in the operator's order, and whether each exists. A file
    /// the operator lists twice (`values-hub.yaml`, the hub's group and cluster name) is listed
    /// once, at its later place: Helm reads it twice and the later read decides.
    public var files: [VPValueFile]
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
    /// The cluster facts (`global.<name>`) `pattern facts` reads, which value-file names use.
    public static let clusterFacts = ["clusterPlatform", "clusterVersion", "localClusterName", "clusterDomain",
                                      "localClusterDomain", "hubClusterDomain"]

    /// Plans `site` of `repo`; `chain` is the site's overlay chain. `multiSource` (a `Pattern`
    /// resource's `spec.multiSourceConfig`) decides the clustergroup chart instead of
    /// `main.multiSourceConfig` of `values-global.yaml` when given.
    /// `git` fills `global.repoURL`/`targetRevision` where `main.git` does not (default: the
    /// local checkout's `origin` and branch, `VPGitDefaults.checkout`).
    public static func make(site: String, chain: [OverlaySpec], repo: VPRepo, workspace: Workspace,
                            multiSource: MultiSourceConfig? = nil, git: VPGitDefaults? = nil) throws(Diagnostics) -> VPSitePlan {
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
        // The operator's multi-source parameters, from the Pattern's multiSourceConfig (what
        // `make install` copies from main.multiSourceConfig).
        var msc = multiSource ?? MultiSourceConfig(value: main?["multiSourceConfig"])
        if multiSource == nil, msc.clusterGroupChartVersion == nil { msc.clusterGroupChartVersion = "0.9.*" }   // as chartSource
        params.append(ValueLayer(file: "(operator parameters)", value: msc.parameters(workspace)))
        // Read from the checkout only when values-global.yaml leaves one of them unset.
        let mainGit = main?["git"]
        let needsDefaults = !(mainGit?["repoURL"].map { $0.isScalar && !$0.isNull } ?? false) || !(mainGit?["revision"].map { $0.isScalar && !$0.isNull } ?? false)
        let defaults = needsDefaults ? git ?? (workspace.tree as? LocalTree).flatMap { VPGitDefaults.checkout($0.root) } : nil
        if let url = main?["git"]?["repoURL"], url.isScalar, !url.isNull {
            params.append(ValueLayer(file: VPRepo.globalFile, value: ["global": ["repoURL": url]]))
        } else if let defaults, let url = defaults.repoURL {
            params.append(ValueLayer(file: defaults.origin, value: ["global": ["repoURL": .string(url)]]))
        }
        if let rev = main?["git"]?["revision"], rev.isScalar, !rev.isNull {
            params.append(ValueLayer(file: VPRepo.globalFile, value: ["global": ["targetRevision": rev]]))
        } else if let defaults, let rev = defaults.revision {
            params.append(ValueLayer(file: defaults.origin, value: ["global": ["targetRevision": .string(rev)]]))
        }
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
            // acm-chart writes them as Helm parameters of the spoke's clustergroup Application,
            // which Argo CD passes as `--set`: typed as Helm types them ("false" is a boolean).
            for o in g.helmOverrides {
                guard let text = o.value.scalarText else {
                    throw Diagnostics([.error("helmOverrides '\(o.name)' must have a scalar value, found \(o.value.typeName)", at: SourceLocation(file: g.file, mark: o.value.mark),
                                              fix: "write the value as a string (acm-chart passes it as an Argo CD Helm parameter)")])
                }
                do { try HelmParameter.set(into: &v, name: o.name, value: text) } catch {
                    throw Diagnostics([.error("helmOverrides '\(o.name)': \(error)", at: SourceLocation(file: g.file, mark: o.value.mark),
                                              fix: "write the name as a Helm --set path (a.b[0].c)")])
                }
            }
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
        // A name built from a fact that is not set (no facts file, no overlay value) is no file
        // the operator would read (it always knows its cluster): it is listed with the fact in
        // its place, not read.
        func part(_ key: String) -> (text: String, missing: [String]) {
            let v = fact(key)
            return v.isEmpty ? ("<\(key)>", ["global." + key]) : (v, [])
        }
        let platform = part("clusterPlatform"), version = part("clusterVersion"), name = part("localClusterName")
        var names: [(path: String, missing: [String])] = [
            (VPRepo.globalFile, []), (repo.groupFile(cg), []),
            (repo.layerFile(cg, platform.text), platform.missing),
            (repo.layerFile(cg, "\(platform.text)-\(version.text)"), platform.missing + version.missing),
            (repo.layerFile(cg, "\(platform.text)-\(cg)"), platform.missing),
            (repo.layerFile(cg, "\(version.text)-\(cg)"), version.missing),
            (repo.layerFile(cg, name.text), name.missing)]
        for extra in repo.global["global"]?["extraValueFiles"]?.array ?? [] {
            if let s = extra.string { names.append((String(s.drop(while: { $0 == "/" })), [])) }
        }
        var layers: [ValueLayer] = []
        var files: [VPValueFile] = []
        for (n, missing) in names {
            guard missing.isEmpty else { files.append(VPValueFile(path: n, present: false, missingFacts: missing)); continue }
            let v = try VPRepo.read(n, workspace)
            files.append(VPValueFile(path: n, present: v != nil))
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
                // An entry naming a cluster fact that is not set: listed with the fact in its place.
                let missing = clusterFacts.filter { k in
                    text.contains("global.\(k)") && (merged[path: ["global", k]].map { $0.isNull || ($0.scalarText ?? "").isEmpty } ?? true)
                }
                if !missing.isEmpty {
                    var shown = merged
                    for k in missing { shown[path: ["global", k]] = .string("<\(k)>") }
                    let display = (try? SharedValueFiles.render(text, values: shown)).map { String($0.drop(while: { $0 == "/" })) } ?? text
                    files.append(VPValueFile(path: display, present: false, missingFacts: missing.map { "global." + $0 }))
                    continue
                }
                let path: String
                do { path = try SharedValueFiles.render(text, values: merged) } catch {
                    warnings.append(Diagnostic(.warning, at: SourceLocation(file: setBy, mark: entry.mark),
                                               "sharedValueFiles entry '\(text)' does not render (\(error)); skipped, as the operator skips it"))
                    continue
                }
                let rel = String(path.drop(while: { $0 == "/" }))
                let v = try VPRepo.read(rel, workspace)
                files.append(VPValueFile(path: rel, present: v != nil))
                if let v { layers.append(ValueLayer(file: rel, value: v)) }
            }
        }
        layers += params
        // A file listed twice is read twice (Helm), and the later read decides: list it there only.
        files = files.enumerated().filter { i, f in !files[(i + 1)...].contains { $0.path == f.path } }.map(\.element)

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
