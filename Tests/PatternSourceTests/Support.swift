import Foundation
import Testing
@testable import PatternSource
import PatternCore
@_exported import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A temporary directory removed at deinit (and in any case at exit): TestSupport's.
typealias TempDir = TemporaryDirectory

func writeFile(_ path: String, _ text: String) throws {
    let dir = (path as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try text.write(toFile: path, atomically: false, encoding: .utf8)
}

func readText(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

/// A work repository with an initial commit, plus helpers.
struct WorkRepo {
    let path: String
    init(at path: String, files: [String: String] = ["README.md": "hello\n"]) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try git(["init", "-q", "-b", "main"], in: path)
        try commit(files, message: "initial")
    }
    @discardableResult
    func commit(_ files: [String: String], message: String) throws -> String {
        for (p, t) in files { try writeFile(path + "/" + p, t) }
        try git(["add", "-A"], in: path)
        try git(["commit", "-q", "-m", message], in: path)
        return try head()
    }
    func head() throws -> String { try git(["rev-parse", "HEAD"], in: path) }
}

func canConnect(port: UInt16) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = port.bigEndian
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    } == 0
}

/// `git daemon` on 127.0.0.1 serving `basePath`; terminated at deinit (also when a test fails).
final class GitDaemon {
    let port: UInt16
    init(basePath: String) throws {
        var lastError: Error?
        for _ in 0..<5 {
            let port = freeLoopbackPort()
            let p = try Subprocess.spawn("/usr/lib/git-core/git-daemon",
                                         ["--reuseaddr", "--base-path=\(basePath)", "--export-all", "--port=\(port)",
                                          "--listen=127.0.0.1", "--informative-errors", basePath])
            for _ in 0..<200 {
                if canConnect(port: port) { self.port = port; self.processStarted(p); return }
                if !p.isRunning { break }
                usleep(10_000)
            }
            p.kill(SIGKILL); p.wait()
            lastError = CommandFailed(description: "git daemon did not start on port \(port)")
        }
        throw lastError!
    }
    private var started: Subprocess.Child?
    private func processStarted(_ p: Subprocess.Child) { started = p }
    func url(_ name: String) -> String { "git://127.0.0.1:\(port)/\(name)" }
    func stop() {
        // SIGKILL: processes spawned from Swift's worker threads inherit a mask that blocks SIGTERM.
        if let p = started { p.kill(SIGKILL); p.wait() }
        started = nil
    }
    deinit { stop() }
}

/// A loopback URL on which nothing listens.
func deadURL(_ name: String = "nothing.git") -> String { "git://127.0.0.1:\(freeLoopbackPort())/\(name)" }

func readString(_ tree: any SourceTree, _ path: String) throws -> String {
    String(decoding: try tree.readResolved(try TreePath(path)), as: UTF8.self)
}
