import PatternCore
import Kustomize

/// Reads the objects of one component directory: a Kustomize directory (built by the
/// `Kustomize` module) or a directory tree of plain manifests (`*.yaml`, `*.yml`, `*.json`,
/// recursively, in path order; `List` kinds are flattened, empty documents skipped).
struct ComponentLoader {
    let tree: any SourceTree
    let displayPrefix: String
    let limits: YAMLLimits
    /// Remote bases and files for Kustomize components (none: they are errors).
    var remote: RemotePolicy = .none

    static let kustomizationNames = ["kustomization.yaml", "kustomization.yml", "Kustomization"]

    func isKustomization(_ dir: TreePath) -> Bool {
        ComponentLoader.kustomizationNames.contains { tree.resolvedKind(dir.appending($0)) == .file }
    }

    func load(_ dir: TreePath, component: String, referencedAt: SourceLocation) throws(Diagnostics) -> [(Value, String)] {
        let resolved: TreePath
        do { resolved = try tree.resolve(dir) } catch {
            throw Diagnostics([.error("component '\(component)': \(error)", at: referencedAt, fix: "keep component paths inside the repository")])
        }
        guard tree.entryKind(resolved) == .directory else {
            throw Diagnostics([.error("component '\(component)': directory \(displayPrefix + dir.string) does not exist", at: referencedAt,
                                      fix: "create it or fix the component's 'path'")])
        }
        if isKustomization(resolved) {
            return try KustomizeBridge.build(tree: tree, dir: resolved, displayPrefix: displayPrefix, limits: limits, remote: remote)
        }
        var files: [TreePath] = []
        try collect(resolved, into: &files)
        if files.isEmpty {
            throw Diagnostics([.error("component '\(component)' has no manifests in \(displayPrefix + dir.string)", at: referencedAt,
                                      fix: "add *.yaml files or a kustomization.yaml, or disable the component")])
        }
        let (out, problems) = ManifestFile.readAll(tree, files.map { ($0, displayPrefix + $0.string) }, limits: limits)
        if !problems.isEmpty { throw Diagnostics(problems) }
        return out
    }

    func collect(_ dir: TreePath, into files: inout [TreePath]) throws(Diagnostics) {
        do {
            files += try tree.walkFiles(dir) { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") || $0.hasSuffix(".json") }
        } catch let e as TreePathError {
            let at: String, fix: String
            switch e {
            case .symlinkLoop(let p): at = p; fix = "remove the symlink or point it at a directory that does not contain it"
            case .symlinkEscapes(let p, _), .absolute(let p), .escapes(let p): at = p; fix = "replace the symlink with a file inside the repository"
            }
            throw Diagnostics([.error("\(e)", at: SourceLocation(file: displayPrefix + at), fix: fix)])
        } catch {
            throw Diagnostics([.error("cannot list \(displayPrefix + dir.string): \(error)", at: SourceLocation(file: displayPrefix + dir.string))])
        }
    }
}
