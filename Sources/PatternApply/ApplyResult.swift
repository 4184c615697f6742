import PatternCore
import PatternDiff

/// What happened to one object during an apply.
public struct ObjectOutcome: Sendable {
    public enum Status: String, Sendable, CaseIterable { case created, configured, unchanged, pruned, failed, notAttempted, wouldCreate, wouldConfigure, wouldPrune }
    public var key: ObjectKey
    public var status: Status
    /// Error text a user can act on (failed), or the reason it was skipped.
    public var message: String?
    public var level: Int?
}

/// The report of one `apply`: per-object outcomes in order, request counts, timing.
public struct ApplyResult: Sendable {
    public var outcomes: [ObjectOutcome]
    public var diffs: [ObjectDiff]
    public var levels: Int
    public var writeRequests: Int
    public var listRequests: Int
    public var getRequests: Int
    public var pruneRefused: String?
    public var revision: String
    public var durationSeconds: Double

    public var failed: [ObjectOutcome] { outcomes.filter { $0.status == .failed } }
    public var succeeded: Bool { failed.isEmpty && pruneRefused == nil }

    public func count(_ s: ObjectOutcome.Status) -> Int { outcomes.filter { $0.status == s }.count }
}

/// Progress notifications for a live progress line.
public enum ApplyProgress: Sendable {
    case observing(kinds: Int)
    case applyingLevel(index: Int, of: Int, objects: Int)
    case applied(ObjectKey, ObjectOutcome.Status)
    case waiting(ObjectKey, String)
    case pruning(ObjectKey)
}

/// Failures that stop an apply before anything is written.
public struct ApplyError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var fix: String?
    public init(_ message: String, fix: String? = nil) { self.message = message; self.fix = fix }
    public var description: String { fix.map { "\(message)\n  fix: \($0)" } ?? message }
}
