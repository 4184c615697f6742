import CGit2
import PatternCore

/// Writes rendered manifests as the *complete* content of a branch ("hydrated" branch), so a
/// GitOps agent or a reviewer can see exactly what will be applied.
///
/// Every call replaces the branch's tree with `files` (path → bytes; by convention one
/// directory per site, e.g. `hub/…`, `edge-1/…`): files not given are removed. Blobs and
/// trees are built in the object database with libgit2 (no working tree is touched); a commit
/// is made only when the resulting tree differs from the branch tip. The commit message
/// carries the source commit and the rendered revision as trailers.
///
/// The repository may be bare or not; the branch must not be the one checked out in a
/// non-bare repository (its working tree would silently go stale). A missing repository
/// directory is created as a bare repository. Concurrent hydrations of one repository are
/// serialized with an flock on `<git dir>/pattern-hydrate.lock`.
public struct Hydrator: Sendable {
    public var repository: String
    public var branch: String

    public init(repository: String, branch: String) {
        self.repository = repository
        self.branch = branch
    }

    /// Where the rendered content came from, for the commit message.
    public struct Provenance: Sendable, Hashable {
        /// Redacted source URL (or directory).
        public var sourceURL: String?
        public var sourceCommit: String?
        /// Content hash of the render.
        public var renderedRevision: String
        /// First line of the message; default "pattern: render <revision>".
        public var summary: String?
        /// True when the rendered repository had uncommitted changes: the content is not
        /// reproducible from `sourceCommit` alone.
        public var dirty: Bool
        /// Per site: where its pattern came from (`url@commit` or a directory), in order.
        public var sites: [(site: String, source: String)]

        public init(sourceURL: String? = nil, sourceCommit: String? = nil, renderedRevision: String, summary: String? = nil,
                    dirty: Bool = false, sites: [(site: String, source: String)] = []) {
            self.sourceURL = sourceURL
            self.sourceCommit = sourceCommit
            self.renderedRevision = renderedRevision
            self.summary = summary
            self.dirty = dirty
            self.sites = sites
        }

        public static func == (a: Provenance, b: Provenance) -> Bool {
            a.sourceURL == b.sourceURL && a.sourceCommit == b.sourceCommit && a.renderedRevision == b.renderedRevision
                && a.summary == b.summary && a.dirty == b.dirty && a.sites.map(\.site) == b.sites.map(\.site)
                && a.sites.map(\.source) == b.sites.map(\.source)
        }
        public func hash(into h: inout Hasher) { h.combine(renderedRevision); h.combine(sourceCommit) }

        var message: String {
            var m = (summary ?? "pattern: render \(renderedRevision.prefix(12))") + "\n\n"
            if let sourceURL { m += "Source: \(Redactor.redactURLs(in: sourceURL))\n" }
            if let sourceCommit { m += "Source-Commit: \(sourceCommit)\n" }
            if dirty { m += "Source-Dirty: true (rendered with uncommitted changes)\n" }
            for s in sites { m += "Site-Source: \(s.site) \(Redactor.redactURLs(in: s.source))\n" }
            m += "Rendered-Revision: \(renderedRevision)\n"
            return m
        }
    }

    /// The commit checked out in the work tree containing `path` and whether it has
    /// uncommitted changes (untracked files included); nil when `path` is not in a git work tree.
    public static func workTreeState(_ path: String) -> (root: String, commit: String?, dirty: Bool)? {
        Git.withLibrary { () -> (root: String, commit: String?, dirty: Bool)? in
            var p: OpaquePointer?
            guard git_repository_open_ext(&p, path, 0, nil) == 0, let p else { git_error_clear(); return nil }
            let repo = Repo(pointer: p, path: path)
            guard !repo.isBare, let root = repo.workDir else { return nil }
            let commit = repo.commitId(revision: "HEAD").map { Git.oidString($0) }
            var so = git_status_options()
            git_status_options_init(&so, UInt32(GIT_STATUS_OPTIONS_VERSION))
            so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR
            so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED.rawValue | GIT_STATUS_OPT_EXCLUDE_SUBMODULES.rawValue
            var list: OpaquePointer?
            var dirty = true
            if git_status_list_new(&list, repo.pointer, &so) == 0 {
                dirty = git_status_list_entrycount(list) > 0
                git_status_list_free(list)
            } else { git_error_clear() }
            var r = root
            while r.count > 1 && r.hasSuffix("/") { r.removeLast() }
            return (r, commit, dirty)
        }
    }

    public struct Result: Sendable, Hashable {
        /// The new commit, or nil when the tree was unchanged and nothing was committed.
        public var commit: String?
        /// Branch tip before the call (nil when the branch did not exist).
        public var previous: String?
        /// The tree id of the content.
        public var tree: String
        public var changed: Bool { commit != nil }
    }

    /// One directory per site: `sites[site][path]` is written as `<site>/<path>`.
    public func commit(sites: [String: [String: [UInt8]]], provenance: Provenance) throws(SourceError) -> Result {
        var files: [String: [UInt8]] = [:]
        for (site, siteFiles) in sites {
            if site.isEmpty || site.contains("/") || site == "." || site == ".." {
                throw SourceError(.invalidSource, "site name '\(site)' cannot be a directory name")
            }
            for (p, b) in siteFiles { files[site + "/" + p] = b }
        }
        return try commit(files: files, provenance: provenance)
    }

    public func commit(files: [String: [UInt8]], provenance: Provenance) throws(SourceError) -> Result {
        // Validate the branch and every path before touching the repository.
        try RefName.checkBranch(branch)
        var paths: [(TreePath, [UInt8])] = []
        for (p, bytes) in files {
            let tp: TreePath
            do { tp = try TreePath(p) } catch {
                throw SourceError(.pathEscapes, "hydrated file path '\(p)': \(error)")
            }
            if tp.isRoot || tp.components.contains(where: { $0 == ".git" || $0.isEmpty }) {
                throw SourceError(.pathEscapes, "hydrated file path '\(p)' is not allowed")
            }
            paths.append((tp, bytes))
        }
        let branchRef = "refs/heads/" + branch
        guard git_reference_is_valid_name(branchRef) == 1 else {
            throw SourceError(.invalidSource, "'\(branch)' is not a valid branch name")
        }

        return try Git.withLibrary { () throws(SourceError) -> Result in
            let repo: Repo
            if FS.exists(repository) {
                repo = try Repo.open(repository)
            } else {
                try FS.mkdirs(repository)
                repo = try Repo.initBare(repository)
            }
            let lock = try FileLock(path: repo.gitDir + "pattern-hydrate.lock")
            defer { lock.unlock() }
            if !repo.isBare, Fork.currentBranch(repo) == branch {
                throw SourceError(.repositoryState, "branch '\(branch)' is checked out in '\(repository)'",
                                  fix: "hydrate into a branch that is not checked out, or into a bare repository")
            }

            // Build the tree bottom-up.
            final class Dir { var files: [String: git_oid] = [:]; var dirs: [String: Dir] = [:] }
            let root = Dir()
            for (tp, bytes) in paths {
                var oid = git_oid()
                let rc = bytes.withUnsafeBytes { git_blob_create_from_buffer(&oid, repo.pointer, $0.baseAddress, $0.count) }
                try Git.check(rc, "cannot write blob for '\(tp.string)'")
                var d = root
                for c in tp.components.dropLast() {
                    if d.files[c] != nil { throw SourceError(.invalidSource, "'\(c)' in '\(tp.string)' is both a file and a directory") }
                    if let next = d.dirs[c] { d = next } else { let n = Dir(); d.dirs[c] = n; d = n }
                }
                if d.dirs[tp.name] != nil { throw SourceError(.invalidSource, "'\(tp.string)' is both a file and a directory") }
                d.files[tp.name] = oid
            }
            func write(_ d: Dir) throws(SourceError) -> git_oid {
                var tb: OpaquePointer?
                try Git.check(git_treebuilder_new(&tb, repo.pointer, nil), "cannot build tree")
                defer { git_treebuilder_free(tb) }
                for (name, oid) in d.files {
                    var o = oid
                    try Git.check(git_treebuilder_insert(nil, tb, name, &o, GIT_FILEMODE_BLOB), "cannot add '\(name)'")
                }
                for (name, sub) in d.dirs {
                    var o = try write(sub)
                    try Git.check(git_treebuilder_insert(nil, tb, name, &o, GIT_FILEMODE_TREE), "cannot add '\(name)'")
                }
                var out = git_oid()
                try Git.check(git_treebuilder_write(&out, tb), "cannot write tree")
                return out
            }
            var treeId = try write(root)

            let previous = repo.referenceTarget(branchRef)
            var parent: OpaquePointer? = nil
            defer { if let parent { git_commit_free(parent) } }
            if var prev = previous {
                try Git.check(git_commit_lookup(&parent, repo.pointer, &prev), "cannot read \(branch)")
                if git_oid_equal(git_commit_tree_id(parent), &treeId) == 1 {
                    return Result(commit: nil, previous: Git.oidString(prev), tree: Git.oidString(treeId))
                }
            }
            var tree: OpaquePointer?
            try Git.check(git_tree_lookup(&tree, repo.pointer, &treeId), "cannot read tree")
            defer { git_tree_free(tree) }
            let sig = try repo.signature()
            defer { git_signature_free(sig) }
            var newId = git_oid()
            var parents: [OpaquePointer?] = parent.map { [$0] } ?? []
            let rc = parents.withUnsafeMutableBufferPointer { buf in
                git_commit_create(&newId, repo.pointer, branchRef, sig, sig, nil, provenance.message, tree,
                                  buf.count, buf.baseAddress)
            }
            try Git.check(rc, "cannot commit to \(branch)")
            return Result(commit: Git.oidString(newId), previous: previous.map { Git.oidString($0) }, tree: Git.oidString(treeId))
        }
    }
}
