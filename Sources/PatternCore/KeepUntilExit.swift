import Synchronization

/// Large values a command keeps alive until the process exits instead of releasing them.
///
/// `diff` and `apply` end right after printing; releasing a 3,000-object render, its live
/// objects and diffs one node at a time (plus malloc's free-list consolidation) cost about a
/// tenth of a no-op run's CPU and buys nothing. The Kustomize builder leaves its bookkeeping
/// (each object's ids, file and history, a box of a dozen small allocations) the same way.
/// Only when the command runs as the `pattern` process itself: run in-process (tests) or in
/// the controller, values are released as usual.
public enum KeepUntilExit {
    /// True while a command runs as the process's one command (`PatternMain.run()` without arguments).
    @TaskLocal public static var processEndsAfterRun = false

    /// Keeps `values` alive until the process exits (when `processEndsAfterRun`).
    public static func keep(_ values: Any...) {
        guard processEndsAfterRun else { return }
        _ = Unmanaged.passRetained(Kept(values))
    }

    /// Keeps `values`, which hold the bookkeeping of `objects` objects, alive until the process
    /// exits (when `processEndsAfterRun`), as long as everything kept this way covers at most
    /// `objectBudget` objects: a command that builds many renders one after another (a fleet
    /// rollout) keeps the first ones and releases the rest as usual, so memory stays bounded.
    public static func keep(objects: Int, _ values: Any...) {
        guard processEndsAfterRun else { return }
        let admitted = kept.withLock { total -> Bool in
            guard total + objects <= objectBudget else { return false }
            total += objects
            return true
        }
        if admitted { _ = Unmanaged.passRetained(Kept(values)) }
    }

    /// The most objects whose bookkeeping `keep(objects:_:)` keeps (about a kilobyte each).
    public static let objectBudget = 50_000
    private static let kept = Mutex(0)

    private final class Kept {
        let values: [Any]
        init(_ values: [Any]) { self.values = values }
    }
}
