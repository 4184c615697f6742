import PatternCore
import PatternRecord

/// Knobs of an apply, with the defaults a cautious user expects.
public struct ApplyOptions: Sendable {
    /// Server-side apply field manager: one for everything this tool writes.
    public var fieldManager: String = "pattern"
    /// Show what would happen (server dry-run of every changed object), change nothing.
    public var dryRun: Bool = false
    /// Take over fields another manager owns instead of failing with a conflict.
    public var forceConflicts: Bool = false
    /// Take over objects another pattern site owns (they are refused otherwise).
    public var adopt: Bool = false
    /// Delete inventory objects that are no longer rendered.
    public var prune: Bool = true
    /// Allow a prune that the safety checks would refuse (empty render, big shrink).
    public var pruneConfirm: Bool = false
    /// Prune even though the source is stale (a cached commit was rendered).
    public var pruneStale: Bool = false
    /// Refuse to prune more than this fraction of the inventory (cascades counted) without `pruneConfirm`.
    public var maxPruneFraction: Double = 0.5
    /// Kinds prune may delete (nil: all). Objects of other kinds are left in the cluster.
    public var pruneKinds: Set<GroupKind>? = nil
    /// Namespaces to observe namespaced kinds in (nil: the whole cluster, per namespace on 403).
    public var namespaces: [String]? = nil
    /// Wait for readiness between levels.
    public var wait: Bool = true
    /// Longest wait for one level to become ready.
    public var waitTimeoutSeconds: Double = 300
    /// Interval between readiness polls.
    public var pollIntervalSeconds: Double = 1
    /// Longest one readiness watch stays open (its `timeoutSeconds`, and a client-side guard a
    /// second later) before the waiter re-LISTs the pending kinds and watches again: a watch
    /// that goes silent (a lost event, a dead connection, a proxy holding the stream) costs at
    /// most this long, never the whole `waitTimeoutSeconds`.
    public var watchRoundSeconds: Int = 5
    /// Concurrent requests inside a level.
    public var concurrency: Int = 8
    /// Who applies, as the ledger records it (the Kubernetes identity, and `tool`: `pattern` for
    /// the CLI, `pattern-controller` for the controller); nil: the local `$USER@host`.
    public var client: LedgerEntry.Client? = nil
    /// What the ledger records to render this apply again exactly (sources, overlay commit,
    /// render options); nil: not known (the entry then cannot be rolled back to).
    public var render: LedgerEntry.Render? = nil
    /// Makes `render` when it is nil, only when a ledger entry is written: the CLI's record
    /// inspects the overlay checkout (a git status walk) and copies the Helm reads, work that a
    /// no-op apply (nothing written) must not pay.
    public var deferredRender: (@Sendable () -> LedgerEntry.Render?)? = nil
    /// Makes `client` when it is nil, only when a ledger entry is written (the CLI asks the API
    /// server who it is: a request a no-op apply does not need).
    public var deferredClient: (@Sendable () async -> LedgerEntry.Client)? = nil
    /// The ledger `seq` this apply rolls back to (`pattern rollback`), recorded in its entry.
    public var rollbackOf: Int? = nil
    /// Only these objects (used by `drift --heal`); nil = all.
    public var only: Set<String>? = nil

    public init() {}

    /// The prune rules these options ask for.
    public var prunePolicy: PrunePolicy {
        PrunePolicy(enabled: prune && only == nil, confirmed: pruneConfirm, maxFraction: maxPruneFraction,
                    allowStaleSource: pruneStale, kinds: pruneKinds)
    }
}
