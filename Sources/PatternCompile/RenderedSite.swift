// The hand-off types (`RenderedSite`, `RenderedObject`, `Provenance`, `ApplySettings`,
// `ClusterFacts`) live in PatternCore and PatternDiff; importing PatternCompile re-exports them.
@_exported import PatternCore
@_exported import PatternDiff

/// Label and annotation keys the compiler puts on every object (see `LabelKeys`).
public typealias PatternLabels = LabelKeys

/// Resolves a site's `pattern.git` reference to a tree (implemented with libgit2 by the CLI).
public protocol PatternSourceResolver: Sendable {
    func resolve(_ ref: PatternRef.GitRef) throws -> (tree: any SourceTree, directory: TreePath, provenance: Provenance, warnings: [String])
}
