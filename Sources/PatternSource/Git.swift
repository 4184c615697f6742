import CGit2
import PatternCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// libgit2 lifecycle and error plumbing.
///
/// Rules kept throughout this module:
/// - every public operation runs `Git.withLibrary { … }`, which pairs `git_libgit2_init` with
///   `git_libgit2_shutdown` (both refcounted in libgit2), so init and shutdown stay balanced
///   whatever throws;
/// - libgit2 objects (`git_repository *`, …) live inside one synchronous function, or inside
///   a non-`Sendable` class used from one call (`Repo`); the only long-lived one is the blob
///   reader behind `GitTree`, which serializes every use with a lock;
/// - `git_error_last()` is thread-local, so `Git.check` reads it right after the failing
///   call, in the same synchronous stretch (no `await` in between can move us to another thread).
enum Git {
    static func withLibrary<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        let count = git_libgit2_init()
        if count == 1 { configureGlobals() }
        defer { git_libgit2_shutdown() }
        return try body()
    }

    /// Process-wide libgit2 state, set after each first init (shutdown clears it): the
    /// deadline socket stream. (No user agent: libgit2 1.5 frees the user-agent string at
    /// shutdown without clearing it, so setting GIT_OPT_SET_USER_AGENT again after a full
    /// init/shutdown cycle is a double free.)
    private static func configureGlobals() { _ = cgit2_install_deadline_stream() }

    /// Throws a `SourceError` for a negative libgit2 return code, with libgit2's thread-local
    /// message read immediately, redacted.
    static func check(_ rc: Int32, _ what: @autoclosure () -> String, redactor: Redactor = .urlsOnly,
                      kind: SourceError.Kind? = nil) throws(SourceError) {
        guard rc < 0 else { return }
        throw error(rc, what(), redactor: redactor, kind: kind)
    }

    /// Builds the error for `rc` from `git_error_last()`. Call only right after the failing call.
    static func error(_ rc: Int32, _ what: String, redactor: Redactor = .urlsOnly,
                      kind: SourceError.Kind? = nil) -> SourceError {
        var buf = [CChar](repeating: 0, count: 2048)
        let klass = cgit2_last_error(&buf, buf.count)
        let detail = klass >= 0 ? cString(buf) : "libgit2 error \(rc)"
        let k: SourceError.Kind
        if let kind { k = kind }
        else if rc == GIT_EAUTH.rawValue || detail.lowercased().contains("authentication") || detail.contains("401") {
            k = .authentication
        } else if rc == GIT_ENOTFOUND.rawValue {
            k = .refNotFound
        } else if klass == GIT_ERROR_NET.rawValue || klass == GIT_ERROR_OS.rawValue || klass == GIT_ERROR_SSL.rawValue
                    || klass == GIT_ERROR_SSH.rawValue || klass == GIT_ERROR_HTTP.rawValue {
            k = .unreachable
        } else {
            k = .git
        }
        return SourceError(k, redactor("\(what): \(detail)"))
    }

    static func oidString(_ oid: UnsafePointer<git_oid>) -> String {
        var buf = [CChar](repeating: 0, count: Int(GIT_OID_HEXSZ) + 1)
        git_oid_tostr(&buf, buf.count, oid)
        return cString(buf)
    }

    static func oidString(_ oid: git_oid) -> String {
        var o = oid
        return oidString(&o)
    }

    static func oidEqual(_ a: git_oid, _ b: git_oid) -> Bool {
        var x = a, y = b
        return git_oid_equal(&x, &y) == 1
    }

    /// True when `commit` has `ancestor` in its history (not when they are equal).
    static func isDescendant(_ repo: Repo, _ commit: git_oid, of ancestor: git_oid) -> Bool {
        var c = commit, a = ancestor
        let r = git_graph_descendant_of(repo.pointer, &c, &a)
        if r < 0 { git_error_clear() }
        return r == 1
    }

    static func parseOid(_ hex: String) -> git_oid? {
        guard isFullCommitId(hex) else { return nil }
        var oid = git_oid()
        return git_oid_fromstr(&oid, hex) == 0 ? oid : nil
    }

    static func isFullCommitId(_ s: String) -> Bool {
        s.utf8.count == 40 && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) || ($0 >= 65 && $0 <= 70) }
    }

    /// A `git_strarray` over copies of `strings`, valid inside `body`.
    static func withStrArray<T, E: Error>(_ strings: [String], _ body: (UnsafeMutablePointer<git_strarray>) throws(E) -> T) throws(E) -> T {
        var ptrs: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        defer { for p in ptrs { free(p) } }
        return try ptrs.withUnsafeMutableBufferPointer { (buf) throws(E) -> T in
            var arr = git_strarray(strings: buf.baseAddress, count: buf.count)
            return try body(&arr)
        }
    }
}

/// An open repository, confined to the synchronous call that created it (not `Sendable`).
final class Repo {
    let pointer: OpaquePointer
    let path: String

    init(pointer: OpaquePointer, path: String) {
        self.pointer = pointer
        self.path = path
    }

    deinit { git_repository_free(pointer) }

    static func open(_ path: String, redactor: Redactor = .urlsOnly) throws(SourceError) -> Repo {
        var p: OpaquePointer?
        let rc = git_repository_open_ext(&p, path, UInt32(GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue), nil)
        if rc < 0 {
            throw SourceError(.repositoryState, redactor("'\(path)' is not a git repository (\(Git.error(rc, "open").message))"),
                              fix: "check the directory, or create it with `pattern fork`")
        }
        return Repo(pointer: p!, path: path)
    }

    static func initBare(_ path: String) throws(SourceError) -> Repo {
        var p: OpaquePointer?
        try Git.check(git_repository_init(&p, path, 1), "cannot create repository '\(path)'", kind: .io)
        return Repo(pointer: p!, path: path)
    }

    var isBare: Bool { git_repository_is_bare(pointer) == 1 }

    var gitDir: String { String(cString: git_repository_path(pointer)) }

    var workDir: String? { git_repository_workdir(pointer).map { String(cString: $0) } }

    /// The commit a reference or revision names, or nil when it does not exist.
    func commitId(revision: String) -> git_oid? {
        var obj: OpaquePointer?
        guard git_revparse_single(&obj, pointer, revision + "^{commit}") == 0, let obj else { return nil }
        defer { git_object_free(obj) }
        return git_object_id(obj).pointee
    }

    /// True when the object database holds `oid` (any type).
    func hasObject(_ oid: git_oid) -> Bool {
        var odb: OpaquePointer?
        guard git_repository_odb(&odb, pointer) == 0 else { git_error_clear(); return false }
        defer { git_odb_free(odb) }
        var o = oid
        return git_odb_exists(odb, &o) == 1
    }

    func hasCommit(_ oid: git_oid) -> Bool {
        var o = oid
        var c: OpaquePointer?
        guard git_commit_lookup(&c, pointer, &o) == 0 else { return false }
        git_commit_free(c)
        return true
    }

    func referenceTarget(_ name: String) -> git_oid? {
        var oid = git_oid()
        return git_reference_name_to_id(&oid, pointer, name) == 0 ? oid : nil
    }

    func setReference(_ name: String, to oid: git_oid, message: String) throws(SourceError) {
        var o = oid
        var ref: OpaquePointer?
        try Git.check(git_reference_create(&ref, pointer, name, &o, 1, message), "cannot update \(name)")
        git_reference_free(ref)
    }

    func configString(_ key: String) -> String? {
        var cfg: OpaquePointer?
        guard git_repository_config_snapshot(&cfg, pointer) == 0 else { return nil }
        defer { git_config_free(cfg) }
        var out: UnsafePointer<CChar>?
        guard git_config_get_string(&out, cfg, key) == 0, let out else { return nil }
        return String(cString: out)
    }

    func setConfigString(_ key: String, _ value: String) throws(SourceError) {
        var cfg: OpaquePointer?
        try Git.check(git_repository_config(&cfg, pointer), "cannot open config")
        defer { git_config_free(cfg) }
        try Git.check(git_config_set_string(cfg, key, value), "cannot set \(key)")
    }

    /// The configured signature, or `pattern <pattern@localhost>` when none is set.
    func signature() throws(SourceError) -> UnsafeMutablePointer<git_signature> {
        var sig: UnsafeMutablePointer<git_signature>?
        if git_signature_default(&sig, pointer) == 0, let sig { return sig }
        try Git.check(git_signature_now(&sig, "pattern", "pattern@localhost"), "cannot create signature")
        return sig!
    }
}

func cString(_ buf: [CChar]) -> String {
    String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

// MARK: - Small POSIX helpers (no Foundation on these paths)

enum FS {
    static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func mkdirs(_ path: String) throws(SourceError) {
        if isDirectory(path) { return }
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw SourceError(.io, "cannot create directory '\(current)': \(String(cString: strerror(errno)))")
            }
        }
    }

    static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, 65536) }
            if n < 0 { if errno == EINTR { continue }; return nil }
            if n == 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return out
    }

    static func writeFile(_ path: String, _ bytes: [UInt8]) throws(SourceError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw SourceError(.io, "cannot write '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + off, bytes.count - off) }
            if n < 0 { if errno == EINTR { continue }; throw SourceError(.io, "cannot write '\(path)': \(String(cString: strerror(errno)))") }
            off += n
        }
    }

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buf, buf.count) != nil else { return path }
        let cwd = cString(buf)
        return path == "." ? cwd : cwd + "/" + path
    }

    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    /// Names in a directory (no `.`/`..`), nil when it cannot be read.
    static func list(_ path: String) -> [String]? {
        guard let d = opendir(path) else { return nil }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Hard-links `from` to `to` (a copy when linking is impossible, e.g. across file
    /// systems); does nothing when `to` exists. Only for immutable files (git objects, packs).
    static func linkOrCopy(_ from: String, to: String) throws(SourceError) {
        if exists(to) { return }
        if link(from, to) == 0 || errno == EEXIST { return }
        guard let bytes = readFile(from) else {
            throw SourceError(.io, "cannot read '\(from)': \(String(cString: strerror(errno)))")
        }
        let tmp = to + ".tmp-\(getpid())"
        try writeFile(tmp, bytes)
        chmod(tmp, 0o444)
        guard rename(tmp, to) == 0 else {
            unlink(tmp)
            throw SourceError(.io, "cannot write '\(to)': \(String(cString: strerror(errno)))")
        }
    }

    /// Removes `path` and everything below it, never following symlinks.
    static func removeTree(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            removeContents(of: path)
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    /// Removes everything inside the directory `path` (not the directory itself).
    static func removeContents(of path: String) {
        guard let d = opendir(path) else { return }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.append(name) }
        }
        closedir(d)
        for n in names { removeTree(path + "/" + n) }
    }

    static func env(_ name: String) -> String? {
        guard let v = getenv(name) else { return nil }
        let s = String(cString: v)
        return s.isEmpty ? nil : s
    }
}

/// An exclusive `flock` on a lock file, held until `unlock()` or deinit. Makes concurrent
/// `pattern` processes on one cache take turns per repository.
final class FileLock {
    private var fd: Int32

    /// Waits up to `timeout` seconds for the lock (another process may be fetching).
    init(path: String, timeout: Double = FileLock.defaultTimeout) throws(SourceError) {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SourceError(.io, "cannot open lock file '\(path)': \(String(cString: strerror(errno)))") }
        var waited = 0.0
        var delay = 0.002
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let err = errno
            if err == EINTR { continue }
            if err != EWOULDBLOCK || waited >= timeout {
                let msg = err == EWOULDBLOCK ? "still held by another pattern process after \(Int(timeout))s" : String(cString: strerror(err))
                close(fd)
                fd = -1
                throw SourceError(.io, "cannot lock '\(path)': \(msg)",
                                  fix: "wait for the other process, or check for a hung `pattern` process using this cache")
            }
            usleep(useconds_t(delay * 1_000_000))
            waited += delay
            delay = min(delay * 2, 0.25)
        }
    }

    /// Seconds to wait for a cache lock: `$PATTERN_LOCK_TIMEOUT`, default 600.
    static var defaultTimeout: Double { FS.env("PATTERN_LOCK_TIMEOUT").flatMap(Double.init) ?? 600 }

    func unlock() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    deinit { unlock() }
}

/// A mutex usable from Sendable types (pthread; `Synchronization.Mutex` needs macOS 15).
final class Lock: @unchecked Sendable {
    private var m = pthread_mutex_t()
    init() { pthread_mutex_init(&m, nil) }
    deinit { pthread_mutex_destroy(&m) }
    func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(&m)
        defer { pthread_mutex_unlock(&m) }
        return try body()
    }
}
