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
        s.withUTF8 { b in writeAll(fd, b) }
    }

    private static func writeAll(_ fd: Int32, _ b: UnsafeBufferPointer<UInt8>) {
        var off = 0
        while off < b.count {
            let n = Glibc.write(fd, b.baseAddress! + off, b.count - off)
            if n <= 0 { if errno == EINTR { continue }; return }
            off += n
        }
    }

    /// Writes `documents` to stdout with `separator` between them, in 256 KiB writes, without
    /// first joining them into one string (a large render's output would exist three times).
    public static func outDocuments(_ documents: [[UInt8]], separator: String) {
        if let capture {
            capture.append(1, documents.map { String(decoding: $0, as: UTF8.self) }.joined(separator: separator))
            return
        }
        let sep = Array(separator.utf8)
        var chunk: [UInt8] = []
        chunk.reserveCapacity(1 << 18)
        func flush() { chunk.withUnsafeBufferPointer { writeAll(1, $0) }; chunk.removeAll(keepingCapacity: true) }
        for (i, d) in documents.enumerated() {
            if i > 0 { chunk.append(contentsOf: sep) }
            if chunk.count + d.count > chunk.capacity { flush() }
            if d.count >= chunk.capacity { d.withUnsafeBufferPointer { writeAll(1, $0) } } else { chunk.append(contentsOf: d) }
        }
        flush()
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

// File helpers: `PatternCore.FileSystem` (one helper for the CLI and the controller).
