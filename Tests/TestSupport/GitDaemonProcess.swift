import Foundation
import PatternCore
#if canImport(Glibc)
import Glibc
#endif

/// A detached `git daemon` on a loopback port, known by its pid file, for tests that stop the
/// git server in the middle (outages) and read its port into URLs.
///
/// The port comes from the kernel (a bind to port 0), not from a random range: a random port
/// could be one a test API server in the same process already listens on, and then `git
/// ls-remote` talked to that HTTP server and both waited for each other forever (seen as a
/// hung full run). The daemon counts as up only when `git ls-remote` of `probe` answers within
/// a few seconds, so a foreign listener on the port is never mistaken for it.
public enum GitDaemonProcess {
    /// Starts the daemon serving `basePath` (every repository exported); returns its port.
    public static func start(basePath: String, pidFile: String, probe: String) throws -> Int {
        for _ in 0..<5 {
            let port = Int(freeLoopbackPort())
            let started = run(["/usr/lib/git-core/git-daemon", "--reuseaddr", "--detach", "--pid-file=\(pidFile)",
                               "--base-path=\(basePath)", "--export-all", "--listen=127.0.0.1", "--port=\(port)", basePath])
            if started {
                for _ in 0..<100 {
                    if run(["/usr/bin/timeout", "5", "/usr/bin/git", "ls-remote", "git://127.0.0.1:\(port)/\(probe)"]) { return port }
                    usleep(20_000)
                }
            }
            stop(pidFile: pidFile)
        }
        throw CommandFailed(description: "git daemon did not start")
    }

    /// Kills the daemon named by `pidFile` (SIGKILL: processes spawned from Swift's worker
    /// threads may block SIGTERM) and waits until it is gone.
    public static func stop(pidFile: String) {
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
              let pid = Int32(text.split(separator: "\n").first ?? "") else { return }
        kill(pid, SIGKILL)
        for _ in 0..<100 where kill(pid, 0) == 0 { usleep(10_000) }
    }

    /// Runs a program with no shell, output discarded; whether it exited 0. Waits for the
    /// program itself only: `git daemon --detach` exits while its child keeps the inherited
    /// descriptors, so nothing may wait for its output to end.
    static func run(_ argv: [String]) -> Bool {
        let env = ["PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C", "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"]
        guard let child = try? Subprocess.spawn(argv[0], Array(argv.dropFirst()), environment: env) else { return false }
        return child.wait() == 0
    }
}

/// A loopback port nothing listens on at this moment, chosen by the kernel (bind port 0, read
/// it back, close).
public func freeLoopbackPort() -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return UInt16(bigEndian: addr.sin_port)
}
