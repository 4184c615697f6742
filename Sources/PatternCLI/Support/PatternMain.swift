import ArgumentParser
import PatternCore
#if canImport(Glibc)
import Glibc
#endif

/// Entry point with kubectl-style exit codes: 0 ok, 1 validation/compile errors (or, for
/// `diff`/`drift`, "changes found"), 2 usage errors.
public enum PatternMain {
    public static func run(_ arguments: [String]? = nil) async -> Int32 {
        do {
            var command = try PatternCommand.parseAsRoot(arguments)
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
