import PatternCore
import PatternDiff

/// What happened to one object during an apply.
public struct ObjectOutcome: Sendable {
    public enum Status: String, Sendable, CaseIterable {
        case created, configured, unchanged, pruned, failed, notAttempted, wouldCreate, wouldConfigure, wouldPrune
        /// Not applied: `pattern.dev/apply: ignore`, or `if-not-present` and present.
        case skipped
        /// A prune candidate left in the cluster (opted out, not prunable, holds others' objects).
        case kept
    }
    public var key: ObjectKey
    public var status: Status
    /// Error text a user can act on (failed), or the reason it was skipped.
    public var message: String?
    public var level: Int?
    /// `metadata.resourceVersion` of the object as the write returned it (created and
    /// configured): the watch event of exactly this write carries it, so a watcher can tell
    /// this apply's own writes from anyone else's, whoever the field manager.
    public var resourceVersion: String?
    public init(key: ObjectKey, status: Status, message: String? = nil, level: Int? = nil, resourceVersion: String? = nil) {
        self.key = key; self.status = status; self.message = message; self.level = level; self.resourceVersion = resourceVersion
    }
}

/// The report of one `apply`: per-object outcomes in order, request counts, timing.
public struct ApplyResult: Sendable {
    public var outcomes: [ObjectOutcome]
    public var diffs: [ObjectDiff]
    public var levels: Int
    public var writeRequests: Int
    public var listRequests: Int
    public var getRequests: Int
    /// Why prune was refused (a dry run reports it here instead of throwing).
    public var pruneRefused: String?
    /// Why prune did not run (stale source, `--no-prune`), when there was something to prune.
    public var pruneSkipped: String?
    /// Objects a cascade (Namespace/CRD deletion) takes with the pruned objects.
    public var pruneCascade: Int = 0
    /// The inventory or ledger write that failed after the objects were applied. The outcomes
    /// above are still true; the inventory was written before any object was created.
    public var recordError: String?
    /// Server dry-run requests (a dry run checks every change with the API server).
    public var dryRunRequests: Int = 0
    /// WATCH requests (readiness waits watch the pending kinds).
    public var watchRequests: Int = 0
    public var revision: String
    public var durationSeconds: Double

    public init(outcomes: [ObjectOutcome], diffs: [ObjectDiff], levels: Int, writeRequests: Int, listRequests: Int, getRequests: Int,
                pruneRefused: String? = nil, revision: String, durationSeconds: Double) {
        self.outcomes = outcomes; self.diffs = diffs; self.levels = levels; self.writeRequests = writeRequests
        self.listRequests = listRequests; self.getRequests = getRequests; self.pruneRefused = pruneRefused
        self.revision = revision; self.durationSeconds = durationSeconds
    }

    public var failed: [ObjectOutcome] { outcomes.filter { $0.status == .failed } }
    public var succeeded: Bool { failed.isEmpty && pruneRefused == nil && recordError == nil }

    public func count(_ s: ObjectOutcome.Status) -> Int { outcomes.filter { $0.status == s }.count }
}

/// Progress notifications for a live progress line.
public enum ApplyProgress: Sendable {
    case observing(kinds: Int)
    /// A level starts: its index, the level count, its objects and its tier (`Planner.tierNames`).
    case applyingLevel(index: Int, of: Int, objects: Int, tier: String)
    case applied(ObjectKey, ObjectOutcome.Status)
    case waiting(ObjectKey, String)
    /// An applied object's readiness wait ended with it ready (kstatus Current): progress counts it.
    case ready(ObjectKey)
    case pruning(ObjectKey)
}

/// Failures that stop an apply before anything is written. Callers switch on `kind`.
public struct ApplyError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// The plan could not be built (dependency cycle, unknown dependency).
        case planFailed
        /// The prune safety rules refused (empty render, over budget); `objects` lists them.
        case pruneRefused
        /// The inventory or ledger in the cluster cannot be decoded.
        case inventoryUnreadable
        /// Rendered objects exist and are owned by another pattern site; `objects` lists them.
        case ownedByOther
        /// The site is reconciled in the cluster by a PatternSync that is not suspended.
        case managedByController
        /// Reading the cluster (observe, records) failed.
        case clusterUnavailable
    }
    public var kind: Kind
    public var message: String
    public var fix: String?
    /// The objects the error is about (sorted), when there are any.
    public var objects: [ObjectKey]
    /// For `.ownedByOther`: the owners (`pattern/site`) of those objects, sorted.
    public var owners: [String]
    public init(_ kind: Kind, _ message: String, fix: String? = nil, objects: [ObjectKey] = [], owners: [String] = []) {
        self.kind = kind; self.message = message; self.fix = fix; self.objects = objects; self.owners = owners
    }
    public var description: String { fix.map { "\(message)\n  fix: \($0)" } ?? message }
}
