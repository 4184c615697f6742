import PatternCore
import PatternDiff
import Helm

/// A cluster an `ApplicationSet`'s `clusters` generator can choose: one of the pattern's sites.
public struct ApplicationSetCluster: Sendable, Hashable {
    /// The site name (`{{name}}`).
    public var name: String
    /// `{{server}}`: the site's cluster name when it has one, else the site name.
    public var server: String
    public var labels: [String: String]
    public init(name: String, server: String, labels: [String: String]) { self.name = name; self.server = server; self.labels = labels }
}

/// Everything expansion reads besides the objects themselves.
public struct ExpansionContext: Sendable {
    /// The pattern's own checkout (and the overlay repository): read at the render's commit.
    public var repositories: [KnownRepository]
    /// Other git repositories; nil: such sources are errors.
    public var repoResolver: (any ApplicationRepoResolver)?
    public var charts: any ChartRepositoryResolver
    /// The site's `.Capabilities` for Helm sources.
    public var capabilities: Capabilities
    /// The pattern's sites, for `ApplicationSet` `clusters` generators (read only when one is used).
    public var clusters: @Sendable () throws(Diagnostics) -> [ApplicationSetCluster]
    public var limits: YAMLLimits
    /// Nesting limit of Applications inside Applications.
    public var maxDepth: Int
    /// Objects at most in one expansion (all levels together).
    public var maxObjects: Int
    /// The cluster being rendered for: which `destination`s are "here" (see `Destinations`).
    public var localCluster: LocalCluster = LocalCluster()

    public init(repositories: [KnownRepository], repoResolver: (any ApplicationRepoResolver)? = nil,
                charts: any ChartRepositoryResolver = UnavailableChartRepositories(), capabilities: Capabilities = Capabilities(),
                clusters: @escaping @Sendable () throws(Diagnostics) -> [ApplicationSetCluster] = { [] },
                limits: YAMLLimits = .default, maxDepth: Int = 10, maxObjects: Int = 100_000, localCluster: LocalCluster = LocalCluster()) {
        self.repositories = repositories; self.repoResolver = repoResolver; self.charts = charts
        self.capabilities = capabilities; self.clusters = clusters; self.limits = limits
        self.maxDepth = maxDepth; self.maxObjects = maxObjects; self.localCluster = localCluster
    }
}

/// An object of a render, with where it came from.
public struct ExpandedObject: Sendable {
    public var object: Value
    /// The file it was read from, as users see it.
    public var file: String
    /// The pattern component it belongs to (an expanded Application's objects take the
    /// Application's component).
    public var component: String
    /// Positions from the outermost Application down (see `SyncOrdering`).
    public var order: [SyncOrdering.Position]

    public init(object: Value, file: String, component: String, order: [SyncOrdering.Position] = []) {
        self.object = object; self.file = file; self.component = component; self.order = order
    }
}

/// The result of expanding a render.
public struct Expansion: Sendable {
    public var objects: [ExpandedObject]
    /// `ignoreDifferences` of every expanded Application, each scoped to the objects that
    /// Application expanded into (`IgnoreRule.scope`; a nested Application's objects are its own).
    public var ignoreRules: [IgnoreRule]
    public var warnings: [Diagnostic]
    /// Applications (and ApplicationSet-generated ones) expanded, all levels.
    public var applications: Int
}

/// Expands Argo CD `Application`s and `ApplicationSet`s in a render into the objects Argo CD
/// would sync: each source rendered with pattern's engines, namespaced objects without a
/// namespace placed in the destination namespace, nested Applications expanded in turn (with
/// a depth limit and cycle detection), sync waves and hooks turned into apply ordering, sync
/// options applied. Objects that are not Applications pass through unchanged.
public struct ApplicationExpander: Sendable {
    public var context: ExpansionContext
    public init(context: ExpansionContext) { self.context = context }

    /// True when `objects` hold something to expand.
    public static func hasApplications(_ objects: [Value]) -> Bool {
        objects.contains { Application.isApplication($0) || ApplicationSetGenerator.isApplicationSet($0) }
    }

    public func expand(_ objects: [ExpandedObject]) throws(Diagnostics) -> Expansion {
        var run = ExpansionRun(context: context)
        var out = try run.process(objects, depth: 0, stack: [], prefix: [])
        if run.applications > 0 { SyncOrdering.link(&out) }
        return Expansion(objects: out, ignoreRules: run.ignoreRules, warnings: run.warnings, applications: run.applications)
    }
}

struct ExpansionRun {
    let context: ExpansionContext
    var ignoreRules: [IgnoreRule] = []
    var warnings: [Diagnostic] = []
    var applications = 0
    var produced = 0
    /// Fetched trees by normalized URL and revision.
    var fetched: [String: (tree: any SourceTree, display: String)] = [:]
    /// Argo CD repository Secrets seen so far (each level's objects add theirs before its
    /// Applications fetch their charts).
    var credentials = RepositoryCredentials()

    init(context: ExpansionContext) { self.context = context }

    /// One Application of a level, decoded, with its sources' checkouts resolved.
    struct RenderJob: Sendable {
        var index: Int
        var app: Application
        var sources: [(source: ApplicationSource, checkout: SourceRenderer.Checkout)]
        var refs: [String: SourceRenderer.Checkout]
    }

    mutating func process(_ objects: [ExpandedObject], depth: Int, stack: [String],
                          prefix: [SyncOrdering.Position]) throws(Diagnostics) -> [ExpandedObject] {
        // The Applications of this level are decoded and their checkouts resolved in order,
        // then their sources rendered concurrently (they are independent, like chart components).
        var rendered: [Int: (Application, Result<[(Value, String)], Diagnostics>)] = [:]
        var jobs: [RenderJob] = []
        var problems: [Diagnostic] = []
        var failed: Set<Int> = []
        credentials.collect(objects.map { ($0.object, $0.file) })
        for (i, item) in objects.enumerated() where Application.isApplication(item.object) {
            guard case .at? = try? SyncOrdering.placement(of: item.object) else { continue }
            do {
                let app = try Application.decode(item.object, file: item.file)
                let (sources, refs) = try checkouts(app)
                jobs.append(RenderJob(index: i, app: app, sources: sources, refs: refs))
            } catch {
                problems += error.items
                failed.insert(i)
            }
        }
        let chartWarnings = ChartWarningSink()
        let renderer = SourceRenderer(context: context, warnings: chartWarnings)
        let results = ParallelMap.map(jobs, minimum: 2) { job in
            Result { () throws(Diagnostics) in try renderer.renderAll(job.sources, refs: job.refs, app: job.app) }
        }
        warnings += chartWarnings.all
        for (k, job) in jobs.enumerated() { rendered[job.index] = (job.app, results[k]) }

        var out: [ExpandedObject] = []
        for (i, item) in objects.enumerated() where !failed.contains(i) {
            let loc = SourceLocation(file: item.file, mark: item.object.mark)
            let placement: SyncOrdering.Placement
            do { placement = try SyncOrdering.placement(of: item.object) } catch {
                problems.append(Diagnostic(error.severity, at: loc, error.message, fix: error.fix)); continue
            }
            guard case .at(let position) = placement else {
                if case .skipped(let why) = placement, depth > 0 {
                    warnings.append(Diagnostic(.warning, at: loc, "\(item.object.kindName ?? "object") \(item.object.metadataName ?? "") left out: \(why)"))
                }
                if depth > 0 { continue }
                out.append(item); continue
            }
            do {
                if ApplicationSetGenerator.isApplicationSet(item.object) {
                    let generated = try ApplicationSetGenerator(context: context).generate(item.object, file: item.file, fetch: { url, rev throws(Diagnostics) in
                        try self.checkoutTree(url: url, revision: rev, at: loc)
                    })
                    let children = generated.map { ExpandedObject(object: $0, file: item.file, component: item.component) }
                    out += try process(children, depth: depth + 1, stack: stack, prefix: prefix + [position])
                } else if let (app, result) = rendered[i] {
                    out += try expandApplication(item, app: app, rendered: result, position: position, depth: depth, stack: stack, prefix: prefix)
                } else {
                    // Objects outside any Application keep pattern's own ordering.
                    var o = item
                    o.order = prefix.isEmpty ? [] : prefix + [position]
                    out.append(o)
                }
            } catch {
                problems += error.items
            }
        }
        if !problems.isEmpty { throw Diagnostics(problems) }
        return out
    }

    mutating func expandApplication(_ item: ExpandedObject, app: Application, rendered result: Result<[(Value, String)], Diagnostics>,
                                    position: SyncOrdering.Position, depth: Int, stack: [String],
                                    prefix: [SyncOrdering.Position]) throws(Diagnostics) -> [ExpandedObject] {
        let loc = SourceLocation(file: item.file, mark: item.object.mark)
        let id = "\(app.namespace ?? "")/\(app.name)"
        switch try Destinations.target(of: app, local: context.localCluster, clusters: context.clusters, at: loc) {
        case .here: break
        case .otherSite(let site):
            warnings.append(Diagnostic(.warning, at: loc, "Application \(app.name) deploys to site '\(site)' (spec.destination), not to this one: it is expanded in \(site)'s render, not here",
                                       fix: "render the Application in site '\(site)' (e.g. from a component both sites use), or point spec.destination at this cluster"))
            return []
        }
        if let i = stack.firstIndex(of: id) {
            throw Diagnostics([.error("Applications include each other in a cycle: \((stack[i...] + [id]).joined(separator: " → "))", at: loc,
                                      fix: "remove the Application that points back at one of its parents")])
        }
        if depth >= context.maxDepth {
            throw Diagnostics([.error("Applications are nested more than \(context.maxDepth) levels deep (\((stack + [id]).joined(separator: " → ")))",
                                      at: loc, fix: "flatten the app-of-apps tree")])
        }
        applications += 1
        var rendered = try result.get()
        produced += rendered.count
        if produced > context.maxObjects {
            throw Diagnostics([.error("expanding Applications produced more than \(context.maxObjects) objects", at: loc,
                                      fix: "check the Application tree for a source that renders far more than intended")])
        }

        // Objects the sources render are Argo CD's to place: namespaced objects without a
        // namespace go to the destination namespace (custom resources are namespaced unless
        // a CRD in the same output says otherwise).
        var clusterScopedCRKinds: Set<GroupKind> = []
        for (v, _) in rendered where v.kindName == "CustomResourceDefinition" {
            if v[path: ["spec", "scope"]]?.string == "Cluster", let g = v[path: ["spec", "group"]]?.string,
               let k = v[path: ["spec", "names", "kind"]]?.string { clusterScopedCRKinds.insert(GroupKind(group: g, kind: k)) }
        }
        var problems: [Diagnostic] = []
        var children: [ExpandedObject] = []
        var hasNamespace = false
        for (var v, file) in rendered.indices.map({ rendered[$0] }) {
            guard let av = v.apiVersion, let kind = v.kindName else { children.append(ExpandedObject(object: v, file: file, component: item.component)); continue }
            let gk = GroupVersionKind(apiVersion: av, kind: kind).groupKind
            let clusterScoped = KindTable.isClusterScoped(gk) || clusterScopedCRKinds.contains(gk)
            if !clusterScoped, (v.metadataNamespace ?? "").isEmpty, let ns = app.destination.namespace, !ns.isEmpty {
                v[path: ["metadata", "namespace"]] = .string(ns)
            }
            if kind == "Namespace", v.metadataName == app.destination.namespace { hasNamespace = true }
            var pruneDisabled = app.syncOptions.pruneDisabled
            if let text = v.annotations[SyncOrdering.syncOptionsAnnotation]?.string {
                var o = SyncOptions()
                let entries = text.split(separator: ",").map { (String($0).trimmed, v.mark) }
                SyncOptions.parse(entries, file: file, into: &o, problems: &problems)
                if o.pruneDisabled { pruneDisabled = true }
            }
            if pruneDisabled { v[path: ["metadata", "annotations", "pattern.dev/prune"]] = "disabled" }
            children.append(ExpandedObject(object: v, file: file, component: item.component))
        }
        rendered = []
        if !problems.isEmpty { throw Diagnostics(problems) }
        if app.syncOptions.createNamespace, let ns = app.destination.namespace, !ns.isEmpty, !hasNamespace {
            var meta: Value = ["name": .string(ns)]
            if !app.managedNamespaceLabels.isEmpty { meta["labels"] = .object(app.managedNamespaceLabels) }
            if !app.managedNamespaceAnnotations.isEmpty { meta["annotations"] = .object(app.managedNamespaceAnnotations) }
            children.insert(ExpandedObject(object: ["apiVersion": "v1", "kind": "Namespace", "metadata": meta],
                                           file: item.file, component: item.component), at: 0)
        }
        if !app.ignoreDifferences.isEmpty {
            // Scoped to this Application's own objects (a nested Application is one of them;
            // what it expands into is governed by its own rules), as Argo CD does.
            var scope: Set<ObjectKey> = []
            for c in children { if let k = c.object.objectKey { scope.insert(k) } }
            for var r in app.ignoreDifferences {
                r.scope = scope
                ignoreRules.append(r)
            }
        }
        return try process(children, depth: depth + 1, stack: stack + [id], prefix: prefix + [position])
    }

    // MARK: Sources

    /// The checkouts of an Application's rendered sources and of its `ref` sources.
    mutating func checkouts(_ app: Application) throws(Diagnostics)
        -> ([(source: ApplicationSource, checkout: SourceRenderer.Checkout)], [String: SourceRenderer.Checkout]) {
        var refs: [String: SourceRenderer.Checkout] = [:]
        var out: [(source: ApplicationSource, checkout: SourceRenderer.Checkout)] = []
        var problems: [Diagnostic] = []
        for var s in app.sources {
            let sloc = SourceLocation(file: app.file, mark: s.mark)
            // Argo CD 3's OCI source: `repoURL: oci://host/path/chart` with `path: .` and no
            // `chart`. A Helm chart artifact is read as the chart `chart` of `oci://host/path`.
            if RepoURL.isOCI(s.repoURL), s.chart == nil, s.ref == nil, [nil, "", ".", "./"].contains(s.path) {
                var url = s.repoURL
                while url.hasSuffix("/") { url.removeLast() }
                if let slash = url.lastIndex(of: "/"), url.distance(from: url.startIndex, to: slash) > 6 {
                    s.chart = String(url[url.index(after: slash)...])
                    s.repoURL = String(url[..<slash])
                    s.path = nil
                }
            }
            do {
                if let ref = s.ref {
                    var c = try checkout(s, at: sloc)
                    c.appPath = c.root
                    refs[ref] = c
                }
                if s.path != nil || s.chart != nil { out.append((s, try checkout(s, at: sloc))) }
            } catch {
                problems += error.items
            }
        }
        if !problems.isEmpty { throw Diagnostics(problems) }
        return (out, refs)
    }

    mutating func checkout(_ s: ApplicationSource, at loc: SourceLocation) throws(Diagnostics) -> SourceRenderer.Checkout {
        if let chart = s.chart {
            let access: ChartRepositoryAccess
            do throws(Diagnostic) { access = try credentials.access(for: s.repoURL) } catch { throw Diagnostics([error]) }
            // Argo CD's Helm OCI form: `repoURL: registry.example.com/charts` (no scheme) with a
            // repository Secret that has `enableOCI: "true"`.
            var repoURL = s.repoURL
            if access.oci && !RepoURL.isOCI(repoURL) && !repoURL.contains("://") { repoURL = "oci://" + repoURL }
            do {
                let r = try context.charts.chart(repoURL: repoURL, chart: chart, version: s.targetRevision, access: access)
                return SourceRenderer.Checkout(tree: r.tree, root: .root, appPath: r.path, display: r.display)
            } catch {
                // The resolver's own diagnostics: their messages and fixes, not their printed form.
                let items = (error as? Diagnostics)?.items ?? ((error as? Diagnostic).map { [$0] } ?? [])
                let message = items.isEmpty ? "\(error)" : items.map(\.message).joined(separator: "; ")
                let fixes = items.compactMap(\.fix) + ["vendor the chart into the repository (charts/\(chart)) and point the source at it with path:"]
                throw Diagnostics([.error("chart \(chart) from \(s.repoURL): \(message)", at: loc, fix: fixes.joined(separator: "; or "))])
            }
        }
        if RepoURL.isOCI(s.repoURL) {
            throw Diagnostics([.error("source \(s.repoURL) is an OCI artifact with a path inside it: only Helm chart artifacts are supported (path: .)", at: loc,
                                      fix: "point repoURL at the chart (oci://host/path/<chart>, path: ., targetRevision: <version>), or use a git repository")])
        }
        let (tree, display) = try checkoutTree(url: s.repoURL, revision: s.targetRevision, at: loc)
        let appPath: TreePath
        do { appPath = try TreePath(s.path ?? "") } catch {
            throw Diagnostics([.error("source path '\(s.path ?? "")': \(error)", at: loc, fix: "use a path relative to the repository root")])
        }
        return SourceRenderer.Checkout(tree: tree, root: .root, appPath: appPath, display: display)
    }

    /// The pattern's own repository at the render's commit when `url` names it (the
    /// source's `targetRevision` is then not used: the render is of one commit), else the
    /// repository fetched through the resolver.
    mutating func checkoutTree(url: String, revision: String?, at loc: SourceLocation) throws(Diagnostics) -> (any SourceTree, String) {
        let norm = RepoURL.normalized(url)
        for r in context.repositories where r.urls.contains(where: { RepoURL.normalized($0) == norm }) {
            return (r.tree, r.displayPrefix)
        }
        let rev = (revision == nil || revision == "" || revision == "HEAD") ? nil : revision
        let cacheKey = norm + "@" + (rev ?? "")
        if let hit = fetched[cacheKey] { return hit }
        guard let resolver = context.repoResolver else {
            throw Diagnostics([.error("source repository \(url) is not the pattern's own repository, and git sources are not available here", at: loc,
                                      fix: "point repoURL at the pattern repository (\(context.repositories.flatMap(\.urls).first ?? "its remote URL")), or render with git access")])
        }
        do {
            let r = try resolver.tree(url: url, revision: rev)
            fetched[cacheKey] = r
            return r
        } catch let d as Diagnostics {
            throw d
        } catch {
            throw Diagnostics([.error("cannot fetch \(url)\(rev.map { "@" + $0 } ?? ""): \(error)", at: loc,
                                      fix: "check the URL and targetRevision, or use a cached commit")])
        }
    }
}
