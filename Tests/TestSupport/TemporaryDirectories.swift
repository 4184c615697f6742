import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Temporary directories for tests. Every one lives under a single root per test process
/// (`$TMPDIR/pattern-tests-XXXXXX`, `/tmp` without `TMPDIR`) that is removed when the process
/// exits, so a run leaves nothing behind even when a test fails or forgets to clean up; a test
/// that is done with a large tree can remove it earlier. Set `KEEP_TMP=1` to keep them (the
/// root is printed to stderr then).
public enum TemporaryDirectories {
    /// The root of this process's temporary directories (created on first use).
    public static let root: String = {
        let base = variable("TMPDIR") ?? "/tmp"
        var template = Array((base.hasSuffix("/") ? base : base + "/").appending("pattern-tests-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard let made else { fatalError("cannot create a temporary directory under \(base): errno \(errno)") }
        let path = String(cString: made)
        if keep {
            FileHandle.standardError.write(Data("test temporary directories kept in \(path)\n".utf8))
        } else {
            atexit { TemporaryDirectories.removeRoot() }
        }
        return path
    }()

    /// `KEEP_TMP` is set: nothing is removed.
    public static let keep = variable("KEEP_TMP") != nil

    /// One variable (getenv, not a copy of the whole environment: see `git`).
    static func variable(_ name: String) -> String? {
        guard let v = getenv(name) else { return nil }
        let s = String(cString: v)
        return s.isEmpty ? nil : s
    }

    private static func removeRoot() { try? FileManager.default.removeItem(atPath: root) }

    /// A new empty directory `<root>/<prefix>-XXXXXX`.
    public static func make(_ prefix: String = "t") -> String {
        var template = Array((root + "/" + prefix + "-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard let made else { fatalError("cannot create a temporary directory under \(root): errno \(errno)") }
        return String(cString: made)
    }

    /// Removes `path` and everything below it (only paths under `root`).
    public static func remove(_ path: String) {
        guard path.hasPrefix(root + "/"), !keep else { return }
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A temporary directory removed when the value is released (and in any case at exit).
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String
    public init(_ prefix: String = "t") { path = TemporaryDirectories.make(prefix) }
    deinit { TemporaryDirectories.remove(path) }
    /// `path/name`.
    public func sub(_ name: String) -> String { path + "/" + name }
    /// `path/name`.
    public func file(_ name: String) -> String { path + "/" + name }
    /// Removes the directory now.
    public func remove() { TemporaryDirectories.remove(path) }
}
