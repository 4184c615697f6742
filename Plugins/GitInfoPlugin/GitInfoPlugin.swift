import Foundation
import PackagePlugin

/// Generates `GitInfo.swift` (the commit and dirty flag of the checkout being built) for the
/// target it is applied to, by running the `pattern-gitinfo` tool.
///
/// SwiftPM re-runs a build command when its inputs or arguments change, so the inputs are the
/// files git changes on a commit, checkout, reset or `git add` (the git directory's `HEAD`,
/// `index`, `logs/HEAD`, `packed-refs`) and every source file of the package (an edit changes
/// the dirty flag). `PATTERN_GIT_COMMIT` in the environment of `swift build` (e.g. a Docker
/// build, which has no `.git`) is passed as an argument and wins over git. Outside a git
/// checkout and without git, the tool writes "unknown".
@main
struct GitInfoPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        let root = context.package.directoryURL
        let output = context.pluginWorkDirectoryURL.appending(path: "GitInfo.swift")
        var inputs: [URL] = []
        for t in context.package.targets {
            guard let source = t as? SourceModuleTarget else { continue }
            for f in source.sourceFiles { inputs.append(f.url) }
        }
        inputs += gitFiles(root)
        let override = ProcessInfo.processInfo.environment["PATTERN_GIT_COMMIT"] ?? ""
        return [.buildCommand(displayName: "Recording the git commit of \(target.name)",
                              executable: try context.tool(named: "pattern-gitinfo").url,
                              arguments: [root.path(), output.path(), override],
                              inputFiles: inputs, outputFiles: [output])]
    }

    /// The files of the checkout's git directory that change with HEAD and the index (a
    /// worktree's `.git` file points at its own git directory; refs live in the common one).
    func gitFiles(_ root: URL) -> [URL] {
        let fm = FileManager.default
        let dotGit = root.appending(path: ".git")
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: dotGit.path(), isDirectory: &isDirectory) else { return [] }
        var gitDir = dotGit
        if !isDirectory.boolValue {
            guard let text = try? String(contentsOf: dotGit, encoding: .utf8), text.hasPrefix("gitdir:") else { return [] }
            let path = text.dropFirst("gitdir:".count).trimmingCharacters(in: .whitespacesAndNewlines)
            gitDir = path.hasPrefix("/") ? URL(filePath: path) : root.appending(path: path)
        }
        var files = ["HEAD", "index", "logs/HEAD"].map { gitDir.appending(path: $0) }
        var common = gitDir
        if let text = try? String(contentsOf: gitDir.appending(path: "commondir"), encoding: .utf8) {
            let path = text.trimmingCharacters(in: .whitespacesAndNewlines)
            common = path.hasPrefix("/") ? URL(filePath: path) : gitDir.appending(path: path)
        }
        files.append(common.appending(path: "packed-refs"))
        return files.filter { fm.fileExists(atPath: $0.path()) }
    }
}
