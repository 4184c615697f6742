import CGit2
import PatternCore

extension SourceResolver {
    /// Whether `ref` resolved to a tag in the cached repository of `url`: a `refs/tags/<ref>`
    /// exists and no `refs/heads/<ref>` (branches win in `resolve(_:)`). Call after resolving
    /// the source; false when the repository is not cached or `url` does not parse. Used to tell
    /// pinned refs (tags, commit ids) from moving ones (branches).
    public func refIsTag(url: String, ref: String) -> Bool {
        guard let u = try? GitURL(url) else { return false }
        let path = cache.repositoryPath(u)
        guard FS.isDirectory(path) else { return false }
        return Git.withLibrary { () -> Bool in
            guard let repo = try? Repo.open(path) else { return false }
            if repo.referenceTarget("refs/heads/" + ref) != nil { return false }
            return repo.referenceTarget("refs/tags/" + ref) != nil
        }
    }
}
