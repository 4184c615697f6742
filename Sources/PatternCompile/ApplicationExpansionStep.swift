import PatternCore
import PatternDiff
import ArgoCD
import Helm

/// What the post-render Application step did.
struct ApplicationStepResult {
    var mode: ApplicationsMode
    var count: Int
    var ignoreRules: [IgnoreRule]
    var warnings: [Diagnostic]
}

extension SiteCompiler {
    /// The post-render hook for Argo CD: every `Application` and `ApplicationSet` in the site's
    /// objects — from any component, a plain directory, a Kustomize build or a chart such as
    /// Validated Patterns' clustergroup — is expanded into the objects it would sync when the
    /// site says `applications: expand` (or the caller overrides it). Runs after components
    /// are built and substituted, before overlay patches, so patches and checks see the
    /// expanded objects.
    func expandApplicationsStep(_ objects: inout [RenderedObject], site: String, chain: [OverlaySpec], values: Value, patternTree: any SourceTree,
                                ref: PatternRef?, layoutDefault: ApplicationsMode? = nil, diagnostics: inout [Diagnostic]) -> ApplicationStepResult {
        let mode: ApplicationsMode = expandApplications.map { $0 ? .expand : .keep }
            ?? chain.reversed().compactMap(\.applications).first ?? layoutDefault ?? .keep
        var result = ApplicationStepResult(mode: mode, count: 0, ignoreRules: [], warnings: [])
        guard mode == .expand, ApplicationExpander.hasApplications(objects.map(\.object)) else { return result }

        let capabilities: Capabilities
        do { capabilities = try ChartComponentRenderer.capabilities(chain) } catch {
            diagnostics += error.items
            return result
        }
        let expander = ApplicationExpander(context: ExpansionContext(
            repositories: ownRepositories(values: values, patternTree: patternTree, ref: ref),
            repoResolver: resolver.map { ResolverRepositories(resolver: $0) },
            charts: chartRepositories ?? (resolver as? any ChartArchiveResolver).map { ArchiveChartRepositories(archives: $0) }
                ?? UnavailableChartRepositories(),
            capabilities: capabilities,
            clusters: { [workspace] () throws(Diagnostics) in try SiteCompiler.sitesAsClusters(workspace) },
            limits: workspace.yamlLimits, localCluster: LocalCluster(names: Set([site] + chain.reversed().compactMap(\.cluster.name).prefix(1)))))
        do {
            let expansion = try expander.expand(objects.map { ExpandedObject(object: $0.object, file: $0.file, component: $0.component) })
            objects = expansion.objects.map { e in
                let key = e.object.objectKey ?? ObjectKey(group: "", kind: e.object.kindName ?? "", namespace: "", name: e.object.metadataName ?? "")
                return RenderedObject(object: e.object, key: key, component: e.component, file: e.file)
            }
            result.count = expansion.applications
            result.ignoreRules = expansion.ignoreRules
            result.warnings = expansion.warnings
        } catch {
            diagnostics += error.items
        }
        return result
    }

    /// The repositories an Application may name as "this repository": the pattern's (its git
    /// URL and mirrors, or the local checkout's remotes) and the Validated Patterns value
    /// `global.repoURL`, each read at the render's commit.
    func ownRepositories(values: Value, patternTree: any SourceTree, ref: PatternRef?) -> [KnownRepository] {
        var urls: [String] = []
        if let u = values[path: ["global", "repoURL"]]?.string { urls.append(u) }
        var workspaceURLs = urls + repositoryURLs
        if let local = workspace.tree as? LocalTree { workspaceURLs += GitRemotes.urls(of: local.root) }
        if let git = ref?.git {
            let prefix = "\(git.url):"
            return [KnownRepository(urls: urls + [git.url] + git.mirrors, tree: patternTree, displayPrefix: prefix),
                    KnownRepository(urls: workspaceURLs, tree: workspace.tree)]
        }
        return [KnownRepository(urls: workspaceURLs, tree: workspace.tree)]
    }

    /// The pattern's sites as clusters for ApplicationSet `clusters` generators.
    static func sitesAsClusters(_ ws: Workspace) throws(Diagnostics) -> [ApplicationSetCluster] {
        var out: [ApplicationSetCluster] = []
        for name in try ws.siteNames() {
            let chain = try ws.overlayChain(name)
            var labels: [String: String] = [:]
            for o in chain { for (k, v) in o.cluster.labels { labels[k] = v } }
            let clusterName = chain.reversed().compactMap(\.cluster.name).first
            out.append(ApplicationSetCluster(name: name, server: clusterName ?? name, labels: labels))
        }
        return out
    }
}

/// Git repositories other than the pattern's through the site compiler's resolver (the
/// source cache in the CLI and the controller).
struct ResolverRepositories: ApplicationRepoResolver {
    let resolver: any PatternSourceResolver
    func tree(url: String, revision: String?) throws -> (tree: any SourceTree, display: String) {
        let r = try resolver.resolve(PatternRef.GitRef(url: url, ref: revision, path: nil, mirrors: [], credentials: [:]))
        return (r.tree, "\(r.provenance.source)@\(r.provenance.commit.map { String($0.prefix(12)) } ?? "?"):")
    }
}

/// Application sources with `chart:` and a chart-repository `repoURL`, through the chart
/// components' resolver (PatternSource's `ChartSourceResolver` in the CLI and the controller:
/// one cache, the same offline, last-good and digest rules). `targetRevision` is the version
/// or semver constraint, as Argo CD reads it. An `oci://host/path` `repoURL` with `chart: name`
/// is the OCI chart `oci://host/path/name` (Helm's `helm pull oci://host/path/name`).
struct ArchiveChartRepositories: ChartRepositoryResolver {
    let archives: any ChartArchiveResolver
    func chart(repoURL: String, chart: String, version: String?) throws -> (tree: any SourceTree, path: TreePath, display: String) {
        try self.chart(repoURL: repoURL, chart: chart, version: version, access: .anonymous)
    }

    /// `access` comes from an Argo CD repository Secret: its username and password reach the
    /// fetch as values (never the ledger), `insecureOCIForceHttp` is plain HTTP.
    func chart(repoURL: String, chart: String, version: String?, access: ChartRepositoryAccess) throws -> (tree: any SourceTree, path: TreePath, display: String) {
        var ref = ChartRepositoryRef(repo: repoURL, mirrors: [], name: chart, version: version.flatMap { $0.isEmpty ? nil : $0 },
                                     digest: nil, credentials: [:], plainHTTP: access.plainHTTP && RepoURL.isOCI(repoURL), mark: Mark(line: 0, column: 0))
        if RepoURL.isOCI(repoURL) {
            // Helm's OCI form: `repoURL: oci://host/path` + `chart: web` is oci://host/path/web.
            var base = repoURL
            while base.hasSuffix("/") { base.removeLast() }
            ref.repo = base + "/" + chart
        }
        let secrets = ChartRepositorySecrets(username: access.username, password: access.password)
        let fetched = try secrets.isEmpty ? archives.fetchChart(ref) : archives.fetchChart(ref, secrets: secrets)
        let file = try TreePath(fetched.display)
        return (ArchiveFileTree(name: file, bytes: fetched.bytes, displayName: repoURL), file, repoURL.hasSuffix("/") ? repoURL : repoURL + "/")
    }
}

/// A tree holding one chart archive at its root (what `ChartLoader.load` reads as an archive).
struct ArchiveFileTree: SourceTree {
    let name: TreePath
    let bytes: [UInt8]
    let displayName: String
    func entryKind(_ path: TreePath) -> TreeEntryKind? { path == .root ? .directory : (path == name ? .file : nil) }
    func list(_ dir: TreePath) throws -> [TreeEntry] {
        guard dir == .root else { throw SourceTreeError(path: dir.description, message: "not a directory") }
        return [TreeEntry(name: name.description, kind: .file)]
    }
    func read(_ path: TreePath) throws -> [UInt8] {
        guard path == name else { throw SourceTreeError(path: path.description, message: "no such file") }
        return bytes
    }
    func readLink(_ path: TreePath) throws -> String { throw SourceTreeError(path: path.description, message: "not a symlink") }
    func fileSize(_ path: TreePath) -> Int? { path == name ? bytes.count : nil }
}

/// Remote URLs of a local git checkout, read from its config (`[remote "…"] url = …`).
/// What a local git checkout says about itself, read from its files (no git process): its
/// remotes (`.git/config`) and the checked-out branch (`HEAD`). Linked worktrees (`.git` a file
/// naming the directory) read their own `HEAD` and the common directory's config.
public enum GitRemotes {
    /// Every remote URL of the checkout at `root`, in config order.
    public static func urls(of root: String) -> [String] { remotes(of: root).map(\.url) }

    /// The URL of remote `name` (`origin` by default), nil when the checkout has none.
    public static func url(of root: String, remote name: String = "origin") -> String? {
        remotes(of: root).first { $0.name == name }?.url
    }

    /// The checked-out branch (`git rev-parse --abbrev-ref HEAD`); nil when HEAD is detached or
    /// `root` is not a checkout.
    public static func branch(of root: String) -> String? {
        guard let head = read(dirs(root).gitDir + "/HEAD").map({ String(decoding: $0, as: UTF8.self).trimming(TrimSet(characters: " \n")) }),
              head.hasPrefix("ref: refs/heads/") else { return nil }
        let b = String(head.dropFirst("ref: refs/heads/".count))
        return b.isEmpty ? nil : b
    }

    static func remotes(of root: String) -> [(name: String, url: String)] {
        parse(read(dirs(root).commonDir + "/config") ?? [])
    }

    private static func read(_ abs: String) -> [UInt8]? {
        try? LocalTree(root: "/").read(TreePath(String(abs.drop { $0 == "/" })))
    }

    /// The checkout's git directory (HEAD) and common directory (config).
    private static func dirs(_ root: String) -> (gitDir: String, commonDir: String) {
        let base = root.hasPrefix("/") ? root : currentDirectory() + "/" + root
        var gitDir = base + "/.git"
        // A linked worktree: `.git` is a file naming its directory; remotes are in the common one.
        guard let text = read(gitDir).map({ String(decoding: $0, as: UTF8.self) }), text.hasPrefix("gitdir:") else { return (gitDir, gitDir) }
        let d = String(text.dropFirst(7)).trimming(TrimSet(characters: " \n"))
        gitDir = d.hasPrefix("/") ? d : base + "/" + d
        guard let common = read(gitDir + "/commondir").map({ String(decoding: $0, as: UTF8.self).trimming(TrimSet(characters: " \n")) }) else { return (gitDir, gitDir) }
        return (gitDir, common.hasPrefix("/") ? common : gitDir + "/" + common)
    }

    static func parse(_ bytes: [UInt8]) -> [(name: String, url: String)] {
        var out: [(name: String, url: String)] = []
        var remote: String? = nil
        // Lines end at LF; a CR before it goes with the trimming, as git's config reader drops it.
        for raw in String(decoding: bytes, as: UTF8.self).linesAtLineFeeds(omittingEmptySubsequences: true) {
            let line = String(raw).trimming(.spacesTabsAndReturns)
            if line.hasPrefix("[") {
                // [remote "origin"]
                remote = line.hasPrefix("[remote ") ? String(line.dropFirst(8).drop { $0 == " " || $0 == "\"" }.prefix { $0 != "\"" && $0 != "]" }) : nil
                continue
            }
            guard let name = remote, line.hasPrefix("url") else { continue }
            let parts = line.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, String(parts[0]).trimming(.spacesAndTabs) == "url" else { continue }
            out.append((name, String(parts[1]).trimming(.spacesTabsAndReturns)))
        }
        return out
    }
}
