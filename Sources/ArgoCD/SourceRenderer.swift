import PatternCore
import Helm
import Kustomize

/// What Argo CD would generate for one source, as Argo CD's repo server does it
/// (`reposerver/repository/repository.go`): the source type from the explicit field, else
/// discovered (`Chart.yaml` → Helm, a kustomization file → Kustomize, else a directory).
struct SourceRenderer {
    let context: ExpansionContext
    /// Where Helm sources' chart warnings go (the expansion reports them with its own).
    var warnings: ChartWarningSink? = nil

    enum SourceType { case helm, kustomize, directory }

    /// A source's files: the repository tree and the source directory in it.
    struct Checkout {
        var tree: any SourceTree
        var root: TreePath
        var appPath: TreePath
        var display: String
        func shown(_ p: TreePath) -> String { display + p.string }
    }

    func type(of source: ApplicationSource, in c: Checkout) -> SourceType {
        if source.helm != nil || source.chart != nil { return .helm }
        if source.kustomize != nil { return .kustomize }
        if source.directory != nil { return .directory }
        if c.tree.resolvedKind(c.appPath.appending("Chart.yaml")) == .file { return .helm }
        if KustomizeBuilder.kustomizationFileNames.contains(where: { c.tree.resolvedKind(c.appPath.appending($0)) == .file }) { return .kustomize }
        return .directory
    }

    /// Every rendered source of `app`, in order (all problems reported).
    func renderAll(_ sources: [(source: ApplicationSource, checkout: Checkout)], refs: [String: Checkout],
                   app: Application) throws(Diagnostics) -> [(Value, String)] {
        var out: [(Value, String)] = []
        var problems: [Diagnostic] = []
        for (s, c) in sources {
            do { out += try render(s, app: app, checkout: c, refs: refs, at: SourceLocation(file: app.file, mark: s.mark)) } catch {
                problems += error.items
            }
        }
        if !problems.isEmpty { throw Diagnostics(problems) }
        return out
    }

    func render(_ source: ApplicationSource, app: Application, checkout c: Checkout, refs: [String: Checkout],
                at location: SourceLocation) throws(Diagnostics) -> [(Value, String)] {
        switch type(of: source, in: c) {
        case .helm: return try renderHelm(source, app: app, checkout: c, refs: refs, at: location)
        case .kustomize: return try renderKustomize(source.kustomize ?? KustomizeSource(), checkout: c, at: location)
        case .directory: return try renderDirectory(source.directory ?? DirectorySource(), checkout: c, at: location)
        }
    }

    // MARK: Helm

    /// A value file path as Argo CD resolves it: `$ref/…` in the named ref source; an absolute
    /// path from the repository root; else relative to the source directory; never outside
    /// the repository.
    func resolveValueFile(_ path: String, checkout c: Checkout, refs: [String: Checkout]) throws(Diagnostic) -> (Checkout, TreePath) {
        if path.hasPrefix("$") {
            let name = String(path.dropFirst().prefix { $0 != "/" })
            guard let ref = refs[name] else {
                throw .error("value file '\(path)' names ref '\(name)', but no source has 'ref: \(name)'",
                             fix: "add a source with ref: \(name) to spec.sources (refs: \(refs.keys.sorted().joined(separator: ", ")))")
            }
            let rest = String(path.dropFirst(name.count + 1).drop { $0 == "/" })
            do { return (ref, try ref.root.resolving(rest)) } catch { throw .error("value file '\(path)': \(error)", fix: "keep value files inside the repository") }
        }
        if path.hasPrefix("http://") || path.hasPrefix("https://") {
            throw .error("value file '\(path)' is a URL: pattern renders offline from the repositories it has",
                         fix: "commit the file to the repository, or put it in a source with ref: and use $ref/…")
        }
        do {
            if path.hasPrefix("/") { return (c, try c.root.resolving(String(path.drop { $0 == "/" }))) }
            return (c, try c.appPath.resolving(path))
        } catch {
            throw .error("value file '\(path)': \(error)", fix: "keep value files inside the repository")
        }
    }

    func renderHelm(_ source: ApplicationSource, app: Application, checkout c: Checkout, refs: [String: Checkout],
                    at location: SourceLocation) throws(Diagnostics) -> [(Value, String)] {
        let helm = source.helm ?? HelmSource()
        let chart: Chart
        do {
            chart = try ChartLoader(yamlLimits: context.limits).load(tree: c.tree, path: c.appPath, display: c.shown(c.appPath))
        } catch { throw Diagnostics(error.diagnostics) }
        var problems: [Diagnostic] = []
        var layers: [ValueLayer] = []
        for vf in helm.valueFiles {
            let loc = SourceLocation(file: app.file, mark: vf.mark)
            do {
                let (repo, p) = try resolveValueFile(vf.path, checkout: c, refs: refs)
                guard repo.tree.resolvedKind(p) == .file else {
                    if helm.ignoreMissingValueFiles { continue }
                    problems.append(.error("value file \(repo.shown(p)) does not exist", at: loc,
                                           fix: "create it, fix the path (relative to the source path \(c.appPath)), or set ignoreMissingValueFiles: true"))
                    continue
                }
                layers.append(ValueLayer(file: repo.shown(p), value: try HelmYAML.parse(try repo.tree.readResolved(p), file: repo.shown(p), limits: context.limits)))
            } catch let d as Diagnostic {
                problems.append(d.location == nil ? Diagnostic(d.severity, at: loc, d.message, fix: d.fix) : d)
            } catch {
                problems.append(.error("cannot read value file '\(vf.path)': \(error)", at: loc))
            }
        }
        if let v = helm.values { layers.append(ValueLayer(file: app.file, value: v)) }
        // --set, then --set-string, then --set-file, as Argo CD passes them to helm template.
        var set = Value.emptyObject
        for p in helm.parameters.sorted(by: { !$0.forceString && $1.forceString }) {
            do { try HelmParameter.set(into: &set, name: p.name, value: p.value, forceString: p.forceString) } catch {
                problems.append(.error("helm parameter '\(p.name)': \(error)", at: location))
            }
        }
        for fp in helm.fileParameters {
            let loc = SourceLocation(file: app.file, mark: fp.mark)
            do {
                let (repo, p) = try resolveValueFile(fp.path, checkout: c, refs: refs)
                let text = String(decoding: try repo.tree.readResolved(p), as: UTF8.self)
                var escaped = ""
                for ch in text { if ch == "," || ch == "\\" { escaped.append("\\") }; escaped.append(ch) }
                try StrVals.parse(into: &set, fp.name + "=" + escaped, mode: .string)
            } catch let d as Diagnostic {
                problems.append(d.location == nil ? Diagnostic(d.severity, at: loc, d.message, fix: d.fix) : d)
            } catch {
                problems.append(.error("helm fileParameter '\(fp.name)': \(error)", at: loc, fix: "the path is relative to the source path, or $ref/…"))
            }
        }
        if set.object?.isEmpty == false { layers.append(ValueLayer(file: app.file + " (helm.parameters)", value: set)) }
        if !problems.isEmpty { throw Diagnostics(problems) }

        var caps = context.capabilities
        if let kv = helm.kubeVersion {
            guard let v = KubeVersion(kv) else {
                throw Diagnostics([.error("helm.kubeVersion \"\(kv)\" is not a Kubernetes version", at: location, fix: "write it as 1.31 or v1.31.2")])
            }
            caps.kubeVersion = v
        }
        if !helm.apiVersions.isEmpty { caps.apiVersions = helm.apiVersions }
        let release = ReleaseOptions(name: helm.releaseName ?? app.name, namespace: helm.namespace ?? app.destination.namespace ?? "default")
        let request = ChartRenderRequest(chart: chart, values: layers, release: release, capabilities: caps,
                                         includeCRDs: !helm.skipCrds, skipTests: true, setNamespace: false, yamlLimits: context.limits)
        let result: ChartRender
        do { result = try ChartRenderer().render(request) } catch { throw Diagnostics(error.diagnostics) }
        let chartDir = c.shown(c.appPath)
        func shown(_ s: String) -> String {
            let rest = s.split(separator: "/", maxSplits: 1).dropFirst().first.map(String.init) ?? s
            return chartDir + "/" + rest
        }
        warnings?.add(result.locatedWarnings(chart: chart, context: "Application \(app.name): ", shown: shown))
        // Hooks stay in the output with their helm.sh/hook annotations: the sync ordering maps
        // them onto Argo CD's phases (pre-install → PreSync, post-install → PostSync).
        var out = result.crds.map { ($0.object, shown($0.source)) } + result.manifests.map { ($0.object, shown($0.source)) }
        for h in result.hooks where SyncOrdering.helmPhase(h.object) != nil { out.append((h.object, shown(h.source))) }
        return out
    }

    // MARK: Kustomize

    func renderKustomize(_ k: KustomizeSource, checkout c: Checkout, at location: SourceLocation) throws(Diagnostics) -> [(Value, String)] {
        var tree: any SourceTree = c.tree
        if let edited = try KustomizeEdits.apply(k, checkout: c, limits: context.limits, at: location) {
            tree = OverlayTree(base: c.tree, path: edited.path, bytes: edited.bytes)
        }
        // helmCharts: warnings are located in the checkout; passed on under its display name.
        var remote = RemotePolicy.none
        let local = ChartWarningSink()
        if warnings != nil { remote.chartWarnings = local }
        defer { warnings?.add(local.all.map { $0.prefixingFiles(c.display) }) }
        do {
            return try KustomizeBuilder(tree: tree, limits: KustomizeLimits(yaml: context.limits), remote: remote).buildWithOrigins(c.appPath)
                .map { ($0.object, c.display + $0.file) }
        } catch {
            throw Diagnostics(error.items.map { $0.prefixingFiles(c.display) })
        }
    }

    // MARK: Directory

    static let manifestExtensions = [".yaml", ".yml", ".json"]
    static let skipMarker = "+argocd:skip-file-rendering"
    static let maxFiles = 20_000

    /// Argo CD's `findManifests`: files named `*.yaml|*.yml|*.json` (`*.jsonnet` is refused)
    /// in the directory (and below it with `recurse`), `exclude` then `include` globs matched
    /// against the path relative to the directory, files with `+argocd:skip-file-rendering`
    /// skipped; symlinks may not leave the repository.
    func renderDirectory(_ d: DirectorySource, checkout c: Checkout, at location: SourceLocation) throws(Diagnostics) -> [(Value, String)] {
        let include = d.include.flatMap { $0.isEmpty ? nil : Glob($0) }
        let exclude = d.exclude.flatMap { $0.isEmpty ? nil : Glob($0) }
        var files: [(rel: String, path: TreePath)] = []
        var visited = 0
        func walk(_ dir: TreePath, rel: String, ancestors: [TreePath]) throws {
            visited += 1
            if visited > 10_000 { throw SourceTreeError(path: c.shown(dir), message: "more than 10000 directories below the source path") }
            for e in try c.tree.list(dir) where e.name != ".git" {
                let p = dir.appending(e.name)
                let r = rel.isEmpty ? e.name : rel + "/" + e.name
                var kind = e.kind
                var target = p
                if kind == .symlink {
                    target = try c.tree.resolve(p)
                    guard let k = c.tree.entryKind(target) else { continue }
                    kind = k
                    if k == .directory, ancestors.contains(where: { $0.hasPrefix(target) }) { throw TreePathError.symlinkLoop(c.shown(p)) }
                }
                if kind == .directory {
                    if d.recurse { try walk(target, rel: r, ancestors: ancestors + [target]) }
                } else if kind == .file {
                    files.append((r, target))
                    if files.count > Self.maxFiles { throw SourceTreeError(path: c.shown(c.appPath), message: "more than \(Self.maxFiles) files") }
                }
            }
        }
        do {
            let start = try c.tree.resolve(c.appPath)
            guard c.tree.entryKind(start) == .directory else {
                throw Diagnostics([.error("source path \(c.shown(c.appPath)) is not a directory in the repository", at: location,
                                          fix: "fix spec.source.path (relative to the repository root)")])
            }
            try walk(start, rel: "", ancestors: [start])
        } catch let d as Diagnostics { throw d } catch {
            throw Diagnostics([.error("cannot read \(c.shown(c.appPath)): \(error)", at: location, fix: "symbolic links must stay inside the repository")])
        }
        var selected: [(path: TreePath, shown: String)] = []
        var problems: [Diagnostic] = []
        for (rel, p) in files {
            let name = p.name
            let isJsonnet = name.hasSuffix(".jsonnet")
            guard isJsonnet || Self.manifestExtensions.contains(where: { name.hasSuffix($0) }) else { continue }
            if let exclude, exclude.matches(rel) { continue }
            if let include, !include.matches(rel) { continue }
            if isJsonnet {
                problems.append(.error("\(c.shown(p)) is Jsonnet, which pattern does not evaluate", at: SourceLocation(file: c.shown(p)),
                                       fix: "render it to YAML in the repository, or exclude it: directory: {exclude: '*.jsonnet'}"))
                continue
            }
            selected.append((p, c.shown(p)))
        }
        let read = ManifestFile.readAll(c.tree, selected, limits: context.limits, skip: { Self.contains($0, Self.skipMarker) })
        problems += read.problems
        if !problems.isEmpty { throw Diagnostics(problems) }
        // A YAML file that is not a manifest (no apiVersion, no kind) is skipped, as Argo CD does.
        return read.objects.filter { $0.0.apiVersion != nil || $0.0.kindName != nil }
    }

    static func contains(_ bytes: [UInt8], _ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard bytes.count >= n.count, let first = n.first else { return false }
        var i = 0
        while i <= bytes.count - n.count {
            if bytes[i] == first && bytes[i..<(i + n.count)].elementsEqual(n) { return true }
            i += 1
        }
        return false
    }
}

/// A tree that is `base` with one file's contents replaced (the kustomization Argo CD edits
/// before building, without touching the checkout).
struct OverlayTree: SourceTree {
    let base: any SourceTree
    let path: TreePath
    let bytes: [UInt8]
    var displayName: String { base.displayName }
    func entryKind(_ p: TreePath) -> TreeEntryKind? { p == path ? .file : base.entryKind(p) }
    func list(_ dir: TreePath) throws -> [TreeEntry] { try base.list(dir) }
    func read(_ p: TreePath) throws -> [UInt8] { p == path ? bytes : try base.read(p) }
    func readLink(_ p: TreePath) throws -> String { try base.readLink(p) }
    func resolve(_ p: TreePath) throws -> TreePath { p == path ? p : try base.resolve(p) }
    func fileSize(_ p: TreePath) -> Int? { p == path ? bytes.count : base.fileSize(p) }
}

/// The `kustomize edit` commands Argo CD runs for `source.kustomize` (`util/kustomize`):
/// `set nameprefix/namesuffix/namespace` replace, `set image` and `set replicas` replace the
/// entry of the same name, `add label/annotation --force` merge, `patches` and `components`
/// are appended.
enum KustomizeEdits {
    static func apply(_ k: KustomizeSource, checkout c: SourceRenderer.Checkout, limits: YAMLLimits,
                      at location: SourceLocation) throws(Diagnostics) -> (path: TreePath, bytes: [UInt8])? {
        let empty = k.namePrefix == nil && k.nameSuffix == nil && k.images.isEmpty && k.commonLabels.isEmpty && k.commonAnnotations.isEmpty
            && k.namespace == nil && k.patches.isEmpty && k.replicas.isEmpty && k.components.isEmpty
        if empty { return nil }
        guard let name = KustomizeBuilder.kustomizationFileNames.first(where: { c.tree.resolvedKind(c.appPath.appending($0)) == .file }) else {
            throw Diagnostics([.error("source.kustomize is set but \(c.shown(c.appPath)) has no kustomization.yaml", at: location,
                                      fix: "point the source at a Kustomize directory, or remove source.kustomize")])
        }
        let file = c.appPath.appending(name)
        var doc: Value
        do {
            let bytes = try c.tree.readResolved(file)
            doc = try bytes.withUnsafeBufferPointer { b throws(Diagnostic) in
                try YAMLParser.parseStream(bytes: b, file: c.shown(file), limits: limits)
            }.first?.value ?? .emptyObject
        } catch let d as Diagnostic { throw Diagnostics([d]) } catch {
            throw Diagnostics([.error("cannot read \(c.shown(file)): \(error)", at: location)])
        }
        if doc.isNull { doc = .emptyObject }
        if let p = k.namePrefix { doc["namePrefix"] = .string(p) }
        if let s = k.nameSuffix { doc["nameSuffix"] = .string(s) }
        if let n = k.namespace { doc["namespace"] = .string(n) }
        for img in k.images { upsert(&doc, "images", image(img)) }
        for (name, count) in k.replicas { upsert(&doc, "replicas", ["name": .string(name), "count": count]) }
        for (key, field) in [(k.commonLabels, "commonLabels"), (k.commonAnnotations, "commonAnnotations")] where !key.isEmpty {
            var m = doc[field]?.object ?? Object()
            for (kk, v) in key { m[kk] = v }
            doc[field] = .object(m)
        }
        if !k.patches.isEmpty { doc["patches"] = .array((doc["patches"]?.array ?? []) + k.patches) }
        if !k.components.isEmpty { doc["components"] = .array((doc["components"]?.array ?? []) + k.components.map(Value.string)) }
        return (file, Array(YAMLEmitter().emit(doc).utf8))
    }

    /// `kustomize edit set image` syntax: `name`, `name=newName`, then `:tag` or `@digest`.
    static func image(_ text: String) -> Value {
        var out = Object()
        var rest = Substring(text)
        var name = rest
        if let eq = rest.firstIndex(of: "=") {
            name = rest[..<eq]
            rest = rest[rest.index(after: eq)...]
        }
        func split(_ s: Substring) -> (Substring, tag: Substring?, digest: Substring?) {
            if let at = s.firstIndex(of: "@") { return (s[..<at], nil, s[s.index(after: at)...]) }
            if let colon = s.lastIndex(of: ":"), !s[colon...].contains("/") { return (s[..<colon], s[s.index(after: colon)...], nil) }
            return (s, nil, nil)
        }
        if text.contains("=") {
            let (n, tag, digest) = split(rest)
            out["name"] = .string(String(name))
            if !n.isEmpty { out["newName"] = .string(String(n)) }
            if let tag { out["newTag"] = .string(String(tag)) }
            if let digest { out["digest"] = .string(String(digest)) }
        } else {
            let (n, tag, digest) = split(name)
            out["name"] = .string(String(n))
            if let tag { out["newTag"] = .string(String(tag)) }
            if let digest { out["digest"] = .string(String(digest)) }
        }
        return .object(out)
    }

    static func upsert(_ doc: inout Value, _ field: String, _ entry: Value) {
        var list = doc[field]?.array ?? []
        if let i = list.firstIndex(where: { $0["name"] == entry["name"] }) { list[i] = entry } else { list.append(entry) }
        doc[field] = .array(list)
    }
}

/// An Argo CD Application's Helm parameter (`spec.source.helm.parameters[]`) as Argo CD passes it
/// to Helm: `--set name=value` (typed as Helm types it: `"false"` is a boolean, `"3"` an
/// integer), or `--set-string` with `forceString`; commas in the value are escaped unless it is
/// a `{a,b}` list.
public enum HelmParameter {
    public static func set(into values: inout Value, name: String, value: String, forceString: Bool = false) throws(StrVals.ParseError) {
        try StrVals.parse(into: &values, name + "=" + clean(value), mode: forceString ? .string : .typed)
    }

    /// Argo CD escapes commas in `--set` values unless the value is a `{a,b}` list.
    static func clean(_ v: String) -> String {
        if v.hasPrefix("{") && v.hasSuffix("}") { return v }
        var out = ""
        var prev: Character? = nil
        for ch in v {
            if ch == "," && prev != "\\" { out += "\\," } else { out.append(ch) }
            prev = ch
        }
        return out
    }
}
