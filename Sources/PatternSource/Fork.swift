import CGit2
import PatternCore

/// `pattern fork` and `pattern update`: a working clone of an upstream pattern repository
/// that keeps local edits (site overlays, value changes) and takes upstream changes by a
/// three-way merge.
///
/// A fork is an ordinary git repository with:
/// - a remote named `upstream` (URL without credentials);
/// - config `pattern.upstream` (the redacted upstream URL) and `pattern.upstreamRef` (the
///   upstream branch or tag `pattern update` merges by default).
public enum Fork {
    /// What `create` did.
    public struct Created: Sendable {
        public var directory: String
        /// Local branch checked out.
        public var branch: String
        /// Upstream ref recorded in `pattern.upstreamRef`.
        public var upstreamRef: String
        /// Commit the fork starts at.
        public var commit: String
        public var upstreamURL: String
    }

    /// A file that differs between two commits.
    public struct FileChange: Sendable, Hashable, CustomStringConvertible {
        public enum Status: String, Sendable, Hashable { case added, modified, deleted, renamed, typeChanged = "type-changed" }
        public var path: String
        public var status: Status
        public var description: String { "\(status.rawValue): \(path)" }
    }

    /// What `update` did or, with `dryRun`, would do.
    public struct UpdateResult: Sendable {
        public enum Outcome: Sendable, Hashable {
            /// Upstream has nothing the fork does not already contain.
            case upToDate
            /// Merged cleanly and committed (commit id).
            case merged(commit: String)
            /// The fork had no commits of its own: the branch now points at the upstream commit.
            case fastForwarded(commit: String)
            /// Merge stopped with conflicts; the repository is left mid-merge for plain git.
            case conflicted
            /// Dry run: a merge would be clean.
            case wouldMerge
            /// Dry run: a merge would conflict in `conflicts`.
            case wouldConflict
        }
        public var outcome: Outcome
        public var upstreamRef: String
        public var upstreamCommit: String
        public var mergeBase: String?
        /// Files changed upstream since the merge base.
        public var upstreamChanges: [FileChange]
        /// Files changed in the fork since the merge base (local edits).
        public var localChanges: [FileChange]
        /// Files with conflicts (actual or predicted), sorted.
        public var conflicts: [String]
        public var warnings: [String]
    }

    /// Clones `upstream` into `directory` (which must not exist or be empty) with the remote
    /// named `upstream`, checks out `ref` (a branch: same-named local branch; a tag or commit:
    /// the default branch reset to it) and records the upstream in the repository config.
    public static func create(upstream: String, into directory: String, ref: String? = nil,
                              credentials: GitCredentials = .none,
                              environment: SourceEnvironment = .process) throws(SourceError) -> Created {
        let url = try GitURL(upstream)
        let creds = try credentials.materialize(for: url, environment: environment)
        let redactor = Redactor(secrets: url.secrets + creds.secrets)
        if FS.exists(directory), let entries = try? LocalTree(root: directory).list(.root), !entries.isEmpty {
            throw SourceError(.repositoryState, "'\(directory)' already exists and is not empty",
                              fix: "choose a new directory for the fork")
        }
        let existed = FS.exists(directory)
        do {
            return try createClone(url: url, creds: creds, redactor: redactor, into: directory, ref: ref, credentials: credentials)
        } catch {
            // A failed fork leaves nothing behind: not a half-made clone, not a directory we made.
            if existed { FS.removeContents(of: directory) } else { FS.removeTree(directory) }
            throw error
        }
    }

    static func createClone(url: GitURL, creds: GitCredentials.Materialized, redactor: Redactor, into directory: String,
                            ref: String?, credentials: GitCredentials) throws(SourceError) -> Created {
        try Git.withLibrary { () throws(SourceError) -> Created in
            var opts = git_clone_options()
            git_clone_options_init(&opts, UInt32(GIT_CLONE_OPTIONS_VERSION))
            cgit2_clone_options_use_upstream_remote(&opts)
            opts.fetch_opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL
            let repo: Repo = try Network.with(caBundle: credentials.caBundle) { () throws(SourceError) -> Repo in
                try creds.withPayload { (payload) throws(SourceError) -> Repo in
                    cgit2_fetch_options_set_credentials(&opts.fetch_opts, payload)
                    var p: OpaquePointer?
                    let rc = git_clone(&p, url.transportURL, directory, &opts)
                    if rc < 0 {
                        var e = Git.error(rc, "cannot clone \(url.redacted)", redactor: redactor)
                        if payload?.pointee.rejected == 1 { e.kind = .authentication }
                        throw e
                    }
                    return Repo(pointer: p!, path: directory)
                }
            }
            var branch = currentBranch(repo) ?? "main"
            let upstreamRef: String
            if let ref {
                if let oid = repo.referenceTarget("refs/remotes/upstream/" + ref) {
                    if ref != branch {
                        try createBranch(repo, name: ref, at: oid, upstream: "upstream/" + ref)
                        try checkout(repo, branch: ref)
                        branch = ref
                    }
                } else if let oid = resolveUpstream(repo, ref) {
                    try resetHard(repo, to: oid)
                } else {
                    throw SourceError(.refNotFound, "ref '\(ref)' not found at \(url.redacted)",
                                      fix: "give an upstream branch, tag or full commit id")
                }
                upstreamRef = ref
            } else {
                upstreamRef = branch
            }
            try repo.setConfigString("pattern.upstream", url.redacted)
            try repo.setConfigString("pattern.upstreamRef", upstreamRef)
            guard let head = repo.commitId(revision: "HEAD") else { throw SourceError(.git, "fork has no HEAD commit") }
            return Created(directory: directory, branch: branch, upstreamRef: upstreamRef,
                           commit: Git.oidString(head), upstreamURL: url.redacted)
        }
    }

    /// Fetches `upstream` and three-way merges `ref` (default: `pattern.upstreamRef`) into the
    /// checked-out branch. Clean → a merge commit naming the upstream commit. Conflicts → the
    /// repository is left as `git merge` leaves it (MERGE_HEAD, conflict markers, unmerged
    /// index) so `git add … && git commit` or `git merge --abort` finishes it. `dryRun` only
    /// fetches and reports what would change and what would conflict.
    ///
    /// When the fork has no commits of its own since the merge base, the branch is
    /// fast-forwarded instead (no merge commit); `ffOnly` refuses anything else. Upstream
    /// files that would overwrite untracked files in the working tree stop the update, as
    /// `git merge` does. An explicit `ref` becomes the new `pattern.upstreamRef`.
    public static func update(directory: String, ref: String? = nil, dryRun: Bool = false, ffOnly: Bool = false,
                              credentials: GitCredentials = .none,
                              environment: SourceEnvironment = .process) throws(SourceError) -> UpdateResult {
        try Git.withLibrary { () throws(SourceError) -> UpdateResult in
            let repo = try Repo.open(directory)
            guard !repo.isBare else { throw SourceError(.repositoryState, "'\(directory)' is a bare repository; update needs a working clone") }
            let state = git_repository_state(repo.pointer)
            if state != Int32(GIT_REPOSITORY_STATE_NONE.rawValue) {
                throw SourceError(.repositoryState, "'\(directory)' is in the middle of a merge or other operation",
                                  fix: "finish it (resolve, `git add`, `git commit`) or abort it (`git merge --abort`) first")
            }
            var remote: OpaquePointer?
            if git_remote_lookup(&remote, repo.pointer, "upstream") < 0 {
                git_error_clear()
                throw SourceError(.repositoryState, "'\(directory)' has no remote named 'upstream'",
                                  fix: "create forks with `pattern fork`, or `git remote add upstream <url>`")
            }
            defer { git_remote_free(remote) }
            let url = try GitURL(String(cString: git_remote_url(remote)))
            let creds = try credentials.materialize(for: url, environment: environment)
            let redactor = Redactor(secrets: url.secrets + creds.secrets)

            var opts = git_fetch_options()
            git_fetch_options_init(&opts, UInt32(GIT_FETCH_OPTIONS_VERSION))
            opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL
            try Network.with(caBundle: credentials.caBundle) { () throws(SourceError) in
                try creds.withPayload { (payload) throws(SourceError) in
                    cgit2_fetch_options_set_credentials(&opts, payload)
                    let rc = git_remote_fetch(remote, nil, &opts, "pattern update: fetch upstream")
                    if rc < 0 {
                        var e = Git.error(rc, "cannot fetch upstream \(url.redacted)", redactor: redactor)
                        if payload?.pointee.rejected == 1 { e.kind = .authentication }
                        throw e
                    }
                }
            }

            let upstreamRef = ref ?? repo.configString("pattern.upstreamRef") ?? "main"
            guard let theirs = resolveUpstream(repo, upstreamRef) else {
                throw SourceError(.refNotFound, "upstream ref '\(upstreamRef)' not found at \(url.redacted)",
                                  fix: "pass --ref with an upstream branch, tag or commit")
            }
            guard let ours = repo.commitId(revision: "HEAD") else {
                throw SourceError(.repositoryState, "'\(directory)' has no commit checked out")
            }
            var o = ours, t = theirs, base = git_oid()
            var baseId: git_oid? = nil
            if git_merge_base(&base, repo.pointer, &o, &t) == 0 { baseId = base } else { git_error_clear() }

            var result = UpdateResult(outcome: .upToDate, upstreamRef: upstreamRef, upstreamCommit: Git.oidString(theirs),
                                      mergeBase: baseId.map { Git.oidString($0) }, upstreamChanges: [], localChanges: [],
                                      conflicts: [], warnings: [])
            func remember() throws(SourceError) {
                if !dryRun, let ref, ref != repo.configString("pattern.upstreamRef") {
                    try repo.setConfigString("pattern.upstreamRef", ref)
                }
            }
            if let baseId, git_oid_equal(&t, &base) == 1 || git_oid_equal(&t, &o) == 1 {
                _ = baseId
                try remember()
                return result
            }
            result.upstreamChanges = try diff(repo, from: baseId, to: theirs)
            result.localChanges = try diff(repo, from: baseId, to: ours)
            let canFastForward = baseId.map { Git.oidEqual($0, ours) } ?? false
            if ffOnly && !canFastForward {
                throw SourceError(.repositoryState,
                    "cannot fast-forward to upstream \(upstreamRef) at \(Git.oidString(theirs).prefix(12)): the fork has commits of its own",
                    fix: "run `pattern update` without --ff-only to merge (local edits are kept)")
            }
            let incoming = Set(result.upstreamChanges.filter { $0.status != .deleted }.map(\.path))
            let clobbered = try untrackedFiles(repo).filter { incoming.contains($0) }

            if dryRun {
                result.conflicts = canFastForward ? [] : try predictConflicts(repo, ours: ours, theirs: theirs)
                if !clobbered.isEmpty {
                    result.warnings.append("untracked files would be overwritten: \(clobbered.joined(separator: ", "))")
                }
                result.outcome = result.conflicts.isEmpty && clobbered.isEmpty ? .wouldMerge : .wouldConflict
                return result
            }

            let dirty = try dirtyFiles(repo)
            if !dirty.isEmpty {
                throw SourceError(.repositoryState,
                    "uncommitted changes in \(dirty.prefix(10).joined(separator: ", "))\(dirty.count > 10 ? " and \(dirty.count - 10) more" : "")",
                    fix: "commit or stash local edits before `pattern update` (committed edits are kept by the merge)")
            }
            if !clobbered.isEmpty {
                throw SourceError(.repositoryState,
                    "untracked working tree files would be overwritten by the update: \(clobbered.prefix(10).joined(separator: ", "))\(clobbered.count > 10 ? " and \(clobbered.count - 10) more" : "")",
                    fix: "move or remove them (or `git add` and commit them) before `pattern update`")
            }

            if canFastForward {
                var target: OpaquePointer?
                try Git.check(git_object_lookup(&target, repo.pointer, &t, GIT_OBJECT_COMMIT), "cannot read upstream commit")
                defer { git_object_free(target) }
                var co = git_checkout_options()
                git_checkout_options_init(&co, UInt32(GIT_CHECKOUT_OPTIONS_VERSION))
                co.checkout_strategy = GIT_CHECKOUT_SAFE.rawValue
                try Git.check(git_checkout_tree(repo.pointer, target, &co), "cannot check out upstream \(Git.oidString(theirs).prefix(12))")
                var head: OpaquePointer?
                if git_repository_head(&head, repo.pointer) == 0, git_reference_is_branch(head) == 1 {
                    defer { git_reference_free(head) }
                    var moved: OpaquePointer?
                    try Git.check(git_reference_set_target(&moved, head, &t, "pattern update: fast-forward to \(upstreamRef)"),
                                  "cannot move the branch")
                    git_reference_free(moved)
                } else {
                    git_reference_free(head)
                    git_error_clear()
                    try Git.check(git_repository_set_head_detached(repo.pointer, &t), "cannot move HEAD")
                }
                result.outcome = .fastForwarded(commit: Git.oidString(theirs))
                try remember()
                return result
            }

            var annotated: OpaquePointer?
            try Git.check(git_annotated_commit_lookup(&annotated, repo.pointer, &t), "cannot read upstream commit")
            defer { git_annotated_commit_free(annotated) }
            var mergeOpts = git_merge_options()
            git_merge_options_init(&mergeOpts, UInt32(GIT_MERGE_OPTIONS_VERSION))
            var checkoutOpts = git_checkout_options()
            git_checkout_options_init(&checkoutOpts, UInt32(GIT_CHECKOUT_OPTIONS_VERSION))
            checkoutOpts.checkout_strategy = GIT_CHECKOUT_SAFE.rawValue | GIT_CHECKOUT_ALLOW_CONFLICTS.rawValue
            var heads: [OpaquePointer?] = [annotated]
            let mrc = heads.withUnsafeMutableBufferPointer { buf in
                git_merge(repo.pointer, buf.baseAddress, 1, &mergeOpts, &checkoutOpts)
            }
            try Git.check(mrc, "merge of upstream \(Git.oidString(theirs).prefix(12)) failed")

            let message = mergeMessage(url: url.redacted, ref: upstreamRef, commit: Git.oidString(theirs))
            var index: OpaquePointer?
            try Git.check(git_repository_index(&index, repo.pointer), "cannot read index")
            defer { git_index_free(index) }
            try remember()
            if git_index_has_conflicts(index) == 1 {
                result.conflicts = try conflictPaths(index)
                result.outcome = .conflicted
                var msg = message + "\n# Conflicts:\n"
                for c in result.conflicts { msg += "#\t\(c)\n" }
                try FS.writeFile(repo.gitDir + "MERGE_MSG", Array(msg.utf8))
                return result
            }
            var treeId = git_oid()
            try Git.check(git_index_write_tree(&treeId, index), "cannot write merged tree")
            var tree: OpaquePointer?
            try Git.check(git_tree_lookup(&tree, repo.pointer, &treeId), "cannot read merged tree")
            defer { git_tree_free(tree) }
            var ourCommit: OpaquePointer?, theirCommit: OpaquePointer?
            try Git.check(git_commit_lookup(&ourCommit, repo.pointer, &o), "cannot read HEAD")
            defer { git_commit_free(ourCommit) }
            try Git.check(git_commit_lookup(&theirCommit, repo.pointer, &t), "cannot read upstream commit")
            defer { git_commit_free(theirCommit) }
            let sig = try repo.signature()
            defer { git_signature_free(sig) }
            var newId = git_oid()
            var parents: [OpaquePointer?] = [ourCommit, theirCommit]
            let crc = parents.withUnsafeMutableBufferPointer { buf in
                git_commit_create(&newId, repo.pointer, "HEAD", sig, sig, nil, message, tree, 2, buf.baseAddress)
            }
            try Git.check(crc, "cannot commit the merge")
            try Git.check(git_repository_state_cleanup(repo.pointer), "cannot clean up merge state")
            result.outcome = .merged(commit: Git.oidString(newId))
            return result
        }
    }

    static func mergeMessage(url: String, ref: String, commit: String) -> String {
        "Merge upstream \(ref) at \(commit.prefix(12))\n\nUpstream: \(url)\nUpstream-Ref: \(ref)\nUpstream-Commit: \(commit)\n"
    }

    // MARK: helpers (all run inside Git.withLibrary on one thread)

    static func currentBranch(_ repo: Repo) -> String? {
        var head: OpaquePointer?
        guard git_repository_head(&head, repo.pointer) == 0 else { git_error_clear(); return nil }
        defer { git_reference_free(head) }
        guard git_reference_is_branch(head) == 1 else { return nil }
        return String(cString: git_reference_shorthand(head))
    }

    static func resolveUpstream(_ repo: Repo, _ ref: String) -> git_oid? {
        if let oid = Git.parseOid(ref) { return repo.hasCommit(oid) ? oid : nil }
        for candidate in ["refs/remotes/upstream/" + ref, "refs/tags/" + ref] where repo.referenceTarget(candidate) != nil {
            if let oid = repo.commitId(revision: candidate) { return oid }
        }
        if ref.hasPrefix("refs/") { return repo.commitId(revision: ref) }
        return nil
    }

    static func createBranch(_ repo: Repo, name: String, at oid: git_oid, upstream: String) throws(SourceError) {
        var o = oid
        var commit: OpaquePointer?
        try Git.check(git_commit_lookup(&commit, repo.pointer, &o), "cannot read commit")
        defer { git_commit_free(commit) }
        var branch: OpaquePointer?
        try Git.check(git_branch_create(&branch, repo.pointer, name, commit, 1), "cannot create branch \(name)")
        defer { git_reference_free(branch) }
        try Git.check(git_branch_set_upstream(branch, upstream), "cannot set upstream of \(name)")
    }

    static func checkout(_ repo: Repo, branch: String) throws(SourceError) {
        try Git.check(git_repository_set_head(repo.pointer, "refs/heads/" + branch), "cannot switch to \(branch)")
        var co = git_checkout_options()
        git_checkout_options_init(&co, UInt32(GIT_CHECKOUT_OPTIONS_VERSION))
        co.checkout_strategy = GIT_CHECKOUT_FORCE.rawValue
        try Git.check(git_checkout_head(repo.pointer, &co), "cannot check out \(branch)")
    }

    static func resetHard(_ repo: Repo, to oid: git_oid) throws(SourceError) {
        var o = oid
        var obj: OpaquePointer?
        try Git.check(git_object_lookup(&obj, repo.pointer, &o, GIT_OBJECT_COMMIT), "cannot read commit")
        defer { git_object_free(obj) }
        try Git.check(git_reset(repo.pointer, obj, GIT_RESET_HARD, nil), "cannot reset to \(Git.oidString(oid).prefix(12))")
    }

    static func treeOf(_ repo: Repo, _ oid: git_oid) throws(SourceError) -> OpaquePointer {
        var o = oid
        var c: OpaquePointer?
        try Git.check(git_commit_lookup(&c, repo.pointer, &o), "cannot read commit")
        defer { git_commit_free(c) }
        var t: OpaquePointer?
        try Git.check(git_commit_tree(&t, c), "cannot read tree")
        return t!
    }

    static func diff(_ repo: Repo, from base: git_oid?, to target: git_oid) throws(SourceError) -> [FileChange] {
        let newTree = try treeOf(repo, target)
        defer { git_tree_free(newTree) }
        var oldTree: OpaquePointer? = nil
        if let base { oldTree = try treeOf(repo, base) }
        defer { if let oldTree { git_tree_free(oldTree) } }
        var d: OpaquePointer?
        try Git.check(git_diff_tree_to_tree(&d, repo.pointer, oldTree, newTree, nil), "cannot diff trees")
        defer { git_diff_free(d) }
        var out: [FileChange] = []
        for i in 0..<git_diff_num_deltas(d) {
            guard let delta = git_diff_get_delta(d, i)?.pointee else { continue }
            let status: FileChange.Status
            switch delta.status {
            case GIT_DELTA_ADDED: status = .added
            case GIT_DELTA_DELETED: status = .deleted
            case GIT_DELTA_RENAMED: status = .renamed
            case GIT_DELTA_TYPECHANGE: status = .typeChanged
            default: status = .modified
            }
            let p = delta.status == GIT_DELTA_DELETED ? delta.old_file.path : delta.new_file.path
            out.append(FileChange(path: p.map { String(cString: $0) } ?? "?", status: status))
        }
        return out.sorted { $0.path < $1.path }
    }

    static func predictConflicts(_ repo: Repo, ours: git_oid, theirs: git_oid) throws(SourceError) -> [String] {
        var o = ours, t = theirs
        var oc: OpaquePointer?, tc: OpaquePointer?
        try Git.check(git_commit_lookup(&oc, repo.pointer, &o), "cannot read HEAD")
        defer { git_commit_free(oc) }
        try Git.check(git_commit_lookup(&tc, repo.pointer, &t), "cannot read upstream commit")
        defer { git_commit_free(tc) }
        var index: OpaquePointer?
        try Git.check(git_merge_commits(&index, repo.pointer, oc, tc, nil), "cannot simulate the merge")
        defer { git_index_free(index) }
        return git_index_has_conflicts(index) == 1 ? try conflictPaths(index) : []
    }

    static func conflictPaths(_ index: OpaquePointer?) throws(SourceError) -> [String] {
        var it: OpaquePointer?
        try Git.check(git_index_conflict_iterator_new(&it, index), "cannot list conflicts")
        defer { git_index_conflict_iterator_free(it) }
        var paths = Set<String>()
        var a: UnsafePointer<git_index_entry>?, o: UnsafePointer<git_index_entry>?, t: UnsafePointer<git_index_entry>?
        while git_index_conflict_next(&a, &o, &t, it) == 0 {
            if let e = o ?? t ?? a, let p = e.pointee.path { paths.insert(String(cString: p)) }
        }
        git_error_clear()
        return paths.sorted()
    }

    /// Untracked (not ignored) files of the working tree, recursively.
    static func untrackedFiles(_ repo: Repo) throws(SourceError) -> [String] {
        var so = git_status_options()
        git_status_options_init(&so, UInt32(GIT_STATUS_OPTIONS_VERSION))
        so.show = GIT_STATUS_SHOW_WORKDIR_ONLY
        so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED.rawValue | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS.rawValue
            | GIT_STATUS_OPT_EXCLUDE_SUBMODULES.rawValue
        var list: OpaquePointer?
        try Git.check(git_status_list_new(&list, repo.pointer, &so), "cannot read working tree status")
        defer { git_status_list_free(list) }
        var out: [String] = []
        for i in 0..<git_status_list_entrycount(list) {
            guard let e = git_status_byindex(list, i)?.pointee, e.status.rawValue & GIT_STATUS_WT_NEW.rawValue != 0 else { continue }
            if let p = e.index_to_workdir?.pointee.new_file.path { out.append(String(cString: p)) }
        }
        return out.sorted()
    }

    static func dirtyFiles(_ repo: Repo) throws(SourceError) -> [String] {
        var so = git_status_options()
        git_status_options_init(&so, UInt32(GIT_STATUS_OPTIONS_VERSION))
        so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR
        so.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES.rawValue
        var list: OpaquePointer?
        try Git.check(git_status_list_new(&list, repo.pointer, &so), "cannot read working tree status")
        defer { git_status_list_free(list) }
        var out: [String] = []
        for i in 0..<git_status_list_entrycount(list) {
            guard let e = git_status_byindex(list, i)?.pointee else { continue }
            if e.status == GIT_STATUS_CURRENT { continue }
            let delta = e.head_to_index ?? e.index_to_workdir
            if let p = delta?.pointee.new_file.path ?? delta?.pointee.old_file.path { out.append(String(cString: p)) }
        }
        return out.sorted()
    }
}
