import PatternCore

/// Bounds for a Kustomize build.
public struct KustomizeLimits: Sendable {
    /// Limits for every YAML file read (size, depth, aliases).
    public var yaml: YAMLLimits
    /// Deepest chain of kustomizations including each other.
    public var maxDepth: Int
    /// Most objects a build may produce.
    public var maxObjects: Int
    /// Which files a kustomization may read (`kubectl kustomize --load-restrictor`).
    public var loadRestrictor: LoadRestrictor = .rootOnly

    public init(yaml: YAMLLimits = .default, maxDepth: Int = 64, maxObjects: Int = 200_000) {
        self.yaml = yaml; self.maxDepth = maxDepth; self.maxObjects = maxObjects
    }

    public static let `default` = KustomizeLimits()
}

/// Builds a `kustomization.yaml` directory the way `kubectl kustomize` (Kustomize v5) does,
/// in Swift, reading only through a `SourceTree`.
///
/// Per kustomization, in Kustomize's order: `resources` (files, directories with their own
/// kustomization, `bases`), generators, `components`, then the transformers
/// `patchesStrategicMerge`, `patches`, `namespace`, `namePrefix`/`nameSuffix`, `labels` and
/// `commonLabels`, `commonAnnotations`, `patchesJson6902`, `replicas`, `images`, `replacements`. After the
/// top-level kustomization: content-hash suffixes for generated objects, name-reference
/// fix-ups, and the legacy kind order.
///
/// Errors are `Diagnostic`s (file:line:column and a fix), collected where practical and
/// thrown together as `Diagnostics`. Nothing is half-built: a build either returns every
/// object or throws.
public struct KustomizeBuilder: Sendable {
    public let tree: any SourceTree
    public let limits: KustomizeLimits
    /// How remote `resources:`/`components:` entries are fetched (default: they are errors).
    public var remote: RemotePolicy = .none

    /// File names Kustomize recognises, in its order of preference.
    public static let kustomizationFileNames = ["kustomization.yaml", "kustomization.yml", "Kustomization"]

    public init(tree: any SourceTree, limits: KustomizeLimits = .default) {
        self.tree = tree
        self.limits = limits
    }

    /// A builder that fetches remote bases (`github.com/org/repo//dir?ref=v1.2.3`, …) through
    /// `remote.loader`, refusing unpinned ones unless `remote.allowUnpinned`.
    public init(tree: any SourceTree, limits: KustomizeLimits = .default, remote: RemotePolicy) {
        self.tree = tree
        self.limits = limits
        self.remote = remote
    }

    /// Builds the kustomization in `dir` and returns its objects in Kustomize's output order.
    ///
    /// The final steps run once, after the top-level kustomization (Kustomize's
    /// `makeCustomizedResMap`): hash suffixes, name references, legacy order — see
    /// `buildWithOrigins(_:)`, which also returns each object's source file.
    public func build(_ dir: TreePath) throws(Diagnostics) -> [Value] {
        let (items, order) = try buildResources(dir)
        return order.map { items[$0].value }
    }

    /// Finds the kustomization file in `dir`.
    func kustomizationFile(in dir: TreePath, at loc: SourceLocation?, tree: any SourceTree) throws(Diagnostic) -> TreePath {
        let found = Self.kustomizationFileNames.map { dir.appending($0) }.filter { tree.resolvedKind($0) == .file }
        if found.isEmpty {
            throw .error("no kustomization file (kustomization.yaml, kustomization.yml or Kustomization) in '\(dir)'", at: loc,
                         fix: "add a kustomization.yaml to the directory, or list the directory's files instead")
        }
        if found.count > 1 {
            throw .error("found several kustomization files in '\(dir)': \(found.map(\.name).joined(separator: ", "))", at: loc,
                         fix: "keep only one of them")
        }
        return try tree.resolveForBuild(found[0], at: loc)
    }

    /// Accumulates the kustomization in `dir` into `m`; returns it (the caller of the top-level
    /// build reads its `sortOptions`).
    @discardableResult
    func accumulate(_ dir: TreePath, into m: inout ResMap, stack: [String], component: Bool,
                    loader: TreeLoader, from loc: SourceLocation?) throws(Diagnostics) -> Kustomization {
        func fail(_ d: Diagnostic) -> Diagnostics { Diagnostics([d]) }
        let key = loader.stackKey(dir)
        if stack.contains(key) {
            throw fail(.error("kustomization '\(dir)' includes itself (cycle: \((stack + [key]).joined(separator: " -> ")))",
                              at: loc, fix: "remove the resource or component entry that closes the cycle"))
        }
        if stack.count >= limits.maxDepth {
            throw fail(.error("kustomizations nested deeper than \(limits.maxDepth) levels", at: loc, fix: "flatten the overlay chain"))
        }
        let kfile: TreePath
        do throws(Diagnostic) { kfile = try kustomizationFile(in: dir, at: loc, tree: loader.tree) } catch { throw fail(error) }
        let doc: Value
        do throws(Diagnostic) {
            let docs = try loader.parseStream(kfile, at: loc ?? SourceLocation(file: kfile.string), what: "kustomization", duplicateKeys: .lastWins)
            if docs.count > 1 {
                throw Diagnostic.error("kustomization file has \(docs.count) YAML documents", at: SourceLocation(file: kfile.string, mark: docs[1].mark),
                                       fix: "keep a single document")
            }
            doc = docs.first?.value ?? .null
        } catch { throw fail(error) }
        let k = try Kustomization(parsing: doc, file: kfile.string, dir: dir)
        if component && !k.isComponent {
            throw fail(.error("'\(dir)' is listed under `components` but is not `kind: Component`", at: loc,
                              fix: "set `kind: Component` (apiVersion kustomize.config.k8s.io/v1alpha1) or list it under `resources`"))
        }
        // A Component may be built on its own (as Kustomize allows), not listed as a resource.
        if !component && k.isComponent && loc != nil {
            throw fail(.error("'\(dir)' is a Component and can only be listed under `components`", at: loc,
                              fix: "move the entry to `components:`"))
        }
        if stack.isEmpty, k.buildMetadata.contains(where: { $0.value == "transformerAnnotations" }) {
            m.transformationsRoot = dir
        }
        let stack = stack + [key]
        var diags: [Diagnostic] = []
        do throws(Diagnostic) { try chooseOpenAPI(k, into: &m, loader: loader) } catch { throw fail(error) }

        // resources (and legacy bases); resource files are parsed in parallel up front.
        var seen = m.keyIndex()
        let prefetched = ParallelParse.resourceFiles(k.resources, dir: dir, kustomizationFile: k.file, loader: loader)
        let prefetchedCount = prefetched.reduce(0) { n, r in
            if case .success(let f)? = r { return n + f.keys.count }
            return n
        }
        seen.reserveCapacity(m.count + prefetchedCount)
        m.items.reserveCapacity(m.count + prefetchedCount)
        for (entryIndex, entry) in k.resources.enumerated() {
            let eloc = SourceLocation(file: k.file, mark: entry.mark)
            if let parsed = prefetched[entryIndex] {
                do throws(Diagnostic) {
                    let file = try parsed.get()
                    for (r, key) in zip(file.resources, file.keys) { try m.append(r, key: key, seen: &seen) }
                } catch { diags.append(error) }
                if m.count > limits.maxObjects {
                    throw fail(.error("build produces more than \(limits.maxObjects) objects", at: eloc, fix: "split the build"))
                }
                continue
            }
            do throws(Diagnostics) {
                let (baseLoader, p): (TreeLoader, TreePath)
                do throws(Diagnostic) { (baseLoader, p) = try loader.locate(entry.value, from: dir, at: eloc, what: "resource") } catch { throw fail(error) }
                switch baseLoader.kind(p) {
                case .directory?:
                    var sub = ResMap()
                    sub.openAPI = m.openAPI
                    sub.transformationsRoot = m.transformationsRoot
                    try accumulate(p, into: &sub, stack: stack, component: false, loader: baseLoader, from: eloc)
                    m.openAPI = sub.openAPI
                    do throws(Diagnostic) { try m.append(contentsOf: sub.items, seen: &seen) } catch { throw fail(error) }
                    m.config.merge(sub.config)
                    do throws(Diagnostic) {
                        for v in sub.vars where m.vars.contains(where: { $0.name == v.name }) {
                            throw Diagnostic.error("var '\(v.name)' is already defined", at: SourceLocation(file: v.file, mark: v.mark),
                                                   fix: "give the var a unique name")
                        }
                    } catch { throw fail(error) }
                    m.vars += sub.vars
                case .file?:
                    do throws(Diagnostic) {
                        for r in try baseLoader.objects(in: p, at: eloc) { try m.append(r, seen: &seen) }
                    } catch { throw fail(error) }
                default:
                    throw fail(.error("resource '\(entry.value)' does not exist", at: eloc,
                                      fix: "fix the path (relative to \(k.file)) or add the file"))
                }
            } catch { diags += error.items }
            if m.count > limits.maxObjects {
                throw fail(.error("build produces more than \(limits.maxObjects) objects", at: eloc, fix: "split the build"))
            }
        }
        if !diags.isEmpty { throw Diagnostics(diags) }

        // configurations (merged into what the resources brought along)
        for entry in k.configurations {
            let eloc = SourceLocation(file: k.file, mark: entry.mark)
            do throws(Diagnostic) {
                let p = try loader.resolve(entry.value, from: dir, at: eloc, what: "configuration")
                for doc in try loader.parseStream(p, at: eloc, what: "configuration") {
                    m.config.merge(try TransformerConfig.parse(doc.value, file: p.string))
                }
            } catch { diags.append(error) }
        }
        // crds (OpenAPI definitions → name references, labels, annotations of custom kinds)
        for entry in k.crds {
            let eloc = SourceLocation(file: k.file, mark: entry.mark)
            do throws(Diagnostic) {
                let p = try loader.resolve(entry.value, from: dir, at: eloc, what: "crds file")
                for doc in try loader.parseStream(p, at: eloc, what: "crds file") {
                    m.config.merge(try CRDConfig.parse(doc.value, file: p.string))
                }
            } catch { diags.append(error) }
        }
        if !diags.isEmpty { throw Diagnostics(diags) }

        // generators (configMapGenerator, secretGenerator, then helmCharts, in Kustomize's order)
        for (specs, secret) in [(k.configMapGenerator, false), (k.secretGenerator, true)] {
            for g in specs {
                do throws(Diagnostics) {
                    let r = try Generators.make(g, secret: secret, global: k.generatorOptions, kust: k, loader: loader)
                    do throws(Diagnostic) { try Generators.absorb(r, into: &m) } catch { throw fail(error) }
                } catch { diags += error.items }
            }
        }
        do throws(Diagnostics) {
            for r in try HelmChartsGenerator.generate(k, loader: loader) {
                do throws(Diagnostic) { try m.append(r) } catch { diags.append(error) }
            }
        } catch { diags += error.items }
        if !diags.isEmpty { throw Diagnostics(diags) }
        if !k.generators.isEmpty {
            let configs = try BuiltinPlugins.configs(k.generators, field: "generators", kust: k, builder: self, stack: stack, loader: loader)
            try BuiltinPlugins.generate(configs, kust: k, loader: loader, into: &m)
        }

        // components run against this build's accumulated objects
        for entry in k.components {
            let eloc = SourceLocation(file: k.file, mark: entry.mark)
            let (compLoader, p): (TreeLoader, TreePath)
            do throws(Diagnostic) { (compLoader, p) = try loader.locate(entry.value, from: dir, at: eloc, what: "component") } catch { throw fail(error) }
            guard compLoader.kind(p) == .directory else {
                throw fail(.error("component '\(entry.value)' is not a directory", at: eloc, fix: "point at a directory with a kind: Component kustomization"))
            }
            try accumulate(p, into: &m, stack: stack, component: true, loader: compLoader, from: eloc)
        }

        try transform(k, &m, loader: loader)
        if !k.transformers.isEmpty {
            let configs = try BuiltinPlugins.configs(k.transformers, field: "transformers", kust: k, builder: self, stack: stack, loader: loader)
            try BuiltinPlugins.transform(configs, kust: k, loader: loader, m: &m)
        }
        if !k.vars.isEmpty {
            let vars = try VarTransformer.parse(k.vars, file: k.file)
            do throws(Diagnostic) { try VarTransformer.bind(vars, in: &m) } catch { throw fail(error) }
        }
        return k
    }

    /// `openapi:` — Kustomize's `openapi.SetSchema`: the schema file is read whenever `path`
    /// is given (a missing file is an error), but only the first kustomization to choose
    /// (top-level first, then bases in build order) decides the schema of the whole build.
    func chooseOpenAPI(_ k: Kustomization, into m: inout ResMap, loader: TreeLoader) throws(Diagnostic) {
        var schema: OpenAPISchema?
        if let path = k.openAPIPath {
            let loc = SourceLocation(file: k.file, mark: path.mark)
            let p = try loader.resolve(path.value, from: k.dir, at: loc, what: "openapi schema")
            let docs = try loader.parseStream(p, at: loc, what: "openapi schema")
            schema = try OpenAPISchema(parsing: docs.first?.value ?? .null, file: p.string)
        }
        if m.openAPI.isSet { return }
        if let schema {
            if let v = k.openAPIVersion {
                throw .error("builtin version and custom schema provided, cannot use both", at: SourceLocation(file: k.file, mark: v.mark),
                             fix: "remove `openapi.version` or `openapi.path`")
            }
            m.openAPI = .custom(schema)
        } else if let v = k.openAPIVersion, !v.value.isEmpty {
            guard v.value == OpenAPIState.builtinVersion else {
                throw .error("the specified OpenAPI version is not built in", at: SourceLocation(file: k.file, mark: v.mark),
                             fix: "use `version: \(OpenAPIState.builtinVersion)` (the only built-in schema), or a custom schema with `path:`")
            }
            m.openAPI = .builtin
        }
    }

    /// The built-in transformers, in Kustomize's order.
    func transform(_ k: Kustomization, _ m: inout ResMap, loader: TreeLoader) throws(Diagnostics) {
        func one(_ body: () throws(Diagnostic) -> Void) throws(Diagnostics) {
            do throws(Diagnostic) { try body() } catch { throw Diagnostics([error]) }
        }
        // Each step is recorded as Kustomize configures its built-in transformers (one
        // PatchTransformer per `patches` entry, a LabelTransformer per `labels` entry plus one
        // for `commonLabels`, …) for `buildMetadata: [transformerAnnotations]`.
        func note(_ kind: String, times: Int = 1) { m.noteTransformer(kind, configuredIn: k.file, times: times) }
        try PatchTransformer.apply(k.patchesStrategicMerge, kind: .strategicMerge, kust: k, loader: loader, to: &m)
        note("PatchStrategicMergeTransformer", times: k.patchesStrategicMerge.isEmpty ? 0 : 1)
        try PatchTransformer.apply(k.patches, kind: .either, kust: k, loader: loader, to: &m)
        note("PatchTransformer", times: k.patches.count)
        if let ns = k.namespace {
            let loc = SourceLocation(file: k.file, mark: k.namespaceMark)
            try one { () throws(Diagnostic) in try NamespaceTransformer.apply(ns, to: &m, at: loc) }
            note("NamespaceTransformer", times: ns.isEmpty ? 0 : 1)
        }
        PrefixSuffixTransformer.apply(prefix: k.namePrefix, suffix: "", selecting: m.config.namePrefix, to: &m)
        PrefixSuffixTransformer.apply(prefix: "", suffix: k.nameSuffix, selecting: m.config.nameSuffix, to: &m)
        note("PrefixTransformer", times: k.namePrefix.isEmpty ? 0 : 1)
        note("SuffixTransformer", times: k.nameSuffix.isEmpty ? 0 : 1)
        for l in k.labels {
            try one { () throws(Diagnostic) in try MapFieldTransformer.labels(l, to: &m) }
            note("LabelTransformer")
        }
        try one { () throws(Diagnostic) in try MapFieldTransformer.apply(k.commonLabels, specs: m.config.commonLabels, to: &m) }
        note("LabelTransformer", times: k.labels.isEmpty && k.commonLabels.isEmpty ? 0 : 1)
        try one { () throws(Diagnostic) in try MapFieldTransformer.apply(k.commonAnnotations, specs: m.config.commonAnnotations, to: &m) }
        note("AnnotationsTransformer", times: k.commonAnnotations.isEmpty ? 0 : 1)
        try PatchTransformer.apply(k.patchesJson6902, kind: .json6902, kust: k, loader: loader, to: &m)
        note("PatchJson6902Transformer", times: k.patchesJson6902.count)
        try one { () throws(Diagnostic) in try ReplicaTransformer.apply(k.replicas, to: &m, file: k.file) }
        note("ReplicaCountTransformer", times: k.replicas.count)
        ImageTransformer.apply(k.images, to: &m)
        note("ImageTagTransformer", times: k.images.count)
        if !k.replacements.isEmpty {
            let rs = try ReplacementTransformer.load(k.replacements, kust: k, loader: loader)
            try one { () throws(Diagnostic) in try ReplacementTransformer.apply(rs, to: &m) }
            note("ReplacementTransformer")
        }
    }
}

extension SourceTree {
    func resolveForBuild(_ p: TreePath, at loc: SourceLocation?) throws(Diagnostic) -> TreePath {
        do { return try resolve(p) } catch {
            throw .error("'\(p)': \(error)", at: loc, fix: "replace the symlink with a path inside the repository")
        }
    }
}
