import PatternCore
import PatternDiff
import ArgoCD
import Helm

/// Compiles a site: pattern + overlay chain + values → objects in apply order.
///
/// A pure function of its inputs (files read through `SourceTree`s; no cluster access):
/// the same inputs give the same objects and the same revision. Every problem found is
/// reported (as `Diagnostics`), not just the first.
public struct SiteCompiler: Sendable {
    public var workspace: Workspace
    /// Resolves `pattern.git` references; nil means git patterns are an error.
    public var resolver: (any PatternSourceResolver)?
    /// Install or upgrade per chart component (from the site's ledger; default: install).
    public var chartReleases: ChartReleases = .install
    /// Argo CD Applications: nil follows each site's `applications:` (default keep); true or
    /// false overrides it (`pattern render --expand-applications`).
    public var expandApplications: Bool?
    /// Chart repositories for Application sources with `chart:` (see `ApplicationExpansionStep`).
    public var chartRepositories: (any ChartRepositoryResolver)?
    /// URLs the workspace repository is known by (the controller's `spec.source.git.url`), so
    /// Applications naming it read the checkout being rendered.
    public var repositoryURLs: [String] = []
    /// Where `workspace.tree` itself came from, when it is a git checkout at a commit (the
    /// controller's source): objects of a path pattern in it carry that commit in their
    /// `pattern.dev/source-commit` annotation, as objects of a `pattern.git` pattern do.
    public var treeProvenance: Provenance?
    /// What the site's charts read from the cluster (discovered `.Capabilities`, `lookup`
    /// answers), for sites whose `cluster.helm` asks for it; nil: nothing recorded.
    public var helmReads: HelmClusterReads?
    /// Set by a render that reads the cluster: `lookup` calls missing from `helmReads` are
    /// collected here (answered with empty maps) instead of warned about, so the caller can
    /// read them and compile again.
    public var lookupMisses: LookupMisses?

    /// The directory on disk the workspace's files came from, when the tree is not a
    /// `LocalTree` (an overlay read from git history by `pattern rollback`): relative local git
    /// URLs are anchored at it, exactly as they were when the site was applied from the checkout.
    public var localRoot: String?

    public init(workspace: Workspace, resolver: (any PatternSourceResolver)? = nil, treeProvenance: Provenance? = nil) {
        self.workspace = workspace
        self.resolver = resolver
        self.treeProvenance = treeProvenance
    }

    public func compile(site: String) throws(Diagnostics) -> RenderedSite {
        var me = self
        if lookupMisses == nil { me.replayMisses = LookupMisses() }
        return try me.compileSite(site)
    }

    /// Collects `lookup` calls the recording did not answer in a replay render (warned about).
    var replayMisses: LookupMisses?

    func compileSite(_ site: String) throws(Diagnostics) -> RenderedSite {
        let chain = try workspace.overlayChain(site)
        let siteOverlay = chain.last!
        var diagnostics: [Diagnostic] = []
        var warnings: [Diagnostic] = []

        // 1. Which pattern: the last overlay in the chain that names one (the site wins); else
        // the repository's layout (Validated Patterns) renders the site.
        let named = chain.reversed().compactMap({ o in o.pattern.map { ($0, o.file) } }).first
        if named == nil, let layout = workspace.layout, let r = try layout.render(site: site, chain: chain, in: workspace) {
            var objects = r.objects.map { v, file in
                RenderedObject(object: v, key: v.objectKey ?? ObjectKey(group: "", kind: v.kindName ?? "", namespace: "", name: v.metadataName ?? ""),
                               component: r.component, file: file)
            }
            // The layout's Applications (e.g. the clustergroup chart's) go through the same
            // post-render expansion as a pattern's.
            var layoutDiagnostics: [Diagnostic] = []
            let argo = expandApplicationsStep(&objects, site: site, chain: chain, values: r.values, patternTree: workspace.tree, ref: nil,
                                              layoutDefault: r.applications, diagnostics: &layoutDiagnostics)
            var rendered = try finish(consume objects, site: site, chain: chain, pattern: (r.pattern, r.version), components: [(r.component, [])],
                                      provenance: Provenance(source: workspace.tree.displayName), warnings: r.warnings + argo.warnings,
                                      diagnostics: layoutDiagnostics, argo: argo)
            rendered.cluster.kubeVersion = rendered.cluster.kubeVersion ?? r.kubeVersion
            return rendered
        }
        guard let (ref, refFile) = named else {
            throw Diagnostics([.error("site '\(site)' does not name a pattern", at: SourceLocation(file: siteOverlay.file),
                                      fix: "add 'pattern: {path: patterns/<name>}' to the site or a group it extends")])
        }
        let patternTree: any SourceTree
        let patternDir: TreePath
        var provenance: Provenance
        var prefix = ""
        if let path = ref.path {
            do { patternDir = try TreePath(path) } catch {
                throw Diagnostics([.error("pattern path: \(error)", at: SourceLocation(file: refFile, mark: ref.mark),
                                          fix: "use a path relative to the repository root, e.g. patterns/<name>")])
            }
            patternTree = workspace.tree
            provenance = treeProvenance ?? Provenance(source: workspace.tree.displayName)
        } else if let git = ref.git {
            guard let resolver else {
                throw Diagnostics([.error("site uses a git pattern but git sources are not available here",
                                          at: SourceLocation(file: refFile, mark: ref.mark))])
            }
            // Relative local URLs are relative to the overlay file that names them, not to
            // the process's working directory.
            var git = git
            if let root = (workspace.tree as? LocalTree)?.root ?? localRoot, let dir = chain.first(where: { $0.file == refFile })?.directory {
                let base = root + (dir.isRoot ? "" : "/" + dir.string)
                git.url = SiteCompiler.anchorLocalURL(git.url, at: base)
                git.mirrors = git.mirrors.map { SiteCompiler.anchorLocalURL($0, at: base) }
                if var v = git.verify {
                    v.sshKeysFile = v.sshKeysFile.map { $0.hasPrefix("/") ? $0 : base + "/" + $0 }
                    v.gpgKeysFile = v.gpgKeysFile.map { $0.hasPrefix("/") ? $0 : base + "/" + $0 }
                    git.verify = v
                }
            }
            do {
                let r = try resolver.resolve(git)
                patternTree = r.tree; patternDir = r.directory; provenance = r.provenance
                warnings += r.warnings.map { Diagnostic(.warning, at: SourceLocation(file: refFile, mark: ref.mark), $0) }
                prefix = "\(provenance.source)@\(provenance.commit.map { String($0.prefix(12)) } ?? "?"):"
            } catch let d as Diagnostics {
                // The resolver's own diagnostics (message + fix) get the reference's location.
                throw Diagnostics(d.items.map { item in
                    var item = item
                    if item.location == nil { item.location = SourceLocation(file: refFile, mark: ref.git?.verify?.mark ?? ref.mark) }
                    return item
                })
            } catch {
                throw Diagnostics([.error("cannot fetch the pattern: \(error)", at: SourceLocation(file: refFile, mark: ref.mark),
                                          fix: "check the URL, ref and credentials, or use a cached commit")])
            }
        } else {
            throw Diagnostics([.error("pattern reference has neither path nor git", at: SourceLocation(file: refFile, mark: ref.mark))])
        }
        let pattern = try Workspace.loadPattern(tree: patternTree, dir: patternDir, displayPrefix: prefix, limits: workspace.yamlLimits)

        // 2. Values: pattern value files < pattern values < overlays in chain order.
        var values = MergedValues()
        for vf in pattern.valueFiles {
            if let v = readValueFile(vf.path, base: patternDir, tree: patternTree, prefix: prefix, referrer: pattern.file, mark: vf.mark,
                                     diagnostics: &diagnostics) {
                values.merge(v, from: prefix + ((try? patternDir.resolving(vf.path).string) ?? vf.path))
            }
        }
        values.merge(pattern.values, from: pattern.file)
        for o in chain {
            for vf in o.valueFiles {
                if let v = readValueFile(vf.path, base: o.directory, tree: workspace.tree, prefix: "", referrer: o.file, mark: vf.mark,
                                         diagnostics: &diagnostics) {
                    values.merge(v, from: (try? o.directory.resolving(vf.path).string) ?? vf.path)
                }
            }
            values.merge(o.values, from: o.file)
        }
        ParameterCheck.apply(pattern.parameters, to: &values, patternFile: pattern.file, siteFile: siteOverlay.file,
                             diagnostics: &diagnostics)
        for reserved in ["pattern", "site", "cluster"] where values.root[reserved] != nil {
            diagnostics.append(.error("value key '\(reserved)' is reserved for built-in variables",
                                      at: SourceLocation(file: values.origin(of: reserved) ?? siteOverlay.file, mark: values.root[reserved]!.mark),
                                      fix: "rename it; use ${\(reserved).…} to read the built-in values"))
        }

        // 3. Components: pattern defaults, then enable/disable along the chain.
        let known = Set(pattern.components.map(\.name))
        var enabled = Dictionary(pattern.components.map { ($0.name, $0.enabled) }, uniquingKeysWith: { a, _ in a })
        for o in chain {
            for (list, on) in [(o.enable, true), (o.disable, false)] {
                for c in list {
                    if known.contains(c.name) { enabled[c.name] = on } else {
                        diagnostics.append(.error("unknown component '\(c.name)'", at: SourceLocation(file: o.file, mark: c.mark),
                                                  fix: "components of \(pattern.name): \(pattern.components.map(\.name).joined(separator: ", "))"))
                    }
                }
            }
        }
        let active = pattern.components.filter { enabled[$0.name] == true }
        for c in active {
            for d in c.dependsOn where enabled[d.name] != true {
                diagnostics.append(.error("component '\(c.name)' depends on '\(d.name)', which is disabled for site '\(site)'",
                                          at: SourceLocation(file: siteOverlay.file),
                                          fix: "enable '\(d.name)' or disable '\(c.name)' too",
                                          related: [SourceLocation(file: pattern.file, mark: d.mark)]))
            }
        }

        // 4. Variables for substitution.
        var variables = values.root
        var clusterVar: Value = ["labels": .object(Object())]
        if let n = siteOverlay.cluster.name ?? chain.reversed().compactMap(\.cluster.name).first { clusterVar["name"] = .string(n) }
        var clusterLabels = Object()
        for o in chain { for (k, v) in o.cluster.labels.sorted(by: { $0.key < $1.key }) { clusterLabels[k] = .string(v) } }
        clusterVar["labels"] = .object(clusterLabels)
        variables["cluster"] = clusterVar
        variables["site"] = ["name": .string(site)]
        var patternVar: Value = ["name": .string(pattern.name)]
        if let v = pattern.version { patternVar["version"] = .string(v) }
        variables["pattern"] = patternVar
        let substituter = Substituter(variables: variables)

        // 5. Build components.
        var objects: [RenderedObject] = []
        var loader = ComponentLoader(tree: patternTree, displayPrefix: prefix, limits: workspace.yamlLimits)
        if let remotes = resolver as? any KustomizeRemoteResolver {
            loader.remote = remotes.kustomizeRemotes(allowUnpinned: chain.reversed().compactMap(\.allowUnpinnedRemotes).first ?? false)
        }
        let chartWarnings = ChartFetchWarnings()
        loader.remote.chartWarnings = chartWarnings
        let charts = try ChartComponentRenderer.renderAll(active, tree: patternTree, displayPrefix: prefix, limits: workspace.yamlLimits,
                                                          patternDir: patternDir, patternFile: pattern.file, substituter: substituter, chain: chain,
                                                          releases: chartReleases, charts: resolver as? any ChartArchiveResolver,
                                                          fetchWarnings: chartWarnings, helm: helmInputs(chain, site: site, warnings: &warnings))
        for c in active {
            if let rendered = charts[c.name] {
                switch rendered {
                case .success(let list):
                    for (v, file) in list {
                        let key = v.objectKey ?? ObjectKey(group: "", kind: v.kindName ?? "", namespace: "", name: v.metadataName ?? "")
                        objects.append(RenderedObject(object: v, key: key, component: c.name, file: file))
                    }
                case .failure(let error): diagnostics += error.items
                }
                continue
            }
            let dir: TreePath
            do { dir = try patternDir.resolving(c.path) } catch {
                diagnostics.append(.error("component '\(c.name)': \(error)", at: SourceLocation(file: pattern.file, mark: c.mark),
                                          fix: "keep component paths inside the repository"))
                continue
            }
            do {
                let loaded = try loader.load(dir, component: c.name, referencedAt: SourceLocation(file: pattern.file, mark: c.mark))
                if loaded.isEmpty && !c.mayBeEmpty {
                    diagnostics.append(.error("component '\(c.name)' renders no objects (\(prefix)\(dir.string) has no manifests, or they are empty)",
                                              at: SourceLocation(file: pattern.file, mark: c.mark),
                                              fix: "restore its manifests, disable it for this site (components.disable), or declare 'mayBeEmpty: true' on the component if empty is intended (apply then prunes what it had)"))
                }
                // Objects substitute independently: all cores, problems kept in object order.
                let component = c.name
                let substituted = ParallelMap.map(loaded) { item -> (RenderedObject, [Diagnostic]) in
                    var v = item.0
                    var problems: [Diagnostic] = []
                    substituter.apply(to: &v, file: item.1, diagnostics: &problems)
                    let key = v.objectKey ?? ObjectKey(group: "", kind: v.kindName ?? "", namespace: "", name: v.metadataName ?? "")
                    return (RenderedObject(object: v, key: key, component: component, file: item.1), problems)
                }
                for (object, problems) in substituted {
                    diagnostics += problems
                    objects.append(object)
                }
            } catch {
                diagnostics += error.items
            }
        }

        // Warnings of chart components and of Kustomize components' helmCharts.
        warnings += chartWarnings.all

        // 5b. Post-render: Argo CD Applications and ApplicationSets, expanded when the site
        // (or the caller) asks for it, whichever component produced them.
        let argo = expandApplicationsStep(&objects, site: site, chain: chain, values: values.root, patternTree: patternTree, ref: ref,
                                          diagnostics: &diagnostics)
        warnings += argo.warnings

        // A target that selects nothing is an error unless a disabled component has the
        // objects it selects; those are rendered only to answer that question.
        let disabledComponents = pattern.components.filter { enabled[$0.name] != true }
        let renderDisabled = { () -> [(object: Value, component: String)] in
            var out: [(object: Value, component: String)] = []
            let charts = (try? ChartComponentRenderer.renderAll(disabledComponents, tree: patternTree, displayPrefix: prefix, limits: workspace.yamlLimits,
                                                               patternDir: patternDir, patternFile: pattern.file, substituter: substituter, chain: chain,
                                                          charts: resolver as? any ChartArchiveResolver)) ?? [:]
            for c in disabledComponents {
                if let rendered = charts[c.name] {
                    if case .success(let list) = rendered { for (v, _) in list { out.append((v, c.name)) } }
                    continue
                }
                guard c.chart == nil, let dir = try? patternDir.resolving(c.path),
                      let loaded = try? loader.load(dir, component: c.name, referencedAt: SourceLocation(file: pattern.file, mark: c.mark)) else { continue }
                var ignored: [Diagnostic] = []
                for (var v, file) in loaded {
                    substituter.apply(to: &v, file: file, diagnostics: &ignored)
                    out.append((v, c.name))
                }
            }
            return out
        }
        var rendered = try finish(consume objects, site: site, chain: chain, pattern: (pattern.name, pattern.version),
                                  components: active.map { c in (c.name, c.dependsOn.map(\.name)) }, provenance: provenance, warnings: warnings,
                                  diagnostics: diagnostics, argo: argo, disabledObjects: renderDisabled)
        rendered.chartComponents = active.filter { $0.chart != nil }.map(\.name)
        return rendered
    }

    /// Steps 6–7, shared by patterns and repository layouts: overlay patches, checks, order,
    /// labels, revision, the site's cluster and apply settings.
    ///
    /// `objects` is consumed: held only here, each object is labelled in place (a caller
    /// still holding them would make every object's maps copied, and the old ones freed on
    /// one core when the caller lets go).
    func finish(_ objects: consuming [RenderedObject], site: String, chain: [OverlaySpec], pattern: (name: String, version: String?),
                components deps: [(name: String, dependsOn: [String])], provenance: Provenance,
                warnings: [Diagnostic], diagnostics: [Diagnostic], argo: ApplicationStepResult,
                disabledObjects renderDisabled: () -> [(object: Value, component: String)] = { [] }) throws(Diagnostics) -> RenderedSite {
        var warnings = warnings, diagnostics = diagnostics
        let siteOverlay = chain.last!
        var clusterLabels = Object()
        for o in chain { for (k, v) in o.cluster.labels.sorted(by: { $0.key < $1.key }) { clusterLabels[k] = .string(v) } }
        // 6. Overlay patches, in chain order.
        for o in chain where !o.patches.isEmpty {
            do {
                let source = (try? workspace.tree.read(TreePath(o.file))).map { String(decoding: $0, as: UTF8.self) }
                warnings += try KustomizeBridge.applyPatches(o.patches, overlayDir: o.directory, overlayFile: o.file, overlaySource: source,
                                                             tree: workspace.tree, to: &objects, disabledObjects: renderDisabled)
            } catch { diagnostics += error.items }
        }
        if !diagnostics.isEmpty { throw Diagnostics(diagnostics) }

        // 7. Validate, order, label, hash.
        _ = ParallelMap.update(&objects) { o in o.key = o.object.objectKey ?? o.key }
        diagnostics += ObjectValidation.check(objects)
        diagnostics += ObjectValidation.checkDependsOn(objects)
        if !diagnostics.isEmpty { throw Diagnostics(diagnostics) }
        objects = ApplyOrder.sorted(objects)
        let revision = Provenancing.label(&objects, pattern: pattern.name, site: site, provenance: provenance)

        var cluster = siteOverlay.cluster
        cluster.name = siteOverlay.cluster.name ?? chain.reversed().compactMap(\.cluster.name).first
        cluster.context = siteOverlay.cluster.context ?? chain.reversed().compactMap(\.cluster.context).first
        cluster.labels = Dictionary(uniqueKeysWithValues: clusterLabels.map { ($0, $1.string ?? "") })
        var rendered = RenderedSite(site: site, pattern: pattern.name, patternVersion: pattern.version, cluster: cluster, objects: objects,
                                    revision: revision, components: deps, provenance: provenance, warnings: warnings)
        rendered.applications = argo.mode
        rendered.expandedApplications = argo.count
        rendered.ignoreDifferences = chain.flatMap(\.ignoreDifferences) + argo.ignoreRules
        rendered.helm = OverlaySpec.helmSettings(chain)
        if lookupMisses == nil, let misses = replayMisses {
            for key in misses.missing {
                rendered.warnings.append(Diagnostic(.warning, at: SourceLocation(file: siteOverlay.file),
                    "lookup \(key.apiVersion) \(key.kind) \(key.namespace.isEmpty ? "" : key.namespace + "/")\(key.name) is not in the site's recorded cluster reads; it returned an empty map",
                    fix: "run `pattern diff \(site)` against the cluster to record it"))
            }
        }
        for o in chain {
            rendered.apply.recordNamespace = o.apply.recordNamespace ?? rendered.apply.recordNamespace
            rendered.apply.namespaces = o.apply.namespaces ?? rendered.apply.namespaces
            rendered.apply.pruneKinds = o.apply.pruneKinds ?? rendered.apply.pruneKinds
        }
        return rendered
    }

    /// `.Capabilities` and `lookup` for the site's charts, per its `cluster.helm`.
    func helmInputs(_ chain: [OverlaySpec], site: String, warnings: inout [Diagnostic]) -> ChartComponentRenderer.HelmInputs {
        let settings = OverlaySpec.helmSettings(chain)
        var inputs = ChartComponentRenderer.HelmInputs()
        let reads = helmReads?.site == site ? helmReads : nil
        if settings.capabilities == .discover {
            if let caps = reads?.discoveredCapabilities() { inputs.discovered = caps } else {
                warnings.append(Diagnostic(.warning, at: SourceLocation(file: chain.last!.file),
                    "cluster.helm.capabilities is discover but no discovery of the cluster is recorded; charts see the declared capabilities",
                    fix: "run `pattern diff \(site)` against the cluster to record its version and API groups"))
            }
        }
        if settings.lookup != .off {
            inputs.lookup = .prefetch(reads?.lookups ?? LookupRecording(), lookupMisses ?? replayMisses ?? LookupMisses())
        }
        return inputs
    }

    /// `url` made absolute against `base` when it is a relative local path (`../upstream`,
    /// `./p.git`); URLs with a scheme, scp-like `host:path` and absolute paths are unchanged.
    static func anchorLocalURL(_ url: String, at base: String) -> String {
        if url.isEmpty || url.hasPrefix("/") || url.contains("://") { return url }
        if let colon = url.firstIndex(of: ":"), !url.hasPrefix("."), !url[..<colon].contains("/") { return url }
        let b = base.hasPrefix("/") ? base : currentDirectory() + (base == "." ? "" : "/" + base)
        return b + "/" + url
    }

    func readValueFile(_ path: String, base: TreePath, tree: any SourceTree, prefix: String, referrer: String, mark: Mark,
                       diagnostics: inout [Diagnostic]) -> Value? {
        // A leading '/' means "from the repository root", as in Validated Patterns.
        let p: TreePath
        do { p = path.hasPrefix("/") ? try TreePath(String(path.dropFirst())) : try base.resolving(path) } catch {
            diagnostics.append(.error("value file '\(path)': \(error)", at: SourceLocation(file: referrer, mark: mark)))
            return nil
        }
        guard tree.resolvedKind(p) == .file else {
            diagnostics.append(.error("value file \(prefix + p.string) does not exist", at: SourceLocation(file: referrer, mark: mark),
                                      fix: "create it or remove it from valueFiles"))
            return nil
        }
        do {
            let v = try Workspace(tree: tree, yamlLimits: workspace.yamlLimits).single(p)
            if v.isNull { return nil }
            guard v.object != nil else {
                diagnostics.append(.error("value file must hold a map, found \(v.typeName)", at: SourceLocation(file: prefix + p.string, mark: v.mark)))
                return nil
            }
            return v
        } catch {
            diagnostics += error.items.map { $0.prefixingFiles(prefix) }
            return nil
        }
    }
}
