import Testing
import TestSupport
import PatternCore
import PatternCompile
import ValidatedPatterns
#if canImport(Glibc)
import Glibc
#endif

/// The fixture repository laid out like a Validated Patterns repo (Tests/Fixtures/validated-patterns/vp-demo).
let vpDemo = RepositoryPaths.fixtures + "/validated-patterns/vp-demo"

func workspace(_ root: String = vpDemo) -> Workspace {
    Workspace(tree: LocalTree(root: root), layout: ValidatedPatternsLayout())
}

func compile(_ site: String, root: String = vpDemo) throws -> RenderedSite {
    try SiteCompiler(workspace: workspace(root)).compile(site: site)
}

/// The compile's diagnostics (empty when it succeeded).
func diagnostics(_ site: String, root: String) -> [Diagnostic] {
    do { _ = try compile(site, root: root); return [] } catch let d as Diagnostics { return d.items } catch { return [] }
}

/// A copy of the fixture in a temporary directory (removed at exit), which a test may edit.
func fixtureCopy() -> String {
    let root = TemporaryDirectories.make("vp")
    let tree = LocalTree(root: vpDemo)
    func walk(_ p: TreePath) {
        for e in (try? tree.list(p)) ?? [] {
            let c = p.appending(e.name)
            if e.kind == .directory { walk(c) } else if e.kind == .file {
                writeFile(root + "/" + c.string, String(decoding: (try? tree.read(c)) ?? [], as: UTF8.self))
            }
        }
    }
    walk(.root)
    return root
}

func writeFile(_ path: String, _ text: String) {
    var cur = ""
    for c in path.split(separator: "/").dropLast() { cur += "/" + c; mkdir(cur, 0o755) }
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    _ = text.withCString { write(fd, $0, strlen($0)) }
    close(fd)
}

extension RenderedSite {
    func object(_ kind: String, _ name: String) -> Value? {
        objects.first { $0.key.kind == kind && $0.key.name == name }?.object
    }
    func names(_ kind: String) -> [String] { objects.filter { $0.key.kind == kind }.map(\.key.name).sorted() }
}
