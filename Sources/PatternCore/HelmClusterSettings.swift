// `cluster.helm` settings, part of `ClusterFacts` (a hand-off type); decoded by PatternCompile.

/// `cluster.helm` of a site: where chart components get `.Capabilities` and `lookup` answers.
///
/// ```yaml
/// cluster:
///   helm:
///     capabilities: discover   # declared (default): kubeVersion/apiVersions above, else Helm's defaults
///     lookup: live             # off (default): empty maps, as `helm template`; replay: only the recording
///     lookupSecrets: false     # allow `lookup` of Secrets (their data is then stored in the recording)
/// ```
///
/// `pattern diff/apply` and the controller read the cluster (read-only) and record what they
/// read in the site's cache; `pattern render` and `--offline` replay that recording.
public struct HelmClusterSettings: Sendable, Hashable {
    /// How `lookup` is answered.
    public enum Lookup: String, Sendable, Hashable, CaseIterable {
        /// Empty maps, as `helm template`.
        case off
        /// From the live cluster when one is read, else from the recording.
        case live
        /// Only from the recording in the cache; the cluster is never read for it.
        case replay
    }
    /// Where `.Capabilities` comes from.
    public enum CapabilitiesSource: String, Sendable, Hashable, CaseIterable {
        /// `cluster.kubeVersion`/`apiVersions`, else Helm's defaults.
        case declared
        /// The cluster's `/version` and discovery (recorded; declared `apiVersions` are added).
        case discover
    }
    public var lookup: Lookup
    public var capabilities: CapabilitiesSource
    public var lookupSecrets: Bool

    public init(lookup: Lookup = .off, capabilities: CapabilitiesSource = .declared, lookupSecrets: Bool = false) {
        self.lookup = lookup; self.capabilities = capabilities; self.lookupSecrets = lookupSecrets
    }

    /// Whether a render with a cluster at hand reads it.
    public var readsCluster: Bool { lookup == .live || capabilities == .discover }
    /// Whether renders use recorded cluster reads at all.
    public var usesRecording: Bool { lookup != .off || capabilities == .discover }
}
