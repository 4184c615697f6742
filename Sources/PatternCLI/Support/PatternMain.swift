import ArgumentParser
import PatternCore
import PatternReport
#if canImport(Glibc)
import Glibc
#endif

/// Entry point with kubectl-style exit codes: 0 ok, 1 validation/compile errors (or, for
/// `diff`/`drift`, "changes found"), 2 usage errors.
public enum PatternMain {
    /// Runs `arguments` (the process's own when nil): the plain renders on the calling thread
    /// (`runRender`), anything else through `runCommand`.
    public static func run(_ arguments: [String]? = nil) async -> Int32 {
        if let code = runRender(arguments) { return code }
        return await runCommand(arguments)
    }

    /// Every command but the plain renders (`run` has tried `runRender` already).
    public static func runCommand(_ arguments: [String]? = nil) async -> Int32 {
        let all = arguments ?? Array(CommandLine.arguments.dropFirst())
        let (rest, mode): ([String], ColorMode)
        do { (rest, mode) = try colorOption(all) } catch {
            Output.err("Error: \(error.message)\n")
            return 2
        }
        return await Output.$colorMode.withValue(mode) {
            await KeepUntilExit.$processEndsAfterRun.withValue(arguments == nil) { await runParsed(rest) }
        }
    }

    /// `pattern render <kustomize-dir>` and `pattern render [-C <repo>] <site>` with no other
    /// option, run on the calling thread without Swift concurrency; nil for anything else
    /// (then `run` handles it). The renders are synchronous: going through `run` would move them
    /// to the concurrency runtime's worker threads, which it starts for that (about half a
    /// millisecond of a one-object render).
    public static func runRender(_ arguments: [String]? = nil) -> Int32? {
        let all = arguments ?? Array(CommandLine.arguments.dropFirst())
        guard let (rest, mode) = try? colorOption(all) else { return nil }
        let dir = RenderCommand.plainKustomizeDirectory(rest)
        let site = dir == nil ? RenderCommand.plainSite(rest) : nil
        guard dir != nil || site != nil else { return nil }
        return Output.$colorMode.withValue(mode) {
            KeepUntilExit.$processEndsAfterRun.withValue(arguments == nil) {
                do {
                    if let dir { try RenderCommand.renderPlainKustomizeDirectory(dir) }
                    if let (repo, site) = site { try RenderCommand.renderPlainSite(site, repo: repo) }
                    return 0
                } catch {
                    return exitCode(reporting: error)
                }
            }
        }
    }

    /// `--color=auto|always|never`, `--color <mode>` and `--no-color`, taken out of the arguments
    /// before parsing: every command accepts them, in any position before `--`.
    static func colorOption(_ args: [String]) throws(ValidationError) -> ([String], ColorMode) {
        var out: [String] = []
        var mode = ColorMode.auto
        var i = 0
        while i < args.count {
            let a = args[i]
            if a == "--" { out += args[i...]; break }
            var value: String?
            if a == "--no-color" { mode = .never; i += 1; continue }
            if a.hasPrefix("--color=") { value = String(a.dropFirst(8)) }
            else if a == "--color" {
                guard i + 1 < args.count else { throw ValidationError("--color needs a value: auto, always or never") }
                value = args[i + 1]; i += 1
            }
            if let value {
                guard let m = ColorMode(rawValue: value) else {
                    throw ValidationError("--color takes auto, always or never, not '\(value)'")
                }
                mode = m
            } else {
                out.append(a)
            }
            i += 1
        }
        return (out, mode)
    }

    /// The command `arguments` name, parsed by that subcommand alone, or nil when it does not
    /// parse cleanly (then the whole tree parses it, for the exact message and usage text).
    ///
    /// `PatternCommand.parseAsRoot` builds ArgumentParser's tree of every subcommand, reflecting
    /// each one's options (a 300-template chart site spent 10 ms of 75 there before rendering);
    /// the named subcommand parsed as a root yields the same command value. Help, version,
    /// completion scripts and every error go the full way, so what users read is unchanged.
    static func parseSubcommandDirectly(_ arguments: [String]) -> (any ParsableCommand)? {
        guard let name = arguments.first, !name.hasPrefix("-"),
              !arguments.contains(where: { $0 == "-h" || $0 == "--help" || $0 == "help" || $0 == "--version" }),
              let type = PatternCommand.configuration.subcommands.first(where: { $0._commandName == name })
        else { return nil }
        return try? type.parseAsRoot(Array(arguments.dropFirst()))
    }

    static func runParsed(_ arguments: [String]) async -> Int32 {
        do {
            var command = try parseSubcommandDirectly(arguments) ?? PatternCommand.parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return 0
        } catch {
            return exitCode(reporting: error)
        }
    }

    /// Prints what `error` says (unless the command already did) and returns the exit code.
    static func exitCode(reporting error: any Error) -> Int32 {
        switch error {
        case let exit as ExitCode:
            return exit.rawValue
        case is ReportedFailure:
            return 1
        case let d as Diagnostics:
            Output.report(d.items)
            return 1
        case let d as Diagnostic:
            Output.report([d])
            return 1
        default:
            let code = PatternCommand.exitCode(for: error)
            let message = PatternCommand.fullMessage(for: error)
            if code == .success {
                Output.out(message + "\n")
                return 0
            }
            Output.err(message + "\n")
            // Argument parsing problems are usage errors (2), as in kubectl.
            if code == .validationFailure { return 2 }
            return code.rawValue
        }
    }
}

/// Thrown by commands after they have printed their diagnostics: exit 1.
public struct ReportedFailure: Error { public init() {} }
