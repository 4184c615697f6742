// Hand-off types between Compile and the stages after it (Diff, Apply, Record, Report, the
// controller). They live below Compile so those stages do not link the compiler; `RenderedSite`
// itself lives in PatternDiff because it carries the diff's typed ignore rules.

/// One rendered Kubernetes object with where it came from.
public struct RenderedObject: Sendable {
    /// The object. Any change to it forgets `contentDigest`.
    public var object: Value { didSet { contentDigest = nil } }
    /// `ObjectDigest(of: object)`, once `digestContent()` has computed it and until `object`
    /// changes (other than through `setBookkeepingAnnotation`).
    public private(set) var contentDigest: ObjectDigest?
    public var key: ObjectKey
    /// Component that produced it.
    public var component: String
    /// File (as the user sees it) the object was read from.
    public var file: String
    /// An object `component` rendered from `file`.
    public init(object: Value, key: ObjectKey, component: String, file: String) {
        self.object = object; self.key = key; self.component = component; self.file = file
    }

    /// The digest of `object`'s content, computed now unless it is known.
    public mutating func digestContent() -> ObjectDigest {
        if let d = contentDigest { return d }
        let d = ObjectDigest(of: object)
        contentDigest = d
        return d
    }

    /// Sets `metadata.annotations[key]` (creating `metadata` and `annotations` maps where
    /// there are none) to `value`, where `key` is one of the annotations the content digest
    /// leaves out: a known digest stays known (unless the object had no `metadata` map).
    public mutating func setBookkeepingAnnotation(_ key: String, _ value: String) {
        precondition(ObjectDigest.bookkeepingAnnotations.contains(key), "\(key) is not a bookkeeping annotation")
        // The annotation is outside the digest, and so is an `annotations` map made for it; a
        // `metadata` map made here is not.
        let digest = object["metadata"]?.object == nil ? nil : contentDigest
        object.withObject { obj in
            obj.modify("metadata") { m in
                if m == nil || m!.object == nil { m = .emptyObject }
                m!.withObject { mo in
                    mo.modify("annotations") { a in
                        if a == nil || a!.object == nil { a = .emptyObject }
                        a!.withObject { $0.set(key, .string(value)) }
                    }
                }
            }
        }
        contentDigest = digest
    }
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

/// Facts about the cluster a site deploys to; available to manifests as `${cluster.*}`.
public struct ClusterFacts: Sendable, Hashable {
    public var name: String?
    /// kubeconfig context used by apply/diff for this site (defaults to the current context).
    public var context: String?
    public var labels: [String: String]
    /// Kubernetes version Helm charts see as `.Capabilities.KubeVersion` (e.g. `1.31.2`).
    public var kubeVersion: String?
    /// Extra API versions for `.Capabilities.APIVersions` (`monitoring.coreos.com/v1`).
    public var apiVersions: [String]
    /// Whether Helm charts of the site read the cluster (`cluster.helm`); nil: not set here.
    public var helm: HelmClusterSettings?
    public init(name: String? = nil, context: String? = nil, labels: [String: String] = [:],
                kubeVersion: String? = nil, apiVersions: [String] = [], helm: HelmClusterSettings? = nil) {
        self.name = name; self.context = context; self.labels = labels
        self.kubeVersion = kubeVersion; self.apiVersions = apiVersions; self.helm = helm
    }
}
