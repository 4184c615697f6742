import PatternCore

/// What one operation on a site's cluster came to.
public enum SiteStep: Sendable, Hashable {
    /// Done; the revision involved (the ledger's current revision, nil when never applied; the
    /// revision applied; the revision rolled back to).
    case ok(String?)
    /// The cluster answered and the operation failed (the message says why, without secrets).
    case failed(String)
    /// The cluster could not be reached.
    case unreachable(String)
}

/// A site's health after its apply.
public enum SiteHealth: Sendable, Hashable {
    /// Every object ready and every check holding.
    case healthy
    /// Not yet (rolling out, Job running, condition not reached yet).
    case progressing(String)
    /// Will not become healthy without a change (progress deadline exceeded, Job failed).
    case failed(String)
    case unreachable(String)
}

/// The operations a rollout needs on each site. `ClusterRolloutSites` does them against real
/// clusters (apply engine, readiness rules, ledger, rollback); tests may script them.
public protocol RolloutSites: Sendable {
    /// The rendered revision the site's ledger says it has (`.ok(nil)`: never applied).
    func currentRevision(_ site: String) async -> SiteStep
    /// Applies the new revision to the site (`.ok(revision applied)`).
    func apply(_ site: String) async -> SiteStep
    /// Whether the site is healthy: its objects ready by the readiness rules, and `checks`.
    func health(_ site: String, checks: [RolloutPlan.HealthCheck]) async -> SiteHealth
    /// Returns the site to `revision`, the one its ledger had before the rollout applied it.
    func rollBack(_ site: String, to revision: String) async -> SiteStep
    /// Why the site must not be applied (e.g. a PatternSync that is not suspended reconciles
    /// it), asked right before each apply; nil: go ahead. A refused site fails without being
    /// written to, so a rollback of its wave leaves it alone.
    func refusal(_ site: String) async -> String?
}

extension RolloutSites {
    public func refusal(_ site: String) async -> String? { nil }
}
