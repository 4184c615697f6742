import PatternCore
import Helm

/// Kustomize's `helmCharts:` / `helmGlobals:` (the built-in HelmChartInflationGenerator),
/// rendered with pattern's own chart engine instead of a `helm` binary. Charts are local:
/// `<chartHome>/<name>` (or `<chartHome>/<name>-<version>/<name>`, where `kustomize
/// --enable-helm` caches pulled charts); a chart not found there is pulled from `repo` (an
/// https chart repository or `oci://`) through `RemotePolicy.charts`.
struct HelmChartsGenerator {
    struct Spec {
        var name = "", version = "", repo = "", releaseName = "", namespace = "", nameTemplate = ""
        var valuesFile = ""
        var additionalValuesFiles: [String] = []
        var valuesInline: Value = .emptyObject
        var valuesMerge = "override"
        var includeCRDs = false, skipHooks = false, skipTests = false
        var apiVersions: [String] = []
        var kubeVersion = ""
        var mark: Mark = .none
    }

    static let known = ["name", "version", "repo", "releaseName", "namespace", "nameTemplate", "valuesFile", "additionalValuesFiles",
                        "valuesInline", "valuesMerge", "includeCRDs", "skipHooks", "skipTests", "apiVersions", "kubeVersion", "debug"]

    /// Objects of every `helmCharts` entry of `k`, in order, as `helm template` prints them.
    static func generate(_ k: Kustomization, loader: TreeLoader) throws(Diagnostics) -> [KResource] {
        if k.helmCharts.isEmpty { return [] }
        var diags: [Diagnostic] = []
        let chartHome = k.helmGlobals?["chartHome"]?.string ?? "charts"
        var out: [KResource] = []
        for entry in k.helmCharts {
            let loc = SourceLocation(file: k.file, mark: entry.mark)
            guard let spec = decode(entry, file: k.file, diags: &diags) else { continue }
            do throws(Diagnostics) {
                out += try render(spec, chartHome: chartHome, k: k, loader: loader, loc: loc)
            } catch { diags += error.items }
        }
        if !diags.isEmpty { throw Diagnostics(diags) }
        return out
    }

    static func decode(_ v: Value, file: String, diags: inout [Diagnostic]) -> Spec? {
        guard let o = v.object else {
            diags.append(.error("a helmCharts entry must be a map", at: SourceLocation(file: file, mark: v.mark))); return nil
        }
        var s = Spec(mark: v.mark)
        func str(_ k: String) -> String { o[k]?.scalarText ?? "" }
        for (k, x) in o where !known.contains(k) {
            diags.append(.error("unknown helmCharts field '\(k)'", at: SourceLocation(file: file, mark: o.keyMark(k) ?? x.mark),
                                fix: "known fields: \(known.joined(separator: ", "))"))
        }
        s.name = str("name"); s.version = str("version"); s.repo = str("repo"); s.releaseName = str("releaseName")
        s.namespace = str("namespace"); s.nameTemplate = str("nameTemplate"); s.valuesFile = str("valuesFile")
        s.additionalValuesFiles = o["additionalValuesFiles"]?.array?.compactMap(\.string) ?? []
        if let vi = o["valuesInline"], vi.object != nil { s.valuesInline = vi }
        if let m = o["valuesMerge"]?.string { s.valuesMerge = m }
        s.includeCRDs = o["includeCRDs"]?.bool ?? false
        s.skipHooks = o["skipHooks"]?.bool ?? false
        s.skipTests = o["skipTests"]?.bool ?? false
        s.apiVersions = o["apiVersions"]?.array?.compactMap(\.string) ?? []
        s.kubeVersion = str("kubeVersion")
        if s.name.isEmpty {
            diags.append(.error("helmCharts entry needs a 'name'", at: SourceLocation(file: file, mark: v.mark),
                                fix: "set name: to the chart's directory under chartHome (default charts/)"))
            return nil
        }
        if !["override", "merge", "replace"].contains(s.valuesMerge) {
            diags.append(.error("valuesMerge must be override, merge or replace", at: SourceLocation(file: file, mark: o["valuesMerge"]!.mark)))
            return nil
        }
        return s
    }

    static func render(_ s: Spec, chartHome: String, k: Kustomization, loader: TreeLoader, loc: SourceLocation) throws(Diagnostics) -> [KResource] {
        func fail(_ m: String, _ fix: String) -> Diagnostics { Diagnostics([.error(m, at: loc, fix: fix)]) }
        // Chart directory: <chartHome>/<name>-<version>/<name> when cached by version, else <chartHome>/<name>.
        var candidates: [String] = []
        if !s.version.isEmpty { candidates.append("\(chartHome)/\(s.name)-\(s.version)/\(s.name)") }
        candidates.append("\(chartHome)/\(s.name)")
        var chartDir: TreePath? = nil
        for c in candidates {
            if let p = try? loader.resolve(c, from: k.dir, at: loc, what: "chart"), loader.kind(p) == .directory { chartDir = p; break }
        }
        let chart: Chart
        let chartDisplay: String
        if let chartDir {
            do { chart = try ChartLoader(yamlLimits: loader.limits.yaml).load(tree: loader.tree, path: chartDir, display: chartDir.string) } catch {
                throw Diagnostics(error.diagnostics)
            }
            chartDisplay = chartDir.string
        } else if !s.repo.isEmpty {
            // Not vendored: pulled from the repository through the source cache (as
            // `kustomize --enable-helm` runs `helm pull`), pinned by its version.
            (chart, chartDisplay) = try fetchRemote(s, loader: loader, loc: loc, looked: candidates)
        } else {
            throw fail("chart '\(s.name)' not found in \(chartHome)/ (looked for \(candidates.joined(separator: ", ")))",
                       "vendor the chart into \(chartHome)/\(s.name), or name its repository with repo: (https:// or oci://) and an exact version:")
        }
        // Values: the values file (default: the chart's own values.yaml) combined with valuesInline
        // per valuesMerge, then additionalValuesFiles.
        func readValues(_ rel: String) throws(Diagnostics) -> Value {
            do throws(Diagnostic) {
                let p = try loader.resolve(rel, from: k.dir, at: loc, what: "values file")
                return try HelmYAML.parse(try loader.read(p, at: loc, what: "values file"), file: p.string, limits: loader.limits.yaml)
            } catch { throw Diagnostics([error]) }
        }
        var base = s.valuesFile.isEmpty ? chart.values : try readValues(s.valuesFile)
        switch s.valuesMerge {
        case "replace": base = s.valuesInline.object?.isEmpty == false ? s.valuesInline : base
        case "merge": base = HelmValues.coalesceTables(base, s.valuesInline, merge: true)
        default: base = HelmValues.mergeLayers(base, s.valuesInline)
        }
        var layers = [ValueLayer(file: k.file, value: base)]
        for f in s.additionalValuesFiles { layers.append(ValueLayer(file: f, value: try readValues(f))) }

        var caps = Capabilities().adding(apiVersions: s.apiVersions)
        if !s.kubeVersion.isEmpty {
            guard let kv = KubeVersion(s.kubeVersion) else { throw fail("invalid kubeVersion \"\(s.kubeVersion)\"", "write it as 1.31 or v1.31.2") }
            caps.kubeVersion = kv
        }
        let request = ChartRenderRequest(chart: chart, values: layers,
                                         release: ReleaseOptions(name: s.releaseName.isEmpty ? "release-name" : s.releaseName,
                                                                 namespace: s.namespace.isEmpty ? "default" : s.namespace),
                                         capabilities: caps, includeCRDs: s.includeCRDs, skipTests: s.skipTests,
                                         setNamespace: false, yamlLimits: loader.limits.yaml)
        let r: ChartRender
        do { r = try ChartRenderer().render(request) } catch { throw Diagnostics(error.diagnostics) }
        // `<chart>/templates/x.yaml` as the objects' files show it: under the chart's directory.
        func shown(_ source: String) -> String {
            chartDisplay + "/" + (source.split(separator: "/", maxSplits: 1).last.map(String.init) ?? source)
        }
        if let sink = loader.remote.chartWarnings, !r.warnings.isEmpty {
            sink.add(r.locatedWarnings(chart: chart, context: "helmCharts ", shown: shown))
        }
        let objects = r.crds + r.manifests + (s.skipHooks ? [] : r.hooks)
        return objects.map { KResource(value: $0.object, file: shown($0.source)) }
    }
}
