import PatternCore

// The compiled output of one site, handed from Compile to Diff, Apply, Record and the
// controller (which do not link the compiler). See PatternCore's RenderedSite.swift for the
// other hand-off types.

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
    /// Ignore rules for diff, drift and apply: the overlay chain's `ignoreDifferences` and
    /// those of the Applications expanded into this render.
    public var ignoreDifferences: [IgnoreRule] = []
    /// What the render did with Argo CD Applications (`spec.applications`, or the
    /// `--expand-applications` override), and how many it expanded.
    public var applications: ApplicationsMode = .keep
    public var expandedApplications = 0
    /// A rendered site; `apply` settings start empty.
    public init(site: String, pattern: String, patternVersion: String?, cluster: ClusterFacts, objects: [RenderedObject],
                revision: String, components: [(name: String, dependsOn: [String])], provenance: Provenance,
                warnings: [Diagnostic], apply: ApplySettings = ApplySettings()) {
        self.site = site; self.pattern = pattern; self.patternVersion = patternVersion; self.cluster = cluster
        self.objects = objects; self.revision = revision; self.components = components
        self.provenance = provenance; self.warnings = warnings; self.apply = apply
    }
}

/// What a site does with Argo CD `Application`s (and `ApplicationSet`s) in its render.
public enum ApplicationsMode: String, Sendable, Hashable, CaseIterable {
    /// pattern renders each Application's sources and applies their objects itself; Argo CD
    /// is not needed on the cluster.
    case expand
    /// Application objects are applied as they are, for clusters where Argo CD runs (default).
    case keep
}

