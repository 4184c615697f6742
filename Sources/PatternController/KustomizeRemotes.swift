import PatternCore
import PatternSource
import PatternCompile
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

/// Downloads plain `https://…/file.yaml` Kustomize resources through PatternSource's HTTP
/// client into the source cache (see `HTTPFileResolver`: content-addressed, pinned by
/// `#sha256=`, offline replay).
public struct HTTPRemoteFileLoader: RemoteFileLoader {
    public let resolver: SourceResolver

    public init(resolver: SourceResolver) { self.resolver = resolver }

    public func loadFile(_ url: RemoteFileURL, maxBytes: Int) throws(RemoteBaseError) -> RemoteFile {
        do throws(SourceError) {
            let f = try HTTPFileResolver(settings: resolver).fetch(url.url, sha256: url.sha256, maxBytes: maxBytes)
            return RemoteFile(bytes: f.bytes, stale: f.stale)
        } catch {
            throw RemoteBaseError(error.message, fix: error.fix ?? "check the URL, or vendor the file into the repository")
        }
    }
}

extension RemotePolicy {
    /// Remote bases, remote files and `helmCharts:` charts with `repo:` through `resolver`'s cache, offline and freshness
    /// settings: what `pattern render <dir>`, site compiles and the controller use.
    public static func sourceCache(_ resolver: SourceResolver, allowUnpinned: Bool = false) -> RemotePolicy {
        RemotePolicy(loader: GitRemoteBaseLoader(resolver: resolver), allowUnpinned: allowUnpinned,
                     files: HTTPRemoteFileLoader(resolver: resolver), charts: CachedRemoteChartLoader(resolver: resolver))
    }
}

/// Site compiles take remote bases and files from the resolver they already use for
/// `pattern.git` (`SiteCompiler` asks its resolver for them), so render, validate, diff,
/// apply and the controller resolve them through one cache.
extension GitPatternResolver: KustomizeRemoteResolver {
    public func kustomizeRemotes(allowUnpinned: Bool) -> RemotePolicy { .sourceCache(resolver, allowUnpinned: allowUnpinned) }
}
