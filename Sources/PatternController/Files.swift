#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few file operations the controller needs.
enum FileSystem {
    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func makeDirectories(_ path: String, mode: mode_t = 0o755) {
        var cur = path.hasPrefix("/") ? "" : "."
        for c in path.split(separator: "/") {
            cur += "/" + c
            mkdir(cur, mode)
        }
    }

    /// Writes `bytes` to a file only its owner can read.
    static func writePrivate(_ path: String, _ bytes: [UInt8]) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { return }
        fchmod(fd, 0o600)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }
}
