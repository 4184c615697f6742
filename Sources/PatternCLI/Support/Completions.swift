import PatternCore
import PatternCompile
import KubeClient
import FoundationEssentials
import ValidatedPatterns

/// Values shell completion offers beyond flags (`CompletionKind.custom`): site names from the
/// repository, contexts from the kubeconfig. Each reads only what it names and never fails:
/// a completion that cannot be computed offers nothing.
public enum Completions {
    /// Site names of the repository given with `--repo` on the command line (default: `.`).
    @Sendable public static func sites(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
        var root = "."
        if let i = words.firstIndex(of: "--repo"), i + 1 < words.count { root = words[i + 1] }
        let names = (try? Workspace(tree: LocalTree(root: root), layout: ValidatedPatternsLayout()).siteNames()) ?? []
        return names.filter { $0.hasPrefix(prefix) }
    }

    /// Context names of the kubeconfig (`--kubeconfig` on the command line, else `$KUBECONFIG`,
    /// else `~/.kube/config`).
    @Sendable public static func contexts(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
        let env = ProcessInfo.processInfo.environment
        var files: [String] = []
        if let i = words.firstIndex(of: "--kubeconfig"), i + 1 < words.count { files = [words[i + 1]] }
        else if let k = env["KUBECONFIG"], !k.isEmpty { files = k.split(separator: ":").map(String.init) }
        else if let home = env["HOME"] { files = [home + "/.kube/config"] }
        guard let config = try? KubeConfig.load(files: files) else { return [] }
        return config.contexts.keys.filter { $0.hasPrefix(prefix) }.sorted()
    }
}
