import PatternCore
#if canImport(Glibc)
import Glibc
#endif

/// The few file operations the controller needs.
enum FileSystem {
    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    private static func failure(_ what: String, _ path: String, _ code: Int32) -> SpecError {
        SpecError("cannot \(what) \(path): \(String(cString: strerror(code)))")
    }

    /// Creates `path` and its missing parents with `mode`; an existing path must be a directory.
    static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(SpecError) {
        var cur = path.hasPrefix("/") ? "" : "."
        for c in path.split(separator: "/") {
            cur += "/" + c
            if mkdir(cur, mode) != 0 {
                let e = errno
                guard e == EEXIST, isDirectory(cur) else { throw failure("create the directory", cur, e) }
            }
        }
    }

    /// Writes `bytes` to a file only its owner can read, checked at every step: written to a
    /// new 0600 file beside it (never through a symlink), flushed, then renamed over `path`,
    /// so a reader sees the old or the new content, never a partial credential.
    static func writePrivate(_ path: String, _ bytes: [UInt8]) throws(SpecError) {
        let tmp = path + ".tmp-\(getpid())"
        unlink(tmp)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("create", tmp, errno) }
        var ok = false
        defer { if !ok { unlink(tmp) } }
        guard fchmod(fd, 0o600) == 0 else { let e = errno; close(fd); throw failure("restrict", tmp, e) }
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + off, bytes.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                let e = errno; close(fd); throw failure("write", tmp, e)
            }
            if n == 0 { close(fd); throw SpecError("cannot write \(tmp): the disk took no bytes") }
            off += n
        }
        guard fsync(fd) == 0 else { let e = errno; close(fd); throw failure("flush", tmp, e) }
        guard close(fd) == 0 else { throw failure("close", tmp, errno) }
        guard rename(tmp, path) == 0 else { throw failure("replace", path, errno) }
        ok = true
    }
}
