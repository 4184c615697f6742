import Glibc
import PatternCore
import PatternCompile
import PatternSource
import Helm
import KubeClient
import PatternController

/// Feeds the Helm charts of a site whose `cluster.helm` asks for it from its cluster, through
/// `HelmClusterReader` (PatternController: the passes, reads and bounds the controller uses
/// too). What was read is stored in the site's cache (mode 0600) so `pattern render` and
/// `--offline` replay it byte for byte.
enum HelmClusterReading {
    /// `<cache>/helm-reads/<repo hash>-<site>.json`.
    static func recordPath(_ site: String, repo: RepoContext) -> String {
        let dir = repo.cacheDir ?? SourceCache.defaultDirectory()
        let root = FileSystem.realpath(repo.repo) ?? repo.repo
        let safe = site.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x61 && $0 <= 0x7a) || $0 == 0x2d || $0 == 0x5f }
        return dir + "/helm-reads/" + String(SHA256.hex(root).prefix(16)) + "-" + (safe ? site : String(SHA256.hex(site).prefix(16))) + ".json"
    }

    /// The recorded reads of `site`, nil when none are recorded.
    static func load(_ site: String, repo: RepoContext) throws(Diagnostic) -> HelmClusterReads? {
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
    static func save(_ reads: HelmClusterReads, repo: RepoContext) throws {
        let path = recordPath(reads.site, repo: repo)
        let dir = String(path[..<path.lastIndex(of: "/")!])
        try FileSystem.makeDirectories(dir)
        _ = chmod(dir, 0o700)
        try FileSystem.write(path, JSONWriter.bytes(reads.encoded()), mode: 0o600)
    }

    /// Compiles `site` reading its cluster through `client` (when its `cluster.helm` reads the
    /// cluster; passes and bounds: `HelmClusterReader`), records what was read, and prints the
    /// render's warnings. Compile problems are printed and thrown as `ReportedFailure`.
    static func compile(_ site: String, repo: RepoContext, client: KubeClient, settings: HelmClusterSettings,
                        chartReleases: ChartReleases = .install) async throws -> RenderedSite {
        var reads = HelmClusterReads(site: site)
        if settings.lookup == .replay || (settings.lookup == .off && settings.capabilities != .discover) {
            reads.lookups = (try load(site, repo: repo))?.lookups ?? LookupRecording()
        }
        var compiler = SiteCompiler(workspace: repo.workspace, resolver: repo.resolver)
        compiler.chartReleases = chartReleases
        let (result, read) = try await HelmClusterReader.compile(site: site, settings: settings, client: client, reads: reads) { reads, misses in
            var c = compiler
            c.helmReads = reads
            c.lookupMisses = misses
            do throws(Diagnostics) { return .success(try c.compile(site: site)) } catch { return .failure(error) }
        }
        switch result {
        case .success(let r):
            try save(read, repo: repo)
            if !r.warnings.isEmpty { Output.report(r.warnings) }
            return r
        case .failure(let d):
            Output.report(d.items)
            throw ReportedFailure()
        }
    }
}
