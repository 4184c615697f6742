#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PatternCore
import PatternReport
import Synchronization

/// What a command printed, when it runs in-process (tests) under `Output.$capture`.
public final class OutputCapture: Sendable {
    private let buffers = Mutex<(out: String, err: String)>(("", ""))
    public init() {}
    public var stdout: String { buffers.withLock { $0.out } }
    public var stderr: String { buffers.withLock { $0.err } }
    func append(_ fd: Int32, _ s: String) { buffers.withLock { if fd == 1 { $0.out += s } else { $0.err += s } } }
}

/// Unbuffered-by-Swift writes to stdout/stderr (large renders go out in one write), or into
/// the task's `capture` when one is set (commands run in-process by tests).
public enum Output {
    /// Where the current task's output goes instead of the file descriptors.
    @TaskLocal public static var capture: OutputCapture?

    public static func out(_ s: String) { write(1, s) }
    public static func err(_ s: String) { write(2, s) }

    public static func write(_ fd: Int32, _ s: String) {
        if let capture { capture.append(fd, s); return }
        var s = s
        s.withUTF8 { b in
            var off = 0
            while off < b.count {
                let n = Glibc.write(fd, b.baseAddress! + off, b.count - off)
                if n <= 0 { if errno == EINTR { continue }; return }
                off += n
            }
        }
    }

    public static var stderrIsTTY: Bool { capture == nil && isatty(2) != 0 }
    public static var stdoutIsTTY: Bool { capture == nil && isatty(1) != 0 }

    /// The `--color` choice of the running command (set by `PatternMain`).
    @TaskLocal public static var colorMode: ColorMode = .auto

    /// Whether to colour what goes to stdout (`fd` 1) or stderr (2): `--color` and `NO_COLOR`.
    public static func color(_ fd: Int32) -> Bool {
        colorMode.enabled(isTerminal: fd == 1 ? stdoutIsTTY : stderrIsTTY,
                          noColor: getenv("NO_COLOR").map { String(cString: $0) }, term: getenv("TERM").map { String(cString: $0) })
    }

    /// Prints diagnostics as `file:line:col: error: message` with `fix:` hints, to stderr.
    public static func report(_ diagnostics: [Diagnostic]) {
        let color = color(2)
        var text = ""
        for d in diagnostics {
            if let l = d.location { text += "\(l): " }
            let sev = d.severity.rawValue
            text += color ? (d.severity == .error ? "\u{1B}[31m\(sev)\u{1B}[0m" : "\u{1B}[33m\(sev)\u{1B}[0m") : sev
            text += ": \(d.message)\n"
            for r in d.related { text += "  see also: \(r)\n" }
            if let f = d.fix { text += "  fix: \(f)\n" }
        }
        let errors = diagnostics.filter { $0.severity == .error }.count
        if errors > 1 { text += "\(errors) errors\n" }
        err(text)
    }
}

/// Small file-system helpers for commands that write files.
public enum FileSystem {
    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    public static func makeDirectories(_ path: String) throws {
        var cur = path.hasPrefix("/") ? "" : "."
        for c in path.split(separator: "/") {
            cur += "/" + c
            if mkdir(cur, 0o755) != 0 && errno != EEXIST {
                throw Diagnostic.error("cannot create directory \(cur): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Writes `bytes` to `path` atomically (a temporary file renamed over it), with `mode`.
    public static func write(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws {
        let tmp = path + ".tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode)
        guard fd >= 0 else { throw Diagnostic.error("cannot write \(path): \(String(cString: strerror(errno)))") }
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, bytes.count - off) }
            if n <= 0 { if errno == EINTR { continue }; close(fd); throw Diagnostic.error("cannot write \(path)") }
            off += n
        }
        close(fd)
        guard rename(tmp, path) == 0 else { throw Diagnostic.error("cannot write \(path): \(String(cString: strerror(errno)))") }
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

    public static var currentDirectory: String {
        var buf = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buf, 4096) != nil else { return "." }
        return String(cString: buf)
    }
}
