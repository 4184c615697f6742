import PatternCore
import Kustomize

/// Connects the compiler to the `Kustomize` module: kustomization directories, and the
/// shared strategic-merge / JSON 6902 patch engine for overlay `patches`.
enum KustomizeBridge {
    static func build(tree: any SourceTree, dir: TreePath, displayPrefix: String, limits: YAMLLimits) throws(Diagnostics) -> [(Value, String)] {
        do {
            return try KustomizeBuilder(tree: tree, limits: KustomizeLimits(yaml: limits)).buildWithOrigins(dir).map { ($0.object, displayPrefix + $0.file) }
        } catch {
            throw Diagnostics(error.items.map { $0.prefixingFiles(displayPrefix) })
        }
    }

    /// Applies Kustomize-style `patches` entries of an overlay to `objects`.
    /// Returns warnings: a patch whose target selects no object is skipped loudly (a
    /// component the site disabled may leave a group's patch without a target).
    static func applyPatches(_ patches: [Value], overlayDir: TreePath, overlayFile: String, tree: any SourceTree,
                             to objects: inout [RenderedObject]) throws(Diagnostics) -> [Diagnostic] {
        if patches.isEmpty { return [] }
        var warnings: [Diagnostic] = []
        var components: [ObjectKey: String] = [:]
        for o in objects { if let k = o.object.objectKey { components[k] = o.component } }
        var pairs = objects.map { (object: $0.object, file: $0.file) }
        // One entry at a time, so each target is checked against the objects as the earlier
        // patches left them: a target that selects nothing is a warning (Kustomize ignores it
        // silently; it is either a typo in kind, name or namespace or a disabled component).
        for entry in patches {
            if let tv = entry["target"], tv.object != nil {
                let target: PatchTarget
                do { target = try PatchTarget(parsing: tv, file: overlayFile) } catch { throw Diagnostics([error]) }
                let hit = pairs.contains { p in
                    guard let av = p.object.apiVersion, let k = p.object.kindName else { return false }
                    return target.matchesGVK(GroupVersionKind(apiVersion: av, kind: k)) && target.matches(p.object)
                }
                if !hit {
                    warnings.append(Diagnostic(.warning, at: SourceLocation(file: overlayFile, mark: tv.mark),
                                               "patch target \(tv.description) matches no rendered object; the patch was not applied",
                                               fix: "check the target's kind, name and namespace against `pattern render`, or remove the patch"))
                    continue
                }
            }
            try OverlayPatcher.apply([entry], overlayDir: overlayDir, overlayFile: overlayFile, tree: tree, to: &pairs)
        }
        objects = pairs.map { p in
            let key = p.object.objectKey ?? ObjectKey(group: "", kind: p.object.kindName ?? "", namespace: "", name: p.object.metadataName ?? "")
            return RenderedObject(object: p.object, key: key, component: components[key] ?? "", file: p.file)
        }
        return warnings
    }
}

/// Renders a plain Kustomize directory as `kubectl kustomize` would (nothing added).
public enum KustomizeRender {
    /// Builds `directory`. `restrictToRoot` is Kustomize's default load restrictor
    /// (`LoadRestrictionsRootOnly`): every file a kustomization reads must be in or below its
    /// own directory; false is `--load-restrictor LoadRestrictionsNone`.
    /// `remote` fetches remote bases (`github.com/org/repo//dir?ref=…`); by default they are errors.
    public static func build(directory: String, restrictToRoot: Bool = true, remote: RemotePolicy = .none) throws(Diagnostics) -> [Value] {
        var d = directory
        while d.count > 1 && d.hasSuffix("/") { d.removeLast() }
        // The tree is the directory's filesystem root boundary: Kustomize allows `../` bases,
        // so root the tree at the current directory and refuse only what leaves it.
        let cwd = currentDirectory()
        let absolute = d.hasPrefix("/") ? d : cwd + "/" + d
        let (root, rel) = commonRoot(absolute, cwd)
        let tree = LocalTree(root: root)
        let path: TreePath
        do { path = try TreePath(rel) } catch { throw Diagnostics([.error("\(error)", at: SourceLocation(file: directory))]) }
        var limits = KustomizeLimits.default
        limits.loadRestrictor = restrictToRoot ? .rootOnly : .none
        return try KustomizeBuilder(tree: tree, limits: limits, remote: remote).build(path)
    }

    /// The tree root for a Kustomize build: the working directory when the target is inside
    /// it, else the target's parent chain up to `/`.
    static func commonRoot(_ target: String, _ cwd: String) -> (String, String) {
        if target.hasPrefix(cwd + "/") { return (cwd, String(target.dropFirst(cwd.count + 1))) }
        return ("/", String(target.dropFirst()))
    }
}
