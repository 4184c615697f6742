import CGit2
import PatternCore

/// Where a pattern comes from: a git repository (URL + mirrors, ref, path) or a local directory.
public enum Source: Sendable, Hashable {
    case git(GitSource)
    case directory(String)
}

/// A git source: URLs tried in order (primary first, then mirrors), a ref, and a directory
/// inside the repository.
public struct GitSource: Sendable, Hashable {
    /// Primary URL first, then mirrors. All must serve the same history.
    public var urls: [String]
    /// Branch, tag or full 40-hex commit id; nil = the remote's default branch (HEAD).
    /// A full commit id already in the cache is used without any network access.
    public var ref: String?
    /// Directory inside the repository to use as the tree root (nil = repository root).
    public var path: String?
    public var credentials: GitCredentials
    /// Accept a commit for `ref` that does not descend from the last good one (a deliberate
    /// force-push). Off by default: rewritten history is refused and the cache left as it was.
    public var allowForcePush: Bool
    /// When set, the resolved commit must carry a signature (SSH or OpenPGP) that verifies
    /// against one of these keys; otherwise resolving fails with `untrustedCommit` and the
    /// cache's refs and last-good pointers stay as they were.
    public var verify: CommitVerification?

    public init(url: String, mirrors: [String] = [], ref: String? = nil, path: String? = nil,
                credentials: GitCredentials = .none, allowForcePush: Bool = false, verify: CommitVerification? = nil) {
        self.urls = [url] + mirrors
        self.ref = ref
        self.path = path
        self.credentials = credentials
        self.allowForcePush = allowForcePush
        self.verify = verify
    }

    public init(urls: [String], ref: String? = nil, path: String? = nil, credentials: GitCredentials = .none,
                allowForcePush: Bool = false, verify: CommitVerification? = nil) {
        self.urls = urls
        self.ref = ref
        self.path = path
        self.credentials = credentials
        self.allowForcePush = allowForcePush
        self.verify = verify
    }

    /// Reads a source from a config value:
    /// ```yaml
    /// url: https://git.example.com/platform/pattern.git
    /// mirrors: [git://mirror.internal/pattern.git]
    /// ref: v1.4.0
    /// path: patterns/hub
    /// credentials: {tokenEnv: PATTERN_GIT_TOKEN, caBundle: /etc/pki/corp.pem}
    /// ```
    /// A plain string is a URL.
    public init(value: Value) throws(SourceError) {
        if let s = value.string { self.init(url: s); return }
        guard value.object != nil else {
            throw SourceError(.invalidSource, "a git source must be a URL string or a mapping with 'url'")
        }
        guard let url = value["url"]?.string else {
            throw SourceError(.invalidSource, "git source has no 'url'", fix: "add url: <repository URL>")
        }
        var mirrors: [String] = []
        if let m = value["mirrors"] {
            guard let arr = m.array, arr.allSatisfy({ $0.string != nil }) else {
                throw SourceError(.invalidSource, "'mirrors' must be a list of URLs")
            }
            mirrors = arr.compactMap(\.string)
        }
        var creds = GitCredentials()
        if let c = value["credentials"] {
            guard c.object != nil else { throw SourceError(.invalidSource, "'credentials' must be a mapping") }
            creds.username = c["username"]?.string
            creds.tokenEnv = c["tokenEnv"]?.string
            creds.tokenFile = c["tokenFile"]?.string
            creds.sshKey = c["sshKey"]?.string
            creds.sshPublicKey = c["sshPublicKey"]?.string
            creds.sshPassphraseEnv = c["sshPassphraseEnv"]?.string
            creds.caBundle = c["caBundle"]?.string
        }
        var verify: CommitVerification? = nil
        if let v = value["verify"] { verify = try CommitVerification(value: v) }
        self.init(url: url, mirrors: mirrors, ref: value["ref"]?.scalarText, path: value["path"]?.string, credentials: creds,
                  verify: verify)
    }
}

/// What resolving a source produced.
public struct ResolvedSource: Sendable {
    /// The files to render from.
    public var tree: any SourceTree
    /// Full commit id (nil for a local directory).
    public var commit: String?
    /// The URL the commit came from, redacted (for a stale result: the primary URL).
    public var url: String?
    /// The ref as requested (nil = default branch).
    public var ref: String?
    /// True when no remote could be reached and the last good commit from the cache was used.
    public var stale: Bool
    /// Failed mirrors, stale-cache notices, … (already redacted).
    public var warnings: [Diagnostic]

    /// One line for output annotations and ledgers: `url@commit` or the directory.
    public var provenance: String {
        guard let commit else { return tree.displayName }
        return "\(url ?? "?")@\(commit)" + (stale ? " (stale)" : "")
    }
}

/// The on-disk cache: one bare repository per source's primary URL.
///
/// Layout under `directory`:
/// ```
/// repos/<sha256(normalized URL) first 32 hex>.git/   bare repository
///     refs/heads/*, refs/tags/*                    mirror of the remote's branches and tags
///     refs/pattern/last-good/<sha256(ref) 16 hex>  last commit resolved for that ref
///     pattern-url                                  the redacted URL, for humans
/// repos/<…>.lock                                   flock(2) lock file, held while fetching/resolving
/// ```
public struct SourceCache: Sendable, Hashable {
    public var directory: String

    public init(directory: String) { self.directory = directory }

    /// `$PATTERN_CACHE_DIR`, else `$XDG_CACHE_HOME/pattern`, else `~/.cache/pattern`.
    public static func defaultDirectory() -> String {
        if let d = FS.env("PATTERN_CACHE_DIR") { return d }
        if let x = FS.env("XDG_CACHE_HOME") { return x + "/pattern" }
        if let h = FS.env("HOME") { return h + "/.cache/pattern" }
        return "/tmp/pattern-cache"
    }

    public static var `default`: SourceCache { SourceCache(directory: defaultDirectory()) }

    func key(_ url: GitURL) -> String {
        String(SHA256.hex(url.normalized).prefix(32))
    }

    /// Path of the bare repository caching `url`.
    public func repositoryPath(for url: String) throws(SourceError) -> String {
        directory + "/repos/" + key(try GitURL(url)) + ".git"
    }

    func repositoryPath(_ url: GitURL) -> String { directory + "/repos/" + key(url) + ".git" }
    func lockPath(_ url: GitURL) -> String { directory + "/repos/" + key(url) + ".lock" }
}

/// Resolves sources to trees: fetches into the cache, tries mirrors, falls back to the last
/// good commit. Blocking (runs libgit2 synchronously on the calling thread); call it from a
/// task that may block.
public struct SourceResolver: Sendable {
    public var cache: SourceCache
    /// Fail instead of using a stale cached commit when no URL is reachable.
    public var requireFresh: Bool
    /// Never touch the network; use what the cache has (pinned commits, last-good).
    public var offline: Bool
    /// Connect and low-speed deadlines for each URL tried; a URL that misses one fails over
    /// to the next.
    public var deadlines: NetworkDeadlines
    /// Where credential variables (`tokenEnv`, `sshPassphraseEnv`) are read.
    public var environment: SourceEnvironment

    public init(cache: SourceCache = .default, requireFresh: Bool = false, offline: Bool = false,
                deadlines: NetworkDeadlines = .default, environment: SourceEnvironment = .process) {
        self.cache = cache
        self.requireFresh = requireFresh
        self.offline = offline
        self.deadlines = deadlines
        self.environment = environment
    }

    public func resolve(_ source: Source) throws(SourceError) -> ResolvedSource {
        switch source {
        case .directory(let dir):
            guard FS.isDirectory(dir) else {
                throw SourceError(.pathNotFound, "source directory '\(dir)' does not exist", fix: "check the path")
            }
            return ResolvedSource(tree: LocalTree(root: dir), commit: nil, url: nil, ref: nil, stale: false, warnings: [])
        case .git(let g):
            return try resolve(g)
        }
    }

    public func resolve(_ source: GitSource) throws(SourceError) -> ResolvedSource {
        guard !source.urls.isEmpty else { throw SourceError(.invalidSource, "git source has no URL") }
        var urls: [GitURL] = []
        for u in source.urls { urls.append(try GitURL(u)) }
        let primary = urls[0]
        var secrets = urls.flatMap(\.secrets)
        var sub = TreePath.root
        if let p = source.path, !p.isEmpty {
            do { sub = try TreePath(p) } catch {
                throw SourceError(.pathEscapes, "source path '\(p)': \(error)", fix: "use a path relative to the repository root")
            }
        }
        let ref = source.ref.flatMap { $0.isEmpty ? nil : $0 }

        return try Git.withLibrary { () throws(SourceError) -> ResolvedSource in
            try FS.mkdirs(cache.directory + "/repos")
            let lock = try FileLock(path: cache.lockPath(primary))
            defer { lock.unlock() }
            let repoPath = cache.repositoryPath(primary)
            let repo: Repo
            if FS.isDirectory(repoPath) {
                do throws(SourceError) { repo = try Repo.open(repoPath) } catch {
                    throw SourceError(.io, "cache repository for \(primary.redacted) at '\(repoPath)' is damaged: \(error.message)",
                                      fix: "delete '\(repoPath)'; the next run fetches it again")
                }
            } else {
                repo = try Repo.initBare(repoPath)
                try? FS.writeFile(repoPath + "/pattern-url", Array((primary.redacted + "\n").utf8))
            }
            let lastGoodRef = "refs/pattern/last-good/" + String(SHA256.hex(ref ?? "HEAD").prefix(16))
            var warnings: [Diagnostic] = []

            func result(_ oid: git_oid, from url: GitURL, stale: Bool, verified: Bool = false) throws(SourceError) -> ResolvedSource {
                if !verified, let policy = source.verify { try CommitSignature.verify(repo: repo, commit: oid, policy: policy, url: url.redacted) }
                let tree = try GitTree(repository: repoPath, commit: Git.oidString(oid), subdirectory: sub, url: url.redacted)
                return ResolvedSource(tree: tree, commit: tree.commit, url: url.redacted, ref: ref, stale: stale, warnings: warnings)
            }

            // A pinned commit that is already cached never needs the network.
            if let ref, let oid = Git.parseOid(ref), repo.hasCommit(oid) {
                let r = try result(oid, from: primary, stale: false)
                if repo.referenceTarget(lastGoodRef).map({ !Git.oidEqual($0, oid) }) ?? true {
                    try repo.setReference(lastGoodRef, to: oid, message: "pattern: pinned")
                }
                return r
            }

            var failures: [String] = []
            var found: (git_oid, GitURL, Int)? = nil
            if !offline {
                for (i, url) in urls.enumerated() {
                    let creds = try source.credentials.materialize(for: url, environment: environment)
                    secrets += creds.secrets
                    let redactor = Redactor(secrets: secrets)
                    let defaultBranch: String?
                    do throws(SourceError) {
                        defaultBranch = try fetch(repo: repo, url: url, creds: creds, caBundle: source.credentials.caBundle, redactor: redactor)
                    } catch {
                        let msg = redactor(error.message)
                        failures.append(msg)
                        warnings.append(Diagnostic(.warning, at: nil, "source URL \(i + 1) of \(urls.count) failed: \(msg)"))
                        continue
                    }
                    // The URL answered: what it says about the ref is authoritative. Everything
                    // fetched sits in a staging namespace until it has been checked.
                    defer { clearStaging(repo) }
                    guard let oid = resolveRef(repo: repo, ref: ref, namespace: Self.staging, defaultBranch: defaultBranch) else {
                        throw SourceError(.refNotFound, redactor("ref '\(ref ?? "HEAD")' does not exist at \(url.redacted) (the URL answered; this is not an outage, so no cached commit is used)"),
                                          fix: "check the branch, tag or commit name; a deleted branch or tag must be renamed in the site")
                    }
                    switch try checkHistory(repo: repo, ref: ref, new: oid, lastGood: repo.referenceTarget(lastGoodRef),
                                            url: url, allowForcePush: source.allowForcePush) {
                    case .behind(let message):
                        failures.append(message)
                        warnings.append(Diagnostic(.warning, at: nil, redactor("source URL \(i + 1) of \(urls.count) refused: \(message)")))
                        continue
                    case .ok:
                        // A required signature is checked before anything in the cache moves.
                        if let policy = source.verify {
                            try CommitSignature.verify(repo: repo, commit: oid, policy: policy, url: url.redacted)
                        }
                        try promoteStaging(repo, defaultBranch: defaultBranch, warnings: &warnings, url: url)
                        found = (oid, url, i)
                    }
                    break
                }
            }
            if let (oid, url, i) = found {
                // Tree errors (missing path, …) are the source's fault, not the URL's: no fallback.
                let r = try result(oid, from: url, stale: false, verified: true)
                // A no-op fetch leaves the pointer as it is (no ref lock, write and rename).
                if repo.referenceTarget(lastGoodRef).map({ !Git.oidEqual($0, oid) }) ?? true {
                    try repo.setReference(lastGoodRef, to: oid, message: "pattern: fetched from \(url.redacted)")
                }
                if i > 0 {
                    var r = r
                    r.warnings.append(Diagnostic(.warning, at: nil,
                        "used mirror \(url.redacted) because \(i == 1 ? "the primary URL" : "\(i) earlier URLs") failed",
                        fix: "check \(urls[0].redacted)"))
                    return r
                }
                return r
            }

            let redactor = Redactor(secrets: secrets)
            let why = offline ? "offline mode" : "every URL failed (\(failures.joined(separator: "; ")))"
            if requireFresh {
                throw SourceError(.noUsableSource, redactor("cannot fetch \(primary.redacted) ref '\(ref ?? "HEAD")': \(why); a fresh commit is required"),
                                  fix: "restore access to the repository or a mirror, or drop the fresh requirement to use the cached commit")
            }
            guard let oid = repo.referenceTarget(lastGoodRef) ?? (ref.flatMap(Git.parseOid).flatMap { repo.hasCommit($0) ? $0 : nil }) else {
                throw SourceError(.noUsableSource, redactor("cannot fetch \(primary.redacted) ref '\(ref ?? "HEAD")' and no cached commit exists: \(why)"),
                                  fix: "check the URL, network and credentials; add a reachable mirror")
            }
            warnings.append(Diagnostic(.warning, at: nil,
                redactor("USING STALE SOURCE: \(why); rendering \(primary.redacted) at cached commit \(Git.oidString(oid)) (last good for ref '\(ref ?? "HEAD")')"),
                fix: "restore access to the repository; pass --require-fresh to fail instead"))
            return try result(oid, from: primary, stale: true)
        }
    }

    /// Where a fetch lands before its refs are checked and promoted to `refs/heads`/`refs/tags`.
    static let staging = "refs/pattern/incoming/"

    /// Fetches every branch and tag of `url` into the staging namespace of the cache
    /// repository (the cache's own refs are untouched until `promoteStaging`). Returns the
    /// remote's default branch (`refs/heads/…`) when it says.
    func fetch(repo: Repo, url: GitURL, creds: GitCredentials.Materialized, caBundle: String?, redactor: Redactor) throws(SourceError) -> String? {
        clearStaging(repo)
        // A configured CA bundle must be usable whatever the transport.
        if let caBundle { try Network.checkCABundle(caBundle) }
        if url.scheme == .local || url.scheme == .file {
            // libgit2 calls a missing directory an "unsupported URL protocol".
            let path = url.transportURL.hasPrefix("file://") ? String(url.transportURL.dropFirst(7)) : url.transportURL
            guard FS.isDirectory(path) else {
                throw SourceError(.pathNotFound, "local repository '\(path)' does not exist",
                                  fix: "check the path; relative paths are relative to the file that names them")
            }
            if let defaultBranch = try copyLocalRepository(path, into: repo) { return defaultBranch }
        }
        return try Network.with(caBundle: caBundle, deadlines: deadlines) { () throws(SourceError) -> String? in
            var remote: OpaquePointer?
            try Git.check(git_remote_create_anonymous(&remote, repo.pointer, url.transportURL), "invalid URL \(url.redacted)",
                          redactor: redactor, kind: .invalidSource)
            defer { git_remote_free(remote) }
            var opts = git_fetch_options()
            git_fetch_options_init(&opts, UInt32(GIT_FETCH_OPTIONS_VERSION))
            opts.prune = GIT_FETCH_NO_PRUNE
            opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE
            try creds.withPayload { (payload) throws(SourceError) in
                cgit2_fetch_options_set_credentials(&opts, payload)
                let rc = Git.withStrArray(["+refs/heads/*:\(Self.staging)heads/*", "+refs/tags/*:\(Self.staging)tags/*"]) { specs in
                    git_remote_fetch(remote, specs, &opts, nil)
                }
                if rc < 0 {
                    let rejected = payload?.pointee.rejected == 1
                    var e = Git.error(rc, "cannot fetch \(url.redacted)", redactor: redactor)
                    if rejected { e.kind = .authentication }
                    if e.kind == .authentication {
                        e.fix = "check the credentials configured for this source (token variable or file, ssh key)"
                    }
                    throw e
                }
            }
            var buf = git_buf()
            defer { git_buf_dispose(&buf) }
            if git_remote_default_branch(&buf, remote) == 0, let p = buf.ptr {
                return String(cString: p)
            }
            git_error_clear()
            return nil
        }
    }

    /// A local repository is copied the way `git clone --local` does, not through libgit2's
    /// local transport: its pack files and loose objects (immutable, content-addressed) are
    /// hard-linked (or copied) into the cache's object directory, then its branches and tags are
    /// written into the staging namespace. libgit2's local transport instead walks the history
    /// and builds a new pack, recomputing every delta (it cannot reuse the source pack's), which
    /// made a cold fetch of a large local repository several times slower than `git clone
    /// --bare --no-local`. Returns the default branch (`refs/heads/…`), `.some(nil)` when the
    /// source has none, or nil when the repository needs the regular fetch (alternates, shallow).
    func copyLocalRepository(_ path: String, into repo: Repo) throws(SourceError) -> String?? {
        var p: OpaquePointer?
        guard git_repository_open_ext(&p, path, UInt32(GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue), nil) == 0, let p else {
            git_error_clear()
            return nil  // let the regular fetch report it
        }
        let source = Repo(pointer: p, path: path)
        var common = String(cString: git_repository_commondir(source.pointer))
        while common.hasSuffix("/") { common.removeLast() }
        let objects = common + "/objects"
        if FS.exists(objects + "/info/alternates") || FS.exists(common + "/shallow") { return nil }
        let target = repo.gitDir + "objects"
        try FS.mkdirs(target + "/pack")
        guard let top = FS.list(objects) else { return nil }
        for entry in top {
            if entry == "pack" {
                // .idx after .pack, so a reader never sees an index without its pack.
                let packs = (FS.list(objects + "/pack") ?? []).filter { $0.hasSuffix(".pack") || $0.hasSuffix(".idx") }
                    .sorted { ($0.hasSuffix(".pack") ? 0 : 1, $0) < ($1.hasSuffix(".pack") ? 0 : 1, $1) }
                for f in packs { try FS.linkOrCopy(objects + "/pack/" + f, to: target + "/pack/" + f) }
            } else if entry.utf8.count == 2, entry.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) {
                let loose = FS.list(objects + "/" + entry) ?? []
                if loose.isEmpty { continue }
                try FS.mkdirs(target + "/" + entry)
                for f in loose { try FS.linkOrCopy(objects + "/" + entry + "/" + f, to: target + "/" + entry + "/" + f) }
            }
        }
        var odb: OpaquePointer?
        if git_repository_odb(&odb, repo.pointer) == 0 { git_odb_refresh(odb); git_odb_free(odb) }
        git_error_clear()
        for name in references(source, under: "refs/heads/") + references(source, under: "refs/tags/") {
            guard let oid = source.referenceTarget(name), repo.hasObject(oid) else { continue }
            try repo.setReference(Self.staging + name.dropFirst(5), to: oid, message: "pattern: copied from \(path)")
        }
        var head: OpaquePointer?
        defer { git_reference_free(head) }
        if git_reference_lookup(&head, source.pointer, "HEAD") == 0, let t = git_reference_symbolic_target(head) {
            let name = String(cString: t)
            return .some(name.hasPrefix("refs/heads/") ? name : nil)
        }
        git_error_clear()
        return .some(nil)
    }

    /// Names of every reference under `prefix` (e.g. `refs/pattern/incoming/`).
    func references(_ repo: Repo, under prefix: String) -> [String] {
        var it: OpaquePointer?
        guard git_reference_iterator_glob_new(&it, repo.pointer, prefix + "*") == 0 else { git_error_clear(); return [] }
        defer { git_reference_iterator_free(it) }
        var out: [String] = []
        var name: UnsafePointer<CChar>?
        while git_reference_next_name(&name, it) == 0, let name { out.append(String(cString: name)) }
        git_error_clear()
        return out
    }

    func deleteReference(_ repo: Repo, _ name: String) {
        var ref: OpaquePointer?
        if git_reference_lookup(&ref, repo.pointer, name) == 0 {
            git_reference_delete(ref)
            git_reference_free(ref)
        }
        git_error_clear()
    }

    func clearStaging(_ repo: Repo) {
        for r in references(repo, under: Self.staging) { deleteReference(repo, r) }
    }

    enum HistoryCheck { case ok, behind(String) }

    /// A fetched commit for a ref must be the last good one or descend from it. An ancestor
    /// (a mirror that lags) refuses this URL; anything else is rewritten history: refused
    /// loudly, naming the URL, unless force-pushes are allowed. A moved tag (the requested
    /// one) is rewritten history too. Pinned commit ids are immutable and need no check.
    func checkHistory(repo: Repo, ref: String?, new: git_oid, lastGood: git_oid?, url: GitURL,
                      allowForcePush: Bool) throws(SourceError) -> HistoryCheck {
        if let ref, Git.isFullCommitId(ref) { return .ok }
        let name = ref ?? "HEAD"
        if let ref, !ref.hasPrefix("refs/heads/"), repo.referenceTarget("refs/heads/" + ref) == nil,
           let cachedTag = repo.referenceTarget(ref.hasPrefix("refs/tags/") ? ref : "refs/tags/" + ref),
           let stagedTag = repo.referenceTarget(Self.staging + "tags/" + (ref.hasPrefix("refs/tags/") ? String(ref.dropFirst(10)) : ref)),
           !Git.oidEqual(cachedTag, stagedTag) {
            throw SourceError(.historyRewritten,
                "\(url.redacted) moved tag '\(ref)' from \(Git.oidString(cachedTag)) to \(Git.oidString(stagedTag)); tags are immutable once seen, so the cache was left unchanged",
                fix: "if the tag was re-created on purpose, pin the commit id instead, or remove the cache (`\(repo.path)`) to trust the new tag")
        }
        guard let lastGood, !Git.oidEqual(lastGood, new) else { return .ok }
        if Git.isDescendant(repo, new, of: lastGood) { return .ok }
        if allowForcePush { return .ok }
        if Git.isDescendant(repo, lastGood, of: new) {
            return .behind("\(url.redacted) serves \(Git.oidString(new)) for '\(name)', an ancestor of the last good commit \(Git.oidString(lastGood)) (a mirror that is behind, or a rollback); not going backwards")
        }
        throw SourceError(.historyRewritten,
            "\(url.redacted) serves commit \(Git.oidString(new)) for '\(name)', which does not descend from the last good commit \(Git.oidString(lastGood)): the history was rewritten (amended or force-pushed) or the URL is tampered with; refusing it, the cache was left unchanged",
            fix: "check \(url.redacted); if the force-push was intended, set 'allowForcePush: true' in the site's pattern.git")
    }

    /// Moves checked refs from staging into the cache: branches mirror the remote (deleted
    /// branches are pruned); tags are added but never moved or deleted once seen.
    func promoteStaging(_ repo: Repo, defaultBranch: String?, warnings: inout [Diagnostic], url: GitURL) throws(SourceError) {
        let staged = references(repo, under: Self.staging)
        var heads: Set<String> = []
        for s in staged {
            guard let oid = repo.referenceTarget(s) else { continue }
            let rest = String(s.dropFirst(Self.staging.count))
            if rest.hasPrefix("heads/") {
                let name = "refs/" + rest
                heads.insert(name)
                if repo.referenceTarget(name).map({ !Git.oidEqual($0, oid) }) ?? true {
                    try repo.setReference(name, to: oid, message: "pattern: fetched from \(url.redacted)")
                }
            } else if rest.hasPrefix("tags/") {
                let name = "refs/" + rest
                if let old = repo.referenceTarget(name) {
                    if !Git.oidEqual(old, oid) {
                        warnings.append(Diagnostic(.warning, at: nil,
                            "\(url.redacted) moved tag '\(rest.dropFirst(5))'; keeping the commit first seen (\(Git.oidString(old)))"))
                    }
                } else {
                    try repo.setReference(name, to: oid, message: "pattern: fetched from \(url.redacted)")
                }
            }
        }
        for h in references(repo, under: "refs/heads/") where !heads.contains(h) { deleteReference(repo, h) }
        if let defaultBranch {
            var ref: OpaquePointer?
            if git_reference_symbolic_create(&ref, repo.pointer, "HEAD", defaultBranch, 1, nil) == 0 { git_reference_free(ref) }
            git_error_clear()
        }
    }

    /// The commit `ref` names: branch, then tag, then full commit id, then the default
    /// branch. With `namespace` (the staging area), `refs/heads/x` is looked up as
    /// `<namespace>heads/x`.
    func resolveRef(repo: Repo, ref: String?, namespace: String = "refs/", defaultBranch: String? = nil) -> git_oid? {
        func local(_ full: String) -> String { namespace + full.dropFirst(5) }
        guard let ref else {
            if namespace == "refs/" { return repo.commitId(revision: "HEAD") }
            if let d = defaultBranch, d.hasPrefix("refs/") { return repo.commitId(revision: local(d)) }
            return nil
        }
        if let oid = Git.parseOid(ref) { return repo.hasCommit(oid) ? oid : nil }
        for candidate in ["refs/heads/" + ref, "refs/tags/" + ref] {
            if repo.referenceTarget(local(candidate)) != nil, let oid = repo.commitId(revision: local(candidate)) { return oid }
        }
        if ref.hasPrefix("refs/heads/") || ref.hasPrefix("refs/tags/"), let oid = repo.commitId(revision: local(ref)) { return oid }
        if namespace == "refs/", ref.hasPrefix("refs/"), let oid = repo.commitId(revision: ref) { return oid }
        return nil
    }
}
