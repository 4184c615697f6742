import ArgumentParser
import PatternCore
import PatternReport
#if canImport(Glibc)
import Glibc
#endif

/// Entry point with kubectl-style exit codes: 0 ok, 1 validation/compile errors (or, for
/// `diff`/`drift`, "changes found"), 2 usage errors.
public enum PatternMain {
    public static func run(_ arguments: [String]? = nil) async -> Int32 {
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
            if let dir = RenderCommand.plainKustomizeDirectory(arguments) {
                try RenderCommand.renderPlainKustomizeDirectory(dir)
                return 0
            }
            if let (repo, site) = RenderCommand.plainSite(arguments) {
                try RenderCommand.renderPlainSite(site, repo: repo)
                return 0
            }
            var command = try parseSubcommandDirectly(arguments) ?? PatternCommand.parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return 0
        } catch let exit as ExitCode {
            return exit.rawValue
        } catch is ReportedFailure {
            return 1
        } catch let d as Diagnostics {
            Output.report(d.items)
            return 1
        } catch let d as Diagnostic {
            Output.report([d])
            return 1
        } catch {
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
