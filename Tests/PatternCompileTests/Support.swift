import Testing
import TestSupport
import PatternCore
@testable import PatternCompile
#if canImport(Glibc)
import Glibc
#endif

let fixturesRoot: String = RepositoryPaths.fixtures

func fixtureWorkspace(_ name: String) -> Workspace {
    Workspace(tree: LocalTree(root: fixturesRoot + "/compile/" + name))
}

/// Writes `files` (path → content) into a fresh temporary directory and returns it.
func temporaryRepo(_ files: [String: String]) -> String {
    let dir = TemporaryDirectories.make("pattern-test")
    for (path, content) in files {
        let full = dir + "/" + path
        var cur = ""
        for c in full.split(separator: "/").dropLast() { cur += "/" + c; mkdir(cur, 0o755) }
        let fd = open(full, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = content.withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }
    return dir
}

/// A minimal valid repository: one pattern with one plain component and one site.
func miniRepo(manifests: String, values: String = "{}", siteExtra: String = "", patternExtra: String = "") -> [String: String] {
    [
        "patterns/p/pattern.yaml": """
            apiVersion: pattern.dev/v1alpha1
            kind: Pattern
            metadata: {name: p}
            spec:
              values: \(values)
              components:
              - {name: c, path: components/c}
            \(patternExtra)
            """,
        "patterns/p/components/c/m.yaml": manifests,
        "overlays/s/overlay.yaml": """
            apiVersion: pattern.dev/v1alpha1
            kind: Site
            metadata: {name: s}
            spec:
              pattern: {path: patterns/p}
            \(siteExtra)
            """,
    ]
}

func compileErrors(_ files: [String: String], site: String = "s") -> [Diagnostic] {
    let ws = Workspace(tree: LocalTree(root: temporaryRepo(files)))
    do {
        _ = try SiteCompiler(workspace: ws).compile(site: site)
        return []
    } catch {
        return error.items
    }
}
