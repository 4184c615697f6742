import PatternCore
import PatternCompile

/// The Validated Patterns operator's `Pattern` `spec.multiSourceConfig`: where the operator's
/// clustergroup Application takes the clustergroup chart from. When a render has one (a
/// PatternSync made for a `Pattern` carries it as `spec.validatedPatterns.multiSourceConfig`),
/// it decides the chart exactly as the operator does (`newArgoApplication`,
/// `getClusterGroupChartVersion` in patterns-operator's internal/controller/argo.go), and
/// `main.multiSourceConfig` of `values-global.yaml` is not read:
///
/// - `enabled` (default true, as the operator's CRD and `applyDefaults` set it) false: the
///   chart at `common/clustergroup` of the pattern repository;
/// - `clusterGroupGitRepoUrl` set: the chart at the root of that git repository at
///   `clusterGroupChartGitRevision` (default `main`);
/// - otherwise chart `clustergroup` of the Helm repository `helmRepoUrl` (default
///   `https://charts.validatedpatterns.io/`) at `clusterGroupChartVersion`, by default `0.9.*`
///   when the repository's `common/` is slimmed (no `common/operator-install`), else `0.8.*`.
public struct MultiSourceConfig: Sendable, Hashable {
    public var enabled: Bool
    public var helmRepoUrl: String?
    public var clusterGroupChartVersion: String?
    public var clusterGroupGitRepoUrl: String?
    public var clusterGroupChartGitRevision: String?

    public init(enabled: Bool = true, helmRepoUrl: String? = nil, clusterGroupChartVersion: String? = nil,
                clusterGroupGitRepoUrl: String? = nil, clusterGroupChartGitRevision: String? = nil) {
        self.enabled = enabled; self.helmRepoUrl = helmRepoUrl; self.clusterGroupChartVersion = clusterGroupChartVersion
        self.clusterGroupGitRepoUrl = clusterGroupGitRepoUrl; self.clusterGroupChartGitRevision = clusterGroupChartGitRevision
    }

    /// Reads `spec.multiSourceConfig` (nil or `{}`: every field defaulted, as the operator does).
    /// Empty strings count as unset.
    public init(value v: Value?) {
        func text(_ k: String) -> String? {
            guard let s = v?[k]?.scalarText, !s.isEmpty, v?[k]?.isNull != true else { return nil }
            return s
        }
        self.init(enabled: v?["enabled"]?.bool ?? true, helmRepoUrl: text("helmRepoUrl"),
                  clusterGroupChartVersion: text("clusterGroupChartVersion"), clusterGroupGitRepoUrl: text("clusterGroupGitRepoUrl"),
                  clusterGroupChartGitRevision: text("clusterGroupChartGitRevision"))
    }

    /// The object form (unset fields left out), as a PatternSync carries it.
    public var value: Value {
        var o = Object()
        o.append("enabled", .bool(enabled))
        if let helmRepoUrl { o.append("helmRepoUrl", .string(helmRepoUrl)) }
        if let clusterGroupChartVersion { o.append("clusterGroupChartVersion", .string(clusterGroupChartVersion)) }
        if let clusterGroupGitRepoUrl { o.append("clusterGroupGitRepoUrl", .string(clusterGroupGitRepoUrl)) }
        if let clusterGroupChartGitRevision { o.append("clusterGroupChartGitRevision", .string(clusterGroupChartGitRevision)) }
        return .object(o)
    }

    /// The chart the operator would deploy for the checkout in `workspace`.
    public func chartSource(_ workspace: Workspace) -> ClusterGroupChartSource {
        guard enabled else { return .path(VPSitePlan.legacyChartPath) }
        if let git = clusterGroupGitRepoUrl {
            return .git(url: git, revision: clusterGroupChartGitRevision ?? "main", path: ".")
        }
        return .repository(url: helmRepoUrl ?? VPSitePlan.defaultHelmRepo, chart: "clustergroup", version: chartVersion(workspace))
    }

    /// `clusterGroupChartVersion`, else `0.9.*` when the repository's `common/` is slimmed (no
    /// `common/operator-install`) and `0.8.*` otherwise (`getClusterGroupChartVersion`).
    public func chartVersion(_ workspace: Workspace) -> String {
        let slimmed = workspace.tree.resolvedKind(try! TreePath("common/operator-install")) != .directory
        return clusterGroupChartVersion ?? (slimmed ? "0.9.*" : "0.8.*")
    }

    /// The Helm parameters the operator passes to the clustergroup chart from this
    /// configuration (`newApplicationParameters`): the chart's multi-source Applications take
    /// their charts from `global.multiSourceRepoUrl`.
    public func parameters(_ workspace: Workspace) -> Value {
        ["global": ["multiSourceSupport": .bool(enabled), "multiSourceRepoUrl": .string(helmRepoUrl ?? VPSitePlan.defaultHelmRepo),
                    "multiSourceTargetRevision": .string(chartVersion(workspace))]]
    }
}
