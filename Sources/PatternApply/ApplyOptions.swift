/// Knobs of an apply, with the defaults a cautious user expects.
public struct ApplyOptions: Sendable {
    /// Server-side apply field manager: one for everything this tool writes.
    public var fieldManager: String = "pattern"
    /// Show what would happen (server dry-run for writes), change nothing.
    public var dryRun: Bool = false
    /// Take over fields another manager owns instead of failing with a conflict.
    public var forceConflicts: Bool = false
    /// Delete inventory objects that are no longer rendered.
    public var prune: Bool = true
    /// Allow a prune that the safety checks would refuse (empty render, big shrink).
    public var pruneConfirm: Bool = false
    /// Refuse to prune more than this fraction of the inventory without `pruneConfirm`.
    public var maxPruneFraction: Double = 0.5
    /// Wait for readiness between levels.
    public var wait: Bool = true
    /// Longest wait for one level to become ready.
    public var waitTimeoutSeconds: Double = 300
    /// Interval between readiness polls.
    public var pollIntervalSeconds: Double = 1
    /// Concurrent requests inside a level.
    public var concurrency: Int = 8
    /// Only these objects (used by `drift --heal`); nil = all.
    public var only: Set<String>? = nil

    public init() {}
}
