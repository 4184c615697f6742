import Glibc
import PatternCore
import PatternCompile
import PatternSource
import Helm
import KubeClient

/// Feeds the Helm charts of a site whose `cluster.helm` asks for it from its cluster:
/// `.Capabilities` from `/version` and discovery, `lookup` answers from read-only GET/LISTs.
///
/// The template functions are synchronous and never wait for the cluster: a render is a
/// pre-render pass in which `lookup` answers from what was read so far and collects the calls
/// it could not answer; those objects are then read (async, on this task) and the site is
/// compiled again, until a pass needs nothing new (a lookup whose arguments come from another
/// lookup's answer takes one more pass). Bounded: `maxPasses` passes, `maxLookups` reads.
/// What was read is stored in the site's cache (mode 0600) so `pattern render` and
/// `--offline` replay it byte for byte.
enum HelmClusterReading {
    static let maxPasses = 4
    static let maxLookups = 256

    /// `<cache>/helm-reads/<repo hash>-<site>.json`.
    static func recordPath(_ site: String, repo: RepoOptions) -> String {
        let dir = repo.source.cacheDir ?? SourceCache.defaultDirectory()
        let root = FileSystem.realpath(repo.repo) ?? repo.repo
        let safe = site.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x61 && $0 <= 0x7a) || $0 == 0x2d || $0 == 0x5f }
        return dir + "/helm-reads/" + String(SHA256.hex(root).prefix(16)) + "-" + (safe ? site : String(SHA256.hex(site).prefix(16))) + ".json"
    }

    /// The recorded reads of `site`, nil when none are recorded.
    static func load(_ site: String, repo: RepoOptions) throws(Diagnostic) -> HelmClusterReads? {
        let path = recordPath(site, repo: repo)
        guard FileSystem.exists(path) else { return nil }
        let slash = path.lastIndex(of: "/")!
        guard let name = try? TreePath(String(path[path.index(after: slash)...])),
              let bytes = try? LocalTree(root: String(path[..<slash])).read(name) else {
            throw Diagnostic.error("cannot read \(path)", at: SourceLocation(file: path), fix: "check the file's permissions or delete it")
        }
        let reads = try HelmClusterReads(decoding: try JSONParser.parse(bytes, file: path), file: path)
        return reads.site == site ? reads : nil
    }

    /// Stores `reads` (only the owner may read them: they can hold Secret data when the site
    /// allows `lookupSecrets`).
    static func save(_ reads: HelmClusterReads, repo: RepoOptions) throws {
        let path = recordPath(reads.site, repo: repo)
        let dir = String(path[..<path.lastIndex(of: "/")!])
        try FileSystem.makeDirectories(dir)
        _ = chmod(dir, 0o700)
        try FileSystem.write(path, JSONWriter.bytes(reads.encoded()), mode: 0o600)
    }

    /// Compiles `site` reading its cluster through `client` (when its `cluster.helm` reads the
    /// cluster), records what was read, and prints the render's warnings. Compile problems are
    /// printed and thrown as `ReportedFailure`.
    static func compile(_ site: String, repo: RepoOptions, client: KubeClient, settings: HelmClusterSettings,
                        chartReleases: ChartReleases = .install) async throws -> RenderedSite {
        var reads = HelmClusterReads(site: site)
        if settings.lookup == .replay || (settings.lookup == .off && settings.capabilities != .discover) {
            reads.lookups = (try load(site, repo: repo))?.lookups ?? LookupRecording()
        }
        if settings.capabilities == .discover {
            do {
                (reads.kubeVersion, reads.apiVersions) = try await discover(client)
            } catch {
                throw Diagnostic.error("cannot discover the cluster's version and API groups for site '\(site)': \(error)",
                                       fix: "check the connection, or set cluster.helm.capabilities: declared with cluster.kubeVersion/apiVersions")
            }
        }
        var compiler = SiteCompiler(workspace: repo.workspace, resolver: repo.source.resolver)
        compiler.chartReleases = chartReleases
        var reads_ = 0
        for pass in 1...maxPasses {
            let misses = LookupMisses()
            compiler.helmReads = reads
            compiler.lookupMisses = settings.lookup == .live ? misses : nil
            let result: Result<RenderedSite, Diagnostics>
            do { result = .success(try compiler.compile(site: site)) } catch { result = .failure(error) }
            let missing = misses.missing
            if missing.isEmpty {
                switch result {
                case .success(let r):
                    try save(reads, repo: repo)
                    if !r.warnings.isEmpty { Output.report(r.warnings) }
                    return r
                case .failure(let d):
                    Output.report(d.items)
                    throw ReportedFailure()
                }
            }
            if pass == maxPasses { break }
            for key in missing {
                reads_ += 1
                if reads_ > maxLookups {
                    throw Diagnostic.error("site '\(site)': the charts' lookup calls need more than \(maxLookups) reads",
                                           fix: "look up fewer objects (a LIST with an empty name reads a whole kind in one call)")
                }
                reads.lookups.entries[key] = try await read(key, client: client, settings: settings, site: site)
            }
        }
        throw Diagnostic.error("site '\(site)': lookup calls still asked for new objects after \(maxPasses) render passes (each lookup's arguments come from another lookup's answer)",
                               fix: "make lookup arguments depend on values, not on other lookups, at most \(maxPasses - 1) levels deep")
    }

    /// `.Capabilities` from the cluster: `/version`'s `gitVersion`; every served group/version
    /// (`/api`, `/apis`) and `group/version/Kind` of the preferred versions, as Helm's
    /// `GetVersionSet`; sorted.
    static func discover(_ client: KubeClient) async throws -> (String, [String]) {
        let version = try await client.serverVersion()
        guard let git = version["gitVersion"]?.string, KubeVersion(git) != nil else {
            throw Diagnostic.error("the server's /version has no usable gitVersion")
        }
        var set: Set<String> = []
        for v in try await client.sendJSON(.get, "/api")["versions"]?.array ?? [] { if let s = v.string { set.insert(s) } }
        for g in try await client.sendJSON(.get, "/apis")["groups"]?.array ?? [] {
            for v in g["versions"]?.array ?? [] { if let gv = v["groupVersion"]?.string { set.insert(gv) } }
        }
        for r in try await client.serverResources() { set.insert(r.groupVersion + "/" + r.kind) }
        return (git, set.sorted())
    }

    /// One `lookup`, read-only. A kind the server does not serve finds nothing (an empty map).
    /// Secrets only when the site allows them.
    static func read(_ key: LookupRecording.Key, client: KubeClient, settings: HelmClusterSettings, site: String) async throws -> Value {
        let gvk = GroupVersionKind(apiVersion: key.apiVersion, kind: key.kind)
        if gvk.group.isEmpty && key.kind == "Secret" && !settings.lookupSecrets {
            throw Diagnostic.error("site '\(site)': a chart looks up Secret \(key.namespace.isEmpty ? "" : key.namespace + "/")\(key.name.isEmpty ? "(all)" : key.name), and the site does not allow Secret lookups",
                                   fix: "set cluster.helm.lookupSecrets: true in the site's overlay (the Secret's data is then kept in the site's cache, readable only by you)")
        }
        do {
            if key.name.isEmpty {
                return LookupRecording.answer(items: try await client.list(gvk, namespace: key.namespace.isEmpty ? nil : key.namespace).items)
            }
            return LookupRecording.answer(object: try await client.getIfPresent(gvk, name: key.name, namespace: key.namespace.isEmpty ? nil : key.namespace))
        } catch {
            if case .unknownKind = error { return .emptyObject }
            throw Diagnostic.error("site '\(site)': lookup \(key.apiVersion) \(key.kind) \(key.namespace)/\(key.name) failed: \(error)",
                                   fix: "check the identity's read access to that kind, or set cluster.helm.lookup: off")
        }
    }
}
