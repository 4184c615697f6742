import PatternCore
import PatternDiff

/// A repository layout that names sites without overlay files, plugged into a `Workspace`.
///
/// The project's own layout is `overlays/<name>/overlay.yaml` + `patterns/<name>/pattern.yaml`.
/// A layout (Validated Patterns: `values-global.yaml` + `values-<clusterGroup>.yaml` + a
/// clustergroup chart, see the `ValidatedPatterns` module) adds sites and groups the repository
/// implies, and renders a site whose overlay chain names no pattern. Overlay files in
/// `overlays/` still win: an overlay file of the same name replaces the implied overlay.
public protocol RepoLayout: Sendable {
    /// Names of the sites the layout implies in `workspace` (sorted; empty when the repository
    /// is not laid out this way).
    func siteNames(in workspace: Workspace) throws(Diagnostics) -> [String]
    /// The implied overlay named `name`, or nil when the layout implies none of that name.
    func overlay(named name: String, in workspace: Workspace) throws(Diagnostics) -> OverlaySpec?
    /// Renders `site` when no overlay of its `chain` names a pattern; nil when the layout does
    /// not apply (the compiler then reports the missing pattern).
    func render(site: String, chain: [OverlaySpec], in workspace: Workspace) throws(Diagnostics) -> LayoutRender?
}

/// What a `RepoLayout` rendered for a site; the site compiler then applies overlay patches,
/// checks, orders, labels and hashes the objects as for any pattern.
public struct LayoutRender: Sendable {
    /// The pattern name recorded on objects and in the ledger.
    public var pattern: String
    public var version: String?
    /// The component the objects belong to (e.g. `clustergroup`).
    public var component: String
    /// Objects with the file (as users see it) each came from.
    public var objects: [(object: Value, file: String)]
    public var warnings: [Diagnostic]
    /// Cluster facts the layout knows beyond the overlays (e.g. a cached Kubernetes version).
    public var kubeVersion: String?
    /// Values the post-render Argo CD step reads (`global.repoURL`: Applications naming it
    /// read this checkout).
    public var values: Value
    /// The layout's default for `applications` (e.g. Validated Patterns' `main.applications`
    /// in values-global.yaml); an overlay's `applications` and the command-line flag win.
    public var applications: ApplicationsMode? = nil

    public init(pattern: String, version: String? = nil, component: String, objects: [(object: Value, file: String)],
                warnings: [Diagnostic] = [], kubeVersion: String? = nil, values: Value = .emptyObject) {
        self.pattern = pattern; self.version = version; self.component = component
        self.objects = objects; self.warnings = warnings; self.kubeVersion = kubeVersion; self.values = values
    }
}

extension OverlaySpec {
    /// An overlay built in code (by a `RepoLayout`) rather than read from an overlay file.
    public init(kind: Kind, name: String, extends: [String] = [], cluster: ClusterFacts = ClusterFacts(),
                values: Value = .emptyObject, directory: TreePath = .root, file: String) {
        self.init(kind: kind, name: name, extends: extends.map { (name: $0, mark: Mark.none) }, pattern: nil, cluster: cluster,
                  valueFiles: [], values: values, enable: [], disable: [], patches: [], directory: directory, file: file)
    }
}
