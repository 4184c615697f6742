#if canImport(Glibc)
import Glibc
#endif

/// The file operations the CLI and the controller share: one helper, every step checked.
/// Failures are `Diagnostic`s naming the path, the operation and the system's reason.
public enum FileSystem {
    /// True when `path` exists (following symlinks).
    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// True when `path` is a directory (following symlinks).
    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    private static func failure(_ what: String, _ path: String, _ code: Int32) -> Diagnostic {
        Diagnostic.error("cannot \(what) \(path): \(String(cString: strerror(code)))",
                         fix: "check that the directory exists, is writable and has space")
    }

    /// Creates `path` and its missing parents with `mode`; an existing path must be a directory.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(Diagnostic) {
        var cur = path.hasPrefix("/") ? "" : "."
        for c in path.split(separator: "/") {
            cur += "/" + c
            if mkdir(cur, mode) != 0 {
                let e = errno
                guard e == EEXIST, isDirectory(cur) else { throw failure("create the directory", cur, e) }
            }
        }
    }

    /// Writes `bytes` to `path` with `mode`, checked at every step: written to a new file beside
    /// it (never through a symlink), flushed, then renamed over `path`, so a reader sees the old
    /// or the new content, never a partial file.
    public static func write(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws(Diagnostic) {
        let tmp = path + ".tmp-\(getpid())"
        unlink(tmp)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw failure("create", tmp, errno) }
        var ok = false
        defer { if !ok { unlink(tmp) } }
        guard fchmod(fd, mode) == 0 else { let e = errno; close(fd); throw failure("set the mode of", tmp, e) }
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, bytes.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                let e = errno; close(fd); throw failure("write", tmp, e)
            }
            if n == 0 { close(fd); throw Diagnostic.error("cannot write \(tmp): the disk took no bytes", fix: "free disk space") }
            off += n
        }
        guard fsync(fd) == 0 else { let e = errno; close(fd); throw failure("flush", tmp, e) }
        guard close(fd) == 0 else { throw failure("close", tmp, errno) }
        guard rename(tmp, path) == 0 else { throw failure("replace", path, errno) }
        ok = true
    }

    /// `write` to a file only its owner can read (0600): credentials, tokens.
    public static func writePrivate(_ path: String, _ bytes: [UInt8]) throws(Diagnostic) {
        try write(path, bytes, mode: 0o600)
    }

    /// Removes rendered files (`*.yaml`, `*.json`) below `dir`, leaving anything else alone.
    public static func removeRenderedFiles(in dir: String) {
        let tree = LocalTree(root: dir)
        func walk(_ p: TreePath) {
            guard let entries = try? tree.list(p) else { return }
            for e in entries {
                let child = p.appending(e.name)
                if e.kind == .directory { walk(child); rmdir(dir + "/" + child.string) }
                else if e.kind == .file && (e.name.hasSuffix(".yaml") || e.name.hasSuffix(".json")) { unlink(dir + "/" + child.string) }
            }
        }
        walk(.root)
    }

    /// `realpath(3)` of `path`, nil when it does not exist.
    public static func realpath(_ path: String) -> String? {
        guard let c = Glibc.realpath(path, nil) else { return nil }
        defer { free(c) }
        return String(cString: c)
    }

    /// The process's working directory (`.` when it cannot be read).
    public static var currentDirectory: String {
        var buf = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buf, 4096) != nil else { return "." }
        return String(cString: buf)
    }
}
