import PatternCore

/// A repository an Application source can read without fetching: the pattern's own checkout
/// at the render's commit (and the overlay repository when it is another one).
public struct KnownRepository: Sendable {
    /// URLs that name this repository (compared with `RepoURL.normalized`).
    public var urls: [String]
    public var tree: any SourceTree
    /// Prefix for file names shown in messages ("" for the workspace itself).
    public var displayPrefix: String
    public init(urls: [String], tree: any SourceTree, displayPrefix: String = "") {
        self.urls = urls; self.tree = tree; self.displayPrefix = displayPrefix
    }
}

/// Fetches git repositories other than the known ones (PatternSource's source cache in the
/// CLI and the controller; offline rules apply there).
public protocol ApplicationRepoResolver: Sendable {
    /// The tree of `url` at `revision` (nil: the default branch).
    func tree(url: String, revision: String?) throws -> (tree: any SourceTree, display: String)
}

/// Fetches charts from chart repositories (`https://` index or `oci://`).
public protocol ChartRepositoryResolver: Sendable {
    /// The chart directory or archive of `chart` at `version` in `repoURL`.
    func chart(repoURL: String, chart: String, version: String?) throws -> (tree: any SourceTree, path: TreePath, display: String)
    /// The same with the access an Argo CD repository Secret gives (`RepositoryCredentials`):
    /// credentials and plain HTTP for OCI registries. The default ignores `access`.
    func chart(repoURL: String, chart: String, version: String?, access: ChartRepositoryAccess) throws -> (tree: any SourceTree, path: TreePath, display: String)
}

extension ChartRepositoryResolver {
    public func chart(repoURL: String, chart: String, version: String?, access: ChartRepositoryAccess) throws -> (tree: any SourceTree, path: TreePath, display: String) {
        try self.chart(repoURL: repoURL, chart: chart, version: version)
    }
}

/// The resolver used until chart repositories are wired in: every request is an error.
public struct UnavailableChartRepositories: ChartRepositoryResolver {
    public init() {}
    public func chart(repoURL: String, chart: String, version: String?) throws -> (tree: any SourceTree, path: TreePath, display: String) {
        throw SourceTreeError(path: repoURL, message: "chart repositories are not available yet in this build")
    }
}

/// Repository URL comparison as Argo CD normalizes (`git.NormalizeGitURL`): scheme,
/// credentials, case, a trailing `/` and `.git` do not matter; `git@host:path` equals
/// `ssh://git@host/path`.
public enum RepoURL {
    public static func normalized(_ url: String) -> String {
        var s = url.trimmed.lowercased()
        if let r = s.firstRange(of: "://") { s = String(s[r.upperBound...]) }
        else if let colon = s.firstIndex(of: ":"), !s[..<colon].contains("/") {
            // scp-like git@host:path
            s = String(s[..<colon]) + "/" + String(s[s.index(after: colon)...])
        }
        if let at = s.firstIndex(of: "@"), let slash = s.firstIndex(of: "/"), at < slash { s = String(s[s.index(after: at)...]) }
        while s.hasSuffix("/") { s.removeLast() }
        if s.hasSuffix(".git") { s.removeLast(4) }
        while s.hasSuffix("/") { s.removeLast() }
        return s
    }

    /// True for chart repositories pattern cannot read as git: OCI and Helm index URLs are
    /// told apart by the source's `chart` field, not by the URL.
    public static func isOCI(_ url: String) -> Bool { url.lowercased().hasPrefix("oci://") }
}
