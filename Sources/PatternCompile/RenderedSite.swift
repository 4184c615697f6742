import PatternCore

/// One rendered Kubernetes object with where it came from.
public struct RenderedObject: Sendable {
    public var object: Value
    public var key: ObjectKey
    /// Component that produced it.
    public var component: String
    /// File (as the user sees it) the object was read from.
    public var file: String
}

/// Where the pattern of a rendered site came from, recorded in output and ledger.
public struct Provenance: Sendable, Hashable {
    /// Repository URL (credentials removed) or local path.
    public var source: String
    /// Commit id when the pattern came from git.
    public var commit: String?
    /// True when every remote failed and a cached commit was used.
    public var stale: Bool
    public init(source: String, commit: String? = nil, stale: Bool = false) {
        self.source = source; self.commit = commit; self.stale = stale
    }
}

/// The compiled output of one site: objects in apply order plus what the apply plan needs.
public struct RenderedSite: Sendable {
    public var site: String
    public var pattern: String
    public var patternVersion: String?
    public var cluster: ClusterFacts
    /// Objects in apply order (namespaces and CRDs first, then the usual kind order).
    public var objects: [RenderedObject]
    /// Content hash of the output (before the revision annotation was added): `sha256:<hex>`.
    public var revision: String
    /// Enabled components in pattern order with their resolved dependencies.
    public var components: [(name: String, dependsOn: [String])]
    /// The components that are Helm charts (their `.Release` depends on `ChartReleases`).
    public var chartComponents: [String] = []
    /// The site's `cluster.helm` (last in the chain wins): whether its charts read the cluster.
    public var helm = HelmClusterSettings()
    public var provenance: Provenance
    public var warnings: [Diagnostic]
    /// How the site is applied (overlay `spec.apply`, last in the chain wins).
    public var apply = ApplySettings()
}

/// A site's apply settings (overlay `spec.apply`): where its records live, which namespaces
/// its identity may observe, which kinds prune may delete. Command-line flags override them.
public struct ApplySettings: Sendable, Hashable {
    /// Namespace of the inventory and ledger ConfigMaps (default `pattern-system`).
    public var recordNamespace: String?
    /// Namespaces to observe namespaced kinds in (for identities bound by a Role).
    public var namespaces: [String]?
    /// Kinds prune may delete (`Kind` or `Kind.group`); others are left in the cluster.
    public var pruneKinds: [String]?
    public init(recordNamespace: String? = nil, namespaces: [String]? = nil, pruneKinds: [String]? = nil) {
        self.recordNamespace = recordNamespace; self.namespaces = namespaces; self.pruneKinds = pruneKinds
    }
}

/// Label and annotation keys the compiler puts on every object (see `LabelKeys`).
public typealias PatternLabels = LabelKeys

/// Resolves a site's `pattern.git` reference to a tree (implemented with libgit2 by the CLI).
public protocol PatternSourceResolver: Sendable {
    func resolve(_ ref: PatternRef.GitRef) throws -> (tree: any SourceTree, directory: TreePath, provenance: Provenance, warnings: [String])
}
