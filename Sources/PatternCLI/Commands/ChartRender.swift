import ArgumentParser
import PatternCore
import Helm

/// Options of `pattern render <chart-dir>` (ignored for sites and Kustomize directories).
public struct ChartOptions: ParsableArguments {
    @Option(name: [.customShort("f"), .customLong("values")], help: "Chart only: a values file (repeatable; later files win).")
    public var values: [String] = []

    @Option(help: ArgumentHelp("Chart only: set values (repeatable), as helm: a.b=c,d=e  list={x,y}  a[0].b=1  escape with \\.",
                               valueName: "key=value"))
    public var set: [String] = []

    @Option(name: .customLong("set-string"), help: ArgumentHelp("Chart only: like --set, every value a string.", valueName: "key=value"))
    public var setString: [String] = []

    @Option(name: .customLong("set-json"), help: ArgumentHelp("Chart only: like --set, values are JSON.", valueName: "key=json"))
    public var setJSON: [String] = []

    @Option(name: .customLong("set-file"), help: ArgumentHelp("Chart only: like --set-string, each value a file whose contents become the value (e.g. --set-file config=app.conf).", valueName: "key=path"))
    public var setFile: [String] = []

    @Option(name: .customLong("release-name"), help: "Chart only: .Release.Name (default: release-name, as helm template).")
    public var releaseName: String = "release-name"

    @Option(name: [.customShort("n"), .customLong("namespace")], help: "Chart only: .Release.Namespace; also set on namespaced objects without one.")
    public var namespace: String = "default"

    @Option(name: .customLong("kube-version"), help: "Chart only: .Capabilities.KubeVersion (default \(Capabilities.defaultKubeVersion.version)).")
    public var kubeVersion: String?

    @Option(name: [.customShort("a"), .customLong("api-versions")], help: "Chart only: extra .Capabilities.APIVersions (repeatable or comma-separated).")
    public var apiVersions: [String] = []

    @Flag(name: .customLong("include-crds"), help: "Chart only: print the charts' crds/ objects first (as helm template --include-crds).")
    public var includeCRDs = false

    @Flag(name: .customLong("skip-tests"), help: "Chart only: leave out test hooks.")
    public var skipTests = false

    @Flag(name: .customLong("no-hooks"), help: "Chart only: leave out every hook.")
    public var noHooks = false

    @Flag(name: .customLong("is-upgrade"), help: "Render charts as an upgrade (.Release.IsUpgrade true, IsInstall false, pre-/post-upgrade hooks); for a site, every chart component (apply decides from the site's ledger instead).")
    public var isUpgrade = false

    @Flag(name: .customLong("allow-nondeterministic"), help: "Chart only: allow now, randAlphaNum, uuidv4, … (the output then differs between runs).")
    public var allowNondeterministic = false

    @Option(name: .customLong("lookup-replay"), help: "Chart only: answer `lookup` from a recording (see Docs/helm.md) instead of returning empty maps.")
    public var lookupReplay: String?

    public init() {}
}

enum ChartRenderCommand {
    /// Renders the chart at `dir` as `helm template` would and prints it.
    static func run(_ dir: String, _ o: ChartOptions, format: RenderCommand.OutputFormat) throws {
        var problems: [Diagnostic] = []
        var d = dir
        while d.count > 1 && d.hasSuffix("/") { d.removeLast() }
        let parent = d.contains("/") ? String(d[..<d.lastIndex(of: "/")!]) : "."
        let base = d.contains("/") ? String(d[d.index(after: d.lastIndex(of: "/")!)...]) : d
        let tree = LocalTree(root: parent.isEmpty ? "/" : parent)
        let chart: Chart
        do {
            chart = try ChartLoader().load(tree: tree, path: try TreePath(base), display: d)
        } catch let e as ChartError {
            Output.report(e.diagnostics); throw ReportedFailure()
        }

        var layers: [ValueLayer] = []
        for f in o.values {
            let fileTree = LocalTree(root: f.hasPrefix("/") ? "/" : ".")
            do {
                let p = try TreePath(f.hasPrefix("/") ? String(f.dropFirst()) : f)
                layers.append(ValueLayer(file: f, value: try HelmYAML.parse(try fileTree.readResolved(p), file: f)))
            } catch let d as Diagnostic {
                problems.append(d)
            } catch {
                problems.append(.error("cannot read values file: \(error)", at: SourceLocation(file: f), fix: "check the -f path"))
            }
        }
        var setValues: Value = .emptyObject
        for (flag, list, mode) in [("--set-json", o.setJSON, StrVals.Mode.json), ("--set", o.set, .typed), ("--set-string", o.setString, .string)] {
            for s in list {
                do { try StrVals.parse(into: &setValues, s, mode: mode) } catch {
                    problems.append(.error("failed parsing \(flag) data: \(error.message)", at: SourceLocation(file: flag),
                                           fix: "write key=value pairs: a.b=c,list={x,y},a[0].b=1; escape , . = with \\"))
                }
            }
        }
        for s in o.setFile {
            do {
                try StrVals.parseFiles(into: &setValues, s) { (path: String) throws(StrVals.ParseError) -> String in
                    do {
                        let p = try TreePath(path.hasPrefix("/") ? String(path.dropFirst()) : path)
                        return String(decoding: try LocalTree(root: path.hasPrefix("/") ? "/" : ".").readResolved(p), as: UTF8.self)
                    } catch { throw StrVals.ParseError(message: "open \(path): \(error)") }
                }
            } catch {
                problems.append(.error("failed parsing --set-file data: \(error.message)", at: SourceLocation(file: "--set-file"),
                                       fix: "write key=path pairs; each path a readable file"))
            }
        }
        if setValues.object?.isEmpty == false { layers.append(ValueLayer(file: "--set", value: HelmValues.markSetIntegers(setValues))) }

        var caps = Capabilities()
        if let kv = o.kubeVersion {
            guard let v = KubeVersion(kv) else {
                Output.report([.error("invalid --kube-version \"\(kv)\"", fix: "write it as 1.31 or v1.31.2")]); throw ReportedFailure()
            }
            caps.kubeVersion = v
        }
        caps = caps.adding(apiVersions: o.apiVersions.flatMap { $0.split(separator: ",").map(String.init) })

        var lookup = LookupMode.empty
        if let path = o.lookupReplay {
            do {
                let bytes = try LocalTree(root: path.hasPrefix("/") ? "/" : ".").readResolved(try TreePath(path.hasPrefix("/") ? String(path.dropFirst()) : path))
                lookup = .replay(try LookupRecording(decoding: try JSONParser.parse(bytes, file: path), file: path))
            } catch let d as Diagnostic { problems.append(d) } catch {
                problems.append(.error("cannot read lookup recording: \(error)", at: SourceLocation(file: path)))
            }
        }
        if !problems.isEmpty { Output.report(problems); throw ReportedFailure() }

        let request = ChartRenderRequest(chart: chart, values: layers,
                                         release: ReleaseOptions(name: o.releaseName, namespace: o.namespace, isUpgrade: o.isUpgrade),
                                         capabilities: caps, lookup: lookup, includeCRDs: o.includeCRDs, skipTests: o.skipTests,
                                         setNamespace: true)
        let result: ChartRender
        do { result = try ChartRenderer(engine: HelmTemplateEngine(allowNondeterministic: o.allowNondeterministic)).render(request) } catch {
            Output.report(error.diagnostics); throw ReportedFailure()
        }
        if !result.warnings.isEmpty { Output.report(result.warnings) }
        switch format {
        case .yaml: Output.out(result.yaml(includeHooks: !o.noHooks))
        case .json:
            let objects = (result.crds + result.manifests + (o.noHooks ? [] : result.hooks)).map(\.object)
            Output.out(Renderer.format(objects, as: .json))
        }
    }

    /// Whether `dir` holds a chart (Chart.yaml) or is a chart archive.
    static func isChart(_ path: String) -> Bool {
        FileSystem.exists(path + "/Chart.yaml") || ((path.hasSuffix(".tgz") || path.hasSuffix(".tar.gz")) && FileSystem.exists(path) && !FileSystem.isDirectory(path))
    }
}
