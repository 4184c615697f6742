import PatternCore
import PatternCompile
import PatternSource

/// Resolves a site's `pattern.git` with libgit2 (cache, mirrors, stale fallback): the
/// compiler then reads the pattern straight from the git tree at the resolved commit.
/// The one resolver of the CLI and the controller.
public struct GitPatternResolver: PatternSourceResolver {
    public let resolver: SourceResolver

    public init(resolver: SourceResolver) { self.resolver = resolver }

    public func resolve(_ ref: PatternRef.GitRef) throws -> (tree: any SourceTree, directory: TreePath, provenance: Provenance, warnings: [String]) {
        let c = ref.credentials
        let creds = GitCredentials(username: c["username"], tokenEnv: c["tokenEnv"], tokenFile: c["tokenFile"], sshKey: c["sshKey"],
                                   sshPublicKey: c["sshPublicKey"], sshPassphraseEnv: c["sshPassphraseEnv"], caBundle: c["caBundle"])
        let source = GitSource(url: ref.url, mirrors: ref.mirrors, ref: ref.ref, path: ref.path, credentials: creds,
                               allowForcePush: ref.allowForcePush)
        let r = try resolver.resolve(source)
        var warnings = r.warnings.map(\.message)
        if r.stale {
            warnings.append("every URL of \(r.url ?? ref.url) failed: rendering the last good commit \(r.commit ?? "?") from the cache (stale)")
        }
        return (r.tree, .root, Provenance(source: r.url ?? ref.url, commit: r.commit, stale: r.stale), warnings)
    }
}
