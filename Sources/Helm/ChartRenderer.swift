import PatternCore

/// One layer of user values: a values file, `--set` text already parsed, or a pattern's
/// component values. `file` names it in messages.
public struct ValueLayer: Sendable {
    public var file: String
    public var value: Value
    public init(file: String, value: Value) { self.file = file; self.value = value }
}

/// What to render and how.
public struct ChartRenderRequest: Sendable {
    public var chart: Chart
    /// User values, lowest precedence first (`-f a -f b --set …`).
    public var values: [ValueLayer]
    public var release: ReleaseOptions
    public var capabilities: Capabilities
    public var lookup: LookupMode
    /// Include `crds/` objects in the output (`--include-crds`; pattern components always do).
    public var includeCRDs: Bool
    /// Drop `test` hooks (`--skip-tests`; pattern components always do).
    public var skipTests: Bool
    /// Set `metadata.namespace` to the release namespace on namespaced objects without one.
    public var setNamespace: Bool
    public var yamlLimits: YAMLLimits

    public init(chart: Chart, values: [ValueLayer] = [], release: ReleaseOptions, capabilities: Capabilities = Capabilities(),
                lookup: LookupMode = .empty, includeCRDs: Bool = true, skipTests: Bool = false, setNamespace: Bool = true,
                yamlLimits: YAMLLimits = .default) {
        self.chart = chart; self.values = values; self.release = release; self.capabilities = capabilities
        self.lookup = lookup; self.includeCRDs = includeCRDs; self.skipTests = skipTests; self.setNamespace = setNamespace
        self.yamlLimits = yamlLimits
    }
}

/// The result of rendering a chart.
public struct ChartRender: Sendable {
    /// `crds/` objects (when requested), first.
    public var crds: [RenderedManifest]
    /// Non-hook objects in Helm's install order (kind order, then template file order).
    public var manifests: [RenderedManifest]
    /// Hook objects, in Helm's order (weight, kind, name).
    public var hooks: [RenderedManifest]
    /// The rendered NOTES.txt of the top chart (not output).
    public var notes: String?
    /// The final values the templates saw (`.Values`).
    public var values: Value
    public var warnings: [Diagnostic]
    /// What `lookup` read from the cluster in a live render.
    public var lookups: LookupRecording

    /// Everything in output order: CRDs, manifests, hooks.
    public var all: [RenderedManifest] { crds + manifests + hooks }

    /// The output as `helm template` prints it: `---`, `# Source: …`, the object.
    public func yaml(includeHooks: Bool = true) -> String {
        let emitter = YAMLEmitter(options: .init(sortKeys: true))
        var out = ""
        for m in crds + manifests + (includeHooks ? hooks : []) {
            out += "---\n# Source: \(m.source)\n" + emitter.emit(m.object)
        }
        return out
    }
}

/// The chart tree as the template engine sees it: one scope per chart (`.Chart`, `.Files`,
/// `.Values`, `.Subcharts`) and every template in Helm's parse order.
public struct TemplateJob: Sendable {
    public struct Scope: Sendable {
        public var metadata: ChartMetadata
        public var files: [ChartFile]
        /// `.Values` of this chart.
        public var values: Value
        public var isRoot: Bool
        /// `parent/charts/child`.
        public var fullPath: String
        /// Indexes of the subcharts' scopes (`.Subcharts.<name>`).
        public var children: [Int]
        /// Where the chart was loaded from, as shown in messages.
        public var origin: String
    }
    public struct Template: Sendable {
        /// `<chart>/templates/<file>` (subcharts: `<parent>/charts/<sub>/templates/<file>`).
        public var name: String
        public var text: String
        public var scope: Int
        /// `<chart full path>/templates`.
        public var basePath: String
        /// False for partials (`_*`), library chart templates and NOTES.txt of subcharts.
        public var produces: Bool
    }
    public var scopes: [Scope]
    /// Sorted as Helm parses them: deepest paths first, then by name descending.
    public var templates: [Template]
    public var release: ReleaseOptions
    public var capabilities: Capabilities
    public var lookup: LookupSession
}

/// Executes a template job: the seam between the chart layer and the template language.
public protocol ChartTemplateEngine: Sendable {
    /// The text each producing template rendered, by template name.
    func render(_ job: TemplateJob) throws(ChartError) -> [String: String]
}

/// Renders charts as `helm template` does: dependencies, values, schema, templates, hooks.
public struct ChartRenderer: Sendable {
    public var engine: any ChartTemplateEngine
    public init(engine: any ChartTemplateEngine) { self.engine = engine }

    public func render(_ req: ChartRenderRequest) throws(ChartError) -> ChartRender {
        var chart = req.chart
        if chart.metadata.isLibrary {
            throw ChartError(.error("library charts are not installable", at: SourceLocation(file: chart.display("Chart.yaml")),
                                    fix: "use it as a dependency of an application chart"))
        }
        try checkKubeVersion(chart, req.capabilities)

        // 1. User values: merged as helm merges -f/--set layers.
        var user: Value = .emptyObject
        for l in req.values { user = HelmValues.mergeLayers(user, l.value) }
        let origins = ValueOrigins(chart: chart, layers: req.values)

        // 2. Dependencies (conditions, tags, aliases, import-values), then coalesce.
        var warnings = try DependencyProcessor.process(&chart, values: user)
        var w = HelmValues.Warnings()
        let values = HelmValues.coalesce(chart, user, warnings: &w)
        if let failure = HelmValues.failure(w, chart: chart) { throw failure }
        warnings += w.items.map { Diagnostic(.warning, at: SourceLocation(file: chart.display("values.yaml")), $0) }

        // 3. values.schema.json of every chart in the tree.
        try validateSchemas(chart, values, prefix: [], origins: origins)

        // 4. Templates of the whole tree in one set.
        var scopes: [TemplateJob.Scope] = []
        var templates: [TemplateJob.Template] = []
        func collect(_ c: Chart, values v: Value, parentPath: String?) -> Int {
            let fullPath = parentPath.map { "\($0)/charts/\(c.name)" } ?? c.name
            let index = scopes.count
            scopes.append(TemplateJob.Scope(metadata: c.metadata, files: c.files, values: v, isRoot: parentPath == nil,
                                            fullPath: fullPath, children: [], origin: c.origin))
            var children: [Int] = []
            for sub in c.dependencies {
                let sv = v[sub.name].flatMap { $0.object != nil ? $0 : nil } ?? .emptyObject
                children.append(collect(sub, values: sv, parentPath: fullPath))
            }
            scopes[index].children = children
            for t in c.templates {
                let base = t.name.split(separator: "/").last.map(String.init) ?? t.name
                if c.metadata.isLibrary && !base.hasPrefix("_") { continue }
                let produces = !base.hasPrefix("_") && !(base == "NOTES.txt" && parentPath != nil)
                templates.append(TemplateJob.Template(name: fullPath + "/" + t.name, text: String(decoding: t.data, as: UTF8.self),
                                                      scope: index, basePath: fullPath + "/templates", produces: produces))
            }
            return index
        }
        _ = collect(chart, values: values, parentPath: nil)
        // Deepest paths first, then by name descending (slashes counted once per template).
        var depths: [Int] = []
        depths.reserveCapacity(templates.count)
        for t in templates {
            var n = 0
            for c in t.name.utf8 where c == UInt8(ascii: "/") { n += 1 }
            depths.append(n)
        }
        templates = templates.indices.sorted { a, b in
            depths[a] != depths[b] ? depths[a] > depths[b] : templates[a].name > templates[b].name
        }.map { templates[$0] }
        let session = LookupSession(mode: req.lookup)
        let job = TemplateJob(scopes: scopes, templates: templates, release: req.release, capabilities: req.capabilities, lookup: session)
        let rendered = try engine.render(job)
        for key in session.unanswered {
            warnings.append(Diagnostic(.warning, at: nil,
                "lookup \(key.apiVersion) \(key.kind) \(key.namespace)/\(key.name) is not in the lookup recording; it returned an empty map",
                fix: "render once with lookups enabled against the cluster to refresh the recording"))
        }

        // 5. Split, classify, order.
        let notesName = chart.name + "/templates/NOTES.txt"
        var generic: [RenderedManifest] = []
        var hooks: [RenderedManifest] = []
        var problems: [Diagnostic] = []
        for name in rendered.keys.sorted() where name != notesName {
            let base = name.split(separator: "/").last.map(String.init) ?? name
            if base.hasPrefix("_") || base == "NOTES.txt" { continue }
            do {
                for var obj in try ManifestSplitter.documents(rendered[name]!, source: name, limits: req.yamlLimits) {
                    if req.setNamespace { setNamespace(&obj, req.release.namespace) }
                    switch HelmHook.parse(obj) {
                    case nil: generic.append(RenderedManifest(source: name, object: obj, hook: nil))
                    case .success(let h):
                        if req.skipTests && h.isTest { continue }
                        hooks.append(RenderedManifest(source: name, object: obj, hook: h))
                    case .failure(let u):
                        warnings.append(Diagnostic(.warning, at: SourceLocation(file: name), "skipping unknown hook: \"\(u.value)\""))
                    }
                }
            } catch { problems.append(error) }
        }
        if !problems.isEmpty { throw ChartError(problems) }
        generic = InstallOrder.sortStable(generic)
        hooks = InstallOrder.sortHooks(hooks)

        var crds: [RenderedManifest] = []
        if req.includeCRDs {
            func collectCRDs(_ c: Chart, _ path: String) {
                for f in c.crdFiles {
                    let source = path + "/" + f.name
                    if let docs = try? ManifestSplitter.documents(String(decoding: f.data, as: UTF8.self), source: source, limits: req.yamlLimits) {
                        crds += docs.map { RenderedManifest(source: source, object: $0, hook: nil) }
                    } else {
                        problems.append(.error("YAML parse error in \(source)", at: SourceLocation(file: c.display(f.name)),
                                               fix: "crds/ files are plain YAML (not templated); fix the syntax"))
                    }
                }
                for s in c.dependencies { collectCRDs(s, path + "/charts/" + s.name) }
            }
            collectCRDs(chart, chart.name)
            if !problems.isEmpty { throw ChartError(problems) }
        }
        return ChartRender(crds: crds, manifests: generic, hooks: hooks, notes: rendered[notesName], values: values,
                           warnings: warnings, lookups: session.recording)
    }

    func setNamespace(_ obj: inout Value, _ ns: String) {
        guard let kind = obj.kindName, let av = obj.apiVersion else { return }
        let gvk = GroupVersionKind(apiVersion: av, kind: kind)
        if KindTable.isClusterScoped(gvk.groupKind) { return }
        if let cur = obj.metadataNamespace, !cur.isEmpty { return }
        obj[path: ["metadata", "namespace"]] = .string(ns)
    }

    func checkKubeVersion(_ chart: Chart, _ caps: Capabilities) throws(ChartError) {
        let constraint = chart.metadata.kubeVersion
        guard !constraint.isEmpty else { return }
        if !VersionRange.compatible(constraint, caps.kubeVersion.semver) {
            throw ChartError(.error("chart requires kubeVersion: \(constraint) which is incompatible with Kubernetes \(caps.kubeVersion.version)",
                                    at: SourceLocation(file: chart.display("Chart.yaml"), mark: chart.metadata.raw["kubeVersion"]?.mark ?? .none),
                                    fix: "set the site's cluster.kubeVersion (or --kube-version) to the cluster's real version"))
        }
    }

    func validateSchemas(_ c: Chart, _ v: Value, prefix: [String], origins: ValueOrigins) throws(ChartError) {
        var problems: [Diagnostic] = []
        func walk(_ c: Chart, _ v: Value, _ prefix: [String]) {
            if let schema = c.schema {
                let validator = JSONSchemaValidator(schema: schema)
                if let p = validator.problems() {
                    problems.append(.error("values.schema.json: \(p)", at: SourceLocation(file: c.display("values.schema.json")),
                                           fix: "use only local $ref targets and ECMA-262 patterns"))
                } else {
                    for x in validator.validate(v) {
                        let full = prefix + x.path
                        let file = origins.file(of: full) ?? c.display("values.yaml")
                        problems.append(.error("values don't meet the specifications of the schema of chart \(c.name): \(x.field): \(x.message)",
                                               at: SourceLocation(file: file, mark: x.mark),
                                               fix: "change \(full.isEmpty ? "the values" : full.joined(separator: ".")) to match \(c.display("values.schema.json"))"))
                    }
                }
            }
            for s in c.dependencies { walk(s, v[s.name] ?? .emptyObject, prefix + [s.name]) }
        }
        walk(c, v, prefix)
        if !problems.isEmpty { throw ChartError(problems) }
    }
}

/// Which file set each value path (for schema errors): chart defaults (subcharts first, then
/// their parents), then the user layers in order.
struct ValueOrigins {
    var files: [[String]: String] = [:]

    init(chart: Chart, layers: [ValueLayer]) {
        func defaults(_ c: Chart, _ prefix: [String]) {
            for s in c.dependencies { defaults(s, prefix + [s.name]) }
            record(c.values, prefix, c.display("values.yaml"))
        }
        defaults(chart, [])
        for l in layers { record(l.value, [], l.file) }
    }

    mutating func record(_ v: Value, _ path: [String], _ file: String) {
        if !path.isEmpty { files[path] = file }
        if let o = v.object { for (k, c) in o { record(c, path + [k], file) } }
        else if let a = v.array { for (i, c) in a.enumerated() { record(c, path + [String(i)], file) } }
    }

    func file(of path: [String]) -> String? {
        var p = path
        while !p.isEmpty { if let f = files[p] { return f }; p.removeLast() }
        return nil
    }
}

/// Helm's `releaseutil.InstallOrder` (kinds) for sorting rendered manifests.
enum InstallOrder {
    static let kinds = [
        "PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy", "PodDisruptionBudget",
        "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass", "PersistentVolume", "PersistentVolumeClaim",
        "CustomResourceDefinition", "ClusterRole", "ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role",
        "RoleList", "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet",
        "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
        "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
    ]
    static let rank: [String: Int] = Dictionary(uniqueKeysWithValues: kinds.enumerated().map { ($1, $0) })

    static func less(_ a: String, _ b: String) -> Bool? {
        let ra = rank[a], rb = rank[b]
        switch (ra, rb) {
        case let (x?, y?): return x == y ? nil : x < y
        case (_?, nil): return true
        case (nil, _?): return false
        case (nil, nil): return a == b ? nil : a < b
        }
    }

    static func sortStable(_ ms: [RenderedManifest]) -> [RenderedManifest] {
        ms.enumerated().sorted { x, y in
            less(x.element.object.kindName ?? "", y.element.object.kindName ?? "") ?? (x.offset < y.offset)
        }.map(\.element)
    }

    /// Hooks: by weight, then kind order, then name (as Helm's `sortHooksByKind` + weight sort).
    static func sortHooks(_ hs: [RenderedManifest]) -> [RenderedManifest] {
        hs.enumerated().sorted { x, y in
            let wx = x.element.hook?.weight ?? 0, wy = y.element.hook?.weight ?? 0
            if wx != wy { return wx < wy }
            if let l = less(x.element.object.kindName ?? "", y.element.object.kindName ?? "") { return l }
            let nx = x.element.object.metadataName ?? "", ny = y.element.object.metadataName ?? ""
            return nx != ny ? nx < ny : x.offset < y.offset
        }.map(\.element)
    }
}
