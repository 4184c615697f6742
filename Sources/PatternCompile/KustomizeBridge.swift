import PatternCore

/// Connects the compiler to the `Kustomize` module (kustomization directories and the shared
/// strategic-merge / JSON 6902 patch engine).
enum KustomizeBridge {
    static func build(tree: any SourceTree, dir: TreePath, displayPrefix: String, limits: YAMLLimits) throws(Diagnostics) -> [(Value, String)] {
        throw Diagnostics([.error("Kustomize directories are not supported yet", at: SourceLocation(file: displayPrefix + dir.string))])
    }

    /// Applies Kustomize-style `patches` entries of an overlay to `objects`.
    static func applyPatches(_ patches: [Value], overlayDir: TreePath, overlayFile: String, tree: any SourceTree,
                             to objects: inout [RenderedObject]) throws(Diagnostics) {
        if patches.isEmpty { return }
        throw Diagnostics([.error("overlay patches are not supported yet", at: SourceLocation(file: overlayFile))])
    }
}

/// Renders a plain Kustomize directory as `kubectl kustomize` would (nothing added).
public enum KustomizeRender {
    public static func build(directory: String) throws(Diagnostics) -> [Value] {
        throw Diagnostics([.error("Kustomize directories are not supported yet", at: SourceLocation(file: directory))])
    }
}
