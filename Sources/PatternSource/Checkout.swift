import CGit2
import PatternCore

/// The git state of a local checkout (the overlay repository a site is read from): which
/// commit it is at, whether it has uncommitted changes, and where the repository directory sits
/// inside the work tree. Read with libgit2; nothing is written.
public struct CheckoutState: Sendable, Hashable {
    /// The repository's git directory (`…/.git`).
    public var gitDir: String
    /// HEAD's commit id (40 hex digits).
    public var commit: String
    /// True when a tracked file under `path` differs from HEAD (index or work tree), or an
    /// untracked, not ignored file exists there.
    public var dirty: Bool
    /// The inspected directory relative to the work tree's root ("" = the root).
    public var path: String

    /// The state of the checkout holding `directory` (found by walking up, as git does), nil
    /// when `directory` is not inside a git work tree or HEAD has no commit yet.
    public static func inspect(_ directory: String) -> CheckoutState? {
        Git.withLibrary { () -> CheckoutState? in
            guard let real = FS.realPath(directory) else { return nil }
            var p: OpaquePointer?
            guard git_repository_open_ext(&p, real, 0, nil) == 0, let p else { git_error_clear(); return nil }
            let repo = Repo(pointer: p, path: real)
            guard !repo.isBare, let work = repo.workDir.flatMap(FS.realPath), let head = repo.commitId(revision: "HEAD") else { return nil }
            let path: String
            if real == work { path = "" } else if real.hasPrefix(work + "/") { path = String(real.dropFirst(work.count + 1)) } else { return nil }
            return CheckoutState(gitDir: repo.gitDir, commit: Git.oidString(head), dirty: isDirty(repo, path: path), path: path)
        }
    }

    static func isDirty(_ repo: Repo, path: String) -> Bool {
        var opts = git_status_options()
        guard git_status_options_init(&opts, UInt32(GIT_STATUS_OPTIONS_VERSION)) == 0 else { return true }
        opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR
        opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED.rawValue | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS.rawValue
            | GIT_STATUS_OPT_EXCLUDE_SUBMODULES.rawValue
        return Git.withStrArray(path.isEmpty ? [] : [path + "/"]) { spec -> Bool in
            if !path.isEmpty { opts.pathspec = spec.pointee }
            var list: OpaquePointer?
            guard git_status_list_new(&list, repo.pointer, &opts) == 0 else { git_error_clear(); return true }
            defer { git_status_list_free(list) }
            return git_status_list_entrycount(list) > 0
        }
    }

    /// The files of `directory` (relative to the work tree) at `commit`, from the object
    /// database of the repository at `gitDir`: no checkout, nothing written.
    public static func tree(gitDir: String, commit: String, directory: String) throws(SourceError) -> GitTree {
        var sub = TreePath.root
        if !directory.isEmpty {
            do { sub = try TreePath(directory) } catch {
                throw SourceError(.pathEscapes, "checkout path '\(directory)': \(error)")
            }
        }
        return try Git.withLibrary { () throws(SourceError) -> GitTree in
            try GitTree(repository: gitDir, commit: commit, subdirectory: sub, url: "checkout")
        }
    }
}
