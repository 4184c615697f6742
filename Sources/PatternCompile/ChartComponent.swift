import PatternCore
import PatternDiff
import Helm

/// A component that is a Helm chart:
///
/// ```yaml
/// components:
/// - name: redis
///   chart:
///     path: charts/redis          # chart directory or .tgz, relative to the pattern directory
///     releaseName: cache          # .Release.Name (default: the component name)
///     namespace: data             # .Release.Namespace and the namespace of namespaced objects (default: default)
///     valueFiles: [values-redis.yaml]
///     values: {replicas: "${replicas}"}   # ${…} substituted with the site's values
/// ```
/// or, from a chart repository (Docs/sources.md "Chart repositories"):
/// ```yaml
///   chart:
///     repo: https://charts.example.com   # the directory holding index.yaml
///     name: redis
///     version: "0.9.*"                   # exact, or a semver constraint
///     # digest: sha256:…                 # pins the archive's content
///     # credentials: {username: …, passwordEnv: …, tokenEnv: …, caBundle: …}
/// ```
/// or, from an OCI registry:
/// ```yaml
///   chart:
///     oci: oci://ghcr.io/acme/charts/redis   # registry, repository path, chart name
///     version: "0.9.*"                       # exact (tag, `+` as `_`), or a constraint over the tags
///     # digest: sha256:…                     # pins the manifest
///     # plainHTTP: true                      # a registry without TLS (helm --plain-http)
/// ```
public struct ChartComponentSpec: Sendable {
    /// Chart directory or archive in the pattern (empty when `repository` is set).
    public var path: String
    /// The chart comes from a chart repository or an OCI registry instead of `path`.
    public var repository: ChartRepositoryRef?
    public var releaseName: String?
    public var namespace: String?
    public var valueFiles: [(path: String, mark: Mark)]
    public var values: Value
    public var mark: Mark

    static let known = ["path", "releaseName", "namespace", "valueFiles", "values"] + ChartRepositoryRef.known

    static func decode(_ v: Value, reader r: inout FieldReader) -> ChartComponentSpec? {
        guard let o = r.object(v, "chart") else { return nil }
        r.checkKnown(o, known, in: "chart")
        let repository = ChartRepositoryRef.decode(o, at: v, reader: &r)
        let path = r.string(o, "path", in: "chart", required: repository == nil) ?? ""
        var values = Value.emptyObject
        if let vv = o["values"], !vv.isNull {
            if vv.object == nil { r.error("chart 'values' must be a map, found \(vv.typeName)", at: vv) } else { values = vv }
        }
        return ChartComponentSpec(path: path, repository: repository, releaseName: r.string(o, "releaseName", in: "chart"),
                                  namespace: r.string(o, "namespace", in: "chart"),
                                  valueFiles: r.strings(o, "valueFiles", in: "chart").map { (path: $0.0, mark: $0.1) },
                                  values: values, mark: v.mark)
    }
}

/// Install or upgrade, per chart component: what `.Release.IsInstall`, `.Release.IsUpgrade`
/// and `.Release.Revision` say and which hooks run (`pre-/post-install` or `pre-/post-upgrade`).
/// The caller decides from the site's ledger: the first successful apply of a chart component is
/// its install, later ones are upgrades. The default renders every chart as a first install
/// (revision 1), as `helm template` does.
public struct ChartReleases: Sendable, Hashable {
    /// Chart components rendered as upgrades.
    public var upgraded: Set<String>
    /// Render every chart component as an upgrade (`pattern render <site> --is-upgrade`).
    public var upgradeAll: Bool
    /// `.Release.Revision` of an upgrade (installs are revision 1): the number of the apply
    /// about to be recorded in the site's ledger.
    public var revision: Int

    public init(upgraded: Set<String> = [], upgradeAll: Bool = false, revision: Int = 2) {
        self.upgraded = upgraded
        self.upgradeAll = upgradeAll
        self.revision = max(2, revision)
    }

    /// Every chart component a first install.
    public static let install = ChartReleases()

    /// Whether `component` renders as an upgrade.
    public func isUpgrade(_ component: String) -> Bool { upgradeAll || upgraded.contains(component) }

    /// `.Release` of `component`.
    func release(_ component: String, name: String, namespace: String) -> ReleaseOptions {
        isUpgrade(component) ? ReleaseOptions(name: name, namespace: namespace, revision: revision, isUpgrade: true)
            : ReleaseOptions(name: name, namespace: namespace)
    }

    /// The chart components an earlier successful apply installed: those of `rendered`'s chart
    /// components with an object in the site's inventory, when the ledger holds a successful
    /// apply (`anySucceeded`). `nextSeq` is the ledger number the coming apply will get.
    public static func fromRecords(_ rendered: RenderedSite, inventory: Set<ObjectKey>, anySucceeded: Bool, nextSeq: Int) -> ChartReleases {
        guard anySucceeded, !rendered.chartComponents.isEmpty else { return .install }
        let charts = Set(rendered.chartComponents)
        var upgraded: Set<String> = []
        for o in rendered.objects where charts.contains(o.component) && !upgraded.contains(o.component) && inventory.contains(o.key) {
            upgraded.insert(o.component)
        }
        return ChartReleases(upgraded: upgraded, revision: nextSeq)
    }
}

/// Renders chart components for the site compiler.
struct ChartComponentRenderer: Sendable {
    let tree: any SourceTree
    let displayPrefix: String
    let limits: YAMLLimits
    /// Fetches charts of `repository` components (nil: such components are an error).
    var charts: (any ChartArchiveResolver)? = nil
    /// Where chart warnings go: fetches (stale cache, failed mirrors) and renders (a
    /// non-boolean condition, values type conflicts, an unknown hook, a `lookup` missing from
    /// the recording), each naming the component, the chart and its file.
    var fetchWarnings: ChartFetchWarnings? = nil

    /// The chart's objects with their `# Source` names. Hooks become apply-plan edges (see
    /// `HookOrdering`); `test` hooks and hooks for events other than install are left out.
    func render(_ spec: ChartComponentSpec, component: String, patternDir: TreePath, patternFile: String,
                substituter: Substituter, capabilities: Capabilities, releases: ChartReleases = .install,
                lookup: LookupMode = .empty) throws(Diagnostics) -> [(Value, String)] {
        let referencedAt = SourceLocation(file: patternFile, mark: spec.mark)
        let chart: Chart
        let chartDisplay: String
        if let repository = spec.repository {
            let fetched = try ChartRepositoryRef.fetch(repository, with: charts, component: component, at: SourceLocation(file: patternFile, mark: repository.mark),
                                                       warnings: fetchWarnings)
            chartDisplay = fetched.display
            do { chart = try ChartLoader(yamlLimits: limits).loadArchive(fetched.bytes, origin: fetched.display) } catch { throw Diagnostics(error.diagnostics) }
        } else {
            let chartPath: TreePath
            do { chartPath = try patternDir.resolving(spec.path) } catch {
                throw Diagnostics([.error("component '\(component)': chart path: \(error)", at: referencedAt,
                                          fix: "keep chart paths inside the repository")])
            }
            chartDisplay = displayPrefix + chartPath.string
            do {
                chart = try ChartLoader(yamlLimits: limits).load(tree: tree, path: chartPath, display: chartDisplay)
            } catch { throw Diagnostics(error.diagnostics) }
        }

        var diagnostics: [Diagnostic] = []
        var layers: [ValueLayer] = []
        for vf in spec.valueFiles {
            let p: TreePath
            do { p = vf.path.hasPrefix("/") ? try TreePath(String(vf.path.dropFirst())) : try patternDir.resolving(vf.path) } catch {
                diagnostics.append(.error("chart value file '\(vf.path)': \(error)", at: SourceLocation(file: patternFile, mark: vf.mark)))
                continue
            }
            let shown = displayPrefix + p.string
            guard tree.resolvedKind(p) == .file else {
                diagnostics.append(.error("chart value file \(shown) does not exist", at: SourceLocation(file: patternFile, mark: vf.mark),
                                          fix: "create it or remove it from the chart's valueFiles"))
                continue
            }
            do {
                var v = try HelmYAML.parse(try tree.readResolved(p), file: shown, limits: limits)
                substituter.apply(to: &v, file: shown, diagnostics: &diagnostics)
                layers.append(ValueLayer(file: shown, value: v))
            } catch let d as Diagnostic {
                diagnostics.append(d)
            } catch {
                diagnostics.append(.error("cannot read \(shown): \(error)", at: SourceLocation(file: shown)))
            }
        }
        var inline = spec.values
        substituter.apply(to: &inline, file: patternFile, diagnostics: &diagnostics)
        layers.append(ValueLayer(file: patternFile, value: inline))
        if !diagnostics.isEmpty { throw Diagnostics(diagnostics) }

        let release = releases.release(component, name: spec.releaseName ?? component, namespace: spec.namespace ?? "default")
        let request = ChartRenderRequest(chart: chart, values: layers, release: release, capabilities: capabilities, lookup: lookup,
                                         includeCRDs: true, skipTests: true, setNamespace: true, yamlLimits: limits)
        let result: ChartRender
        do { result = try ChartRenderer().render(request) } catch { throw Diagnostics(error.diagnostics) }
        let chartDir = chartDisplay
        func shown(_ source: String) -> String {
            // `<chart>/templates/x.yaml` → the file in the repository.
            let rest = source.split(separator: "/", maxSplits: 1).dropFirst().first.map(String.init) ?? source
            return chartDir + "/" + rest
        }
        if let fetchWarnings {
            for w in result.locatedWarnings(chart: chart, context: "component '\(component)': ", shown: shown) { fetchWarnings.add(w) }
        }
        var objects = result.crds.map { ($0.object, shown($0.source)) } + result.manifests.map { ($0.object, shown($0.source)) }
        objects += HookOrdering.apply(hooks: result.hooks, to: &objects, isUpgrade: release.isUpgrade).map { ($0.object, shown($0.source)) }
        return objects
    }
}

/// Helm hooks as apply-plan edges, through the `config.kubernetes.io/depends-on` annotation
/// the planner already reads: every non-hook object of the chart depends on the pre-install
/// hooks of the highest weight, each weight's hooks depend on those of the next lower weight,
/// and post-install hooks (again by weight) depend on every non-hook object. So pre hooks form
/// levels before the chart's objects and post hooks levels after them; readiness waits between
/// levels make a hook Job complete before what follows.
enum HookOrdering {
    static let annotation = "config.kubernetes.io/depends-on"

    static func apply(hooks: [RenderedManifest], to objects: inout [(Value, String)], isUpgrade: Bool) -> [RenderedManifest] {
        let preEvent: HelmHook.Event = isUpgrade ? .preUpgrade : .preInstall
        let postEvent: HelmHook.Event = isUpgrade ? .postUpgrade : .postInstall
        var pre = hooks.filter { $0.hook?.events.contains(preEvent) == true }
        var post = hooks.filter { $0.hook?.events.contains(postEvent) == true && $0.hook?.events.contains(preEvent) != true }
        pre.sort { ($0.hook?.weight ?? 0) < ($1.hook?.weight ?? 0) }
        post.sort { ($0.hook?.weight ?? 0) < ($1.hook?.weight ?? 0) }

        func refs(_ ms: [RenderedManifest]) -> [String] { ms.compactMap { $0.object.objectKey.map(reference) } }
        func chain(_ group: inout [RenderedManifest], base: [String]) -> [String] {
            // Weights in ascending order: each weight depends on the previous one (or on `base`).
            var previous = base
            var i = 0
            while i < group.count {
                let w = group[i].hook?.weight ?? 0
                var j = i
                while j < group.count, (group[j].hook?.weight ?? 0) == w { j += 1 }
                for k in i..<j { addDependencies(&group[k].object, previous) }
                previous = refs(Array(group[i..<j]))
                i = j
            }
            return previous
        }
        let lastPre = chain(&pre, base: [])
        if !lastPre.isEmpty {
            // Namespaces and CRDs stay first (hooks may live in a namespace the chart creates,
            // and the planner already orders namespaced objects after their Namespace).
            for i in objects.indices where !["Namespace", "CustomResourceDefinition"].contains(objects[i].0.kindName ?? "") {
                addDependencies(&objects[i].0, lastPre)
            }
        }
        let all = objects.compactMap { $0.0.objectKey.map(reference) }
        _ = chain(&post, base: all)
        return pre + post
    }

    static func reference(_ k: ObjectKey) -> String {
        k.namespace.isEmpty ? "\(k.group)/\(k.kind)/\(k.name)" : "\(k.group)/namespaces/\(k.namespace)/\(k.kind)/\(k.name)"
    }

    static func addDependencies(_ object: inout Value, _ refs: [String]) {
        if refs.isEmpty { return }
        var existing = object.annotations[annotation]?.string.map { $0.split(separator: ",").map { String($0).trimming(TrimSet(characters: " ")) } } ?? []
        for r in refs where !existing.contains(r) { existing.append(r) }
        object[path: ["metadata", "annotations", annotation]] = .string(existing.joined(separator: ","))
    }
}


extension ChartComponentRenderer {
    /// What the site's charts see of the cluster (`cluster.helm`).
    struct HelmInputs: Sendable {
        /// Discovered `.Capabilities` (declared `apiVersions` are added); nil: declared ones.
        var discovered: Capabilities?
        var lookup: LookupMode = .empty
    }

    /// Renders every chart component of `components` (concurrently: charts are independent),
    /// keyed by component name.
    static func renderAll(_ components: [PatternSpec.Component], tree: any SourceTree, displayPrefix: String, limits: YAMLLimits,
                          patternDir: TreePath, patternFile: String, substituter: Substituter,
                          chain: [OverlaySpec], releases: ChartReleases = .install, charts: (any ChartArchiveResolver)? = nil,
                          fetchWarnings: ChartFetchWarnings? = nil,
                          helm: HelmInputs = HelmInputs()) throws(Diagnostics) -> [String: Result<[(Value, String)], Diagnostics>] {
        let withCharts = components.compactMap { c in c.chart.map { (c.name, $0) } }
        if withCharts.isEmpty { return [:] }
        let declared = try capabilities(chain)
        let caps = helm.discovered.map { $0.adding(apiVersions: chain.flatMap(\.cluster.apiVersions)) } ?? declared
        let renderer = ChartComponentRenderer(tree: tree, displayPrefix: displayPrefix, limits: limits, charts: charts,
                                              fetchWarnings: fetchWarnings)
        let results = ParallelMap.map(withCharts, minimum: 2, eachItemAlone: true) { (name, spec) in
            Result { () throws(Diagnostics) in
                try renderer.render(spec, component: name, patternDir: patternDir, patternFile: patternFile,
                                    substituter: substituter, capabilities: caps, releases: releases, lookup: helm.lookup)
            }
        }
        var out: [String: Result<[(Value, String)], Diagnostics>] = [:]
        for (i, (name, _)) in withCharts.enumerated() { out[name] = results[i] }
        return out
    }

    /// `.Capabilities` for a site: the last overlay in the chain that sets `cluster.kubeVersion`
    /// wins; `cluster.apiVersions` add up along the chain; Helm's defaults otherwise.
    static func capabilities(_ chain: [OverlaySpec]) throws(Diagnostics) -> Capabilities {
        var caps = Capabilities()
        if let o = chain.reversed().first(where: { $0.cluster.kubeVersion != nil }), let kv = o.cluster.kubeVersion {
            guard let v = KubeVersion(kv) else {
                throw Diagnostics([.error("cluster.kubeVersion \"\(kv)\" is not a Kubernetes version", at: SourceLocation(file: o.file),
                                          fix: "write it as 1.31 or v1.31.2")])
            }
            caps.kubeVersion = v
        }
        return caps.adding(apiVersions: chain.flatMap(\.cluster.apiVersions))
    }
}
