import Foundation
import PatternCore

/// A command that exited non-zero.
public struct CommandFailed: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}

/// Runs `git` in `dir` with a fixed identity and environment, no user or system
/// configuration and no prompts; returns its standard output without the trailing newline.
@discardableResult
public func git(_ args: [String], in dir: String) throws -> String {
    // A fixed environment, not a copy of this process's: reading `environ` while another test
    // calls setenv (token-from-environment tests) crashed the test process.
    var env = ["PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C"]
    env["GIT_AUTHOR_NAME"] = "Test"; env["GIT_AUTHOR_EMAIL"] = "test@example.com"
    env["GIT_COMMITTER_NAME"] = "Test"; env["GIT_COMMITTER_EMAIL"] = "test@example.com"
    env["GIT_CONFIG_NOSYSTEM"] = "1"; env["HOME"] = dir
    env["GIT_TERMINAL_PROMPT"] = "0"
    let o = try runTool("/usr/bin/git", args, environment: env, in: dir)
    guard o.succeeded else {
        throw CommandFailed(description: "git \(args.joined(separator: " ")) failed: \(String(decoding: o.stderr, as: UTF8.self))")
    }
    return String(decoding: o.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// Runs a program to completion and collects its output, through PatternCore's `Subprocess`
/// (posix_spawn). Never Foundation's `Process` in tests: a full run holds well over a thousand
/// descriptors open (loopback servers and their clients), and `Process.run` then reads past a
/// buffer while listing `/proc/self/fd` and crashed the whole run with SIGSEGV.
public func runTool(_ executable: String, _ args: [String], environment: [String: String]? = nil,
                    in dir: String? = nil, input: [UInt8]? = nil) throws -> Subprocess.Output {
    do { return try Subprocess.run(executable, args, environment: environment, directory: dir, input: input) } catch {
        throw CommandFailed(description: "\(error)")
    }
}
