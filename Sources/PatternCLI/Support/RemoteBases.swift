import PatternCore
import PatternSource
import Kustomize

/// Fetches remote Kustomize bases (`github.com/org/repo//dir?ref=v1.2.3`, …) through
/// PatternSource's git source cache: content-addressed bare repositories, mirrors of branches
/// and tags, last-good commits, offline mode and network deadlines, exactly as git pattern
/// sources. A ref is pinned when it is a full commit id or resolves to a tag.
public struct GitRemoteBaseLoader: RemoteBaseLoader {
    public let resolver: SourceResolver
    /// URL prefixes replaced before fetching, like git's `url.<base>.insteadOf` (first match
    /// wins): `("https://github.com/", "git://mirror.internal/github/")` serves remote bases
    /// from an internal mirror without editing the kustomizations.
    public var rewrites: [(prefix: String, replacement: String)]

    public init(resolver: SourceResolver, rewrites: [(prefix: String, replacement: String)] = []) {
        self.resolver = resolver
        self.rewrites = rewrites
    }

    /// The URL actually fetched for `url`.
    public func fetchURL(_ url: String) -> String {
        for r in rewrites where url.hasPrefix(r.prefix) { return r.replacement + url.dropFirst(r.prefix.count) }
        return url
    }

    public func load(_ spec: RemoteSpec) throws(RemoteBaseError) -> RemoteBase {
        let ref = spec.ref.isEmpty ? nil : spec.ref
        let url = fetchURL(spec.cloneURL)
        let resolved: ResolvedSource
        do throws(SourceError) { resolved = try resolver.resolve(GitSource(url: url, ref: ref)) } catch {
            throw RemoteBaseError(error.message, fix: error.fix ?? "check the repository URL and ref, or vendor the base into the repository")
        }
        guard let commit = resolved.commit else {
            throw RemoteBaseError("'\(spec.cloneURL)' did not resolve to a commit", fix: "reference a git repository")
        }
        var pinned = spec.refIsCommit
        if !pinned, let ref { pinned = resolver.refIsTag(url: url, ref: ref) }
        return RemoteBase(tree: resolved.tree, commit: commit, pinned: pinned)
    }
}
