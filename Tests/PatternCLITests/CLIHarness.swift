import Testing
import PatternCLI
import TestSupport
import PatternCore
#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `pattern` executable (next to the test bundle) as a real process.
struct CLI {
    struct Result { var status: Int32; var stdout: String; var stderr: String }

    static let binary: String = {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, 4095)
        let exe = String(decoding: buf[0..<max(n, 0)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var dir = exe
        while let slash = dir.lastIndex(of: "/") {
            dir = String(dir[..<slash])
            if access(dir + "/pattern", X_OK) == 0 { return dir + "/pattern" }
            if dir.isEmpty { break }
        }
        return ".build/debug/pattern"
    }()

    static let repoRoot: String = RepositoryPaths.root

    /// Runs `pattern args…` in this process (cwd: the repository root, where `swift test`
    /// runs), capturing what it prints: no process start per test. For commands that need
    /// another working directory or environment, or signals, use `run`.
    static func runInProcess(_ args: [String]) async -> Result {
        var buf = [CChar](repeating: 0, count: 4096)
        let cwd = getcwd(&buf, buf.count).map { _ in String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        guard cwd == repoRoot else { return run(args) }
        let capture = OutputCapture()
        let status = await Output.$capture.withValue(capture) { await PatternMain.run(args) }
        return Result(status: status, stdout: capture.stdout, stderr: capture.stderr)
    }

    /// Runs `pattern args…` in `cwd`, capturing stdout and stderr through files.
    static func run(_ args: [String], cwd: String = repoRoot, env: [String: String] = [:]) -> Result {
        var script = ""
        for (k, v) in env { script += "\(k)='\(v)' " }
        script += "'\(binary)'"
        for a in args { script += " '" + a.replacingSingleQuotes + "'" }
        return runShell(script, cwd: cwd)
    }

    /// Runs a shell command line in `cwd`, capturing stdout and stderr through files.
    static func runShell(_ command: String, cwd: String = repoRoot) -> Result {
        let dir = TemporaryDirectories.make("pattern-cli")
        defer { TemporaryDirectories.remove(dir) }
        let outPath = dir + "/out", errPath = dir + "/err"
        let script = "cd '\(cwd)' && { \(command) ; } >'\(outPath)' 2>'\(errPath)'"
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(script), nil]
        defer { for a in argv { free(a) } }
        let rc = posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ)
        precondition(rc == 0, "spawn failed")
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let code = (status >> 8) & 0xff
        let read = { (p: String) -> String in
            (try? LocalTree(root: dir).read(TreePath(String(p.split(separator: "/").last!)))).map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
        return Result(status: code, stdout: read(outPath), stderr: read(errPath))
    }
}

extension String {
    var replacingSingleQuotes: String {
        var out = ""
        for c in self { if c == "'" { out += "'\\''" } else { out.append(c) } }
        return out
    }
}
