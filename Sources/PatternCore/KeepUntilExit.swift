/// Large values a command keeps alive until the process exits instead of releasing them.
///
/// `diff` and `apply` end right after printing; releasing a 3,000-object render, its live
/// objects and diffs one node at a time (plus malloc's free-list consolidation) cost about a
/// tenth of a no-op run's CPU and buys nothing. Only when the command runs as the `pattern`
/// process itself: run in-process (tests), values are released as usual.
enum KeepUntilExit {
    /// True while a command runs as the process's one command (`PatternMain.run()` without arguments).
    @TaskLocal static var processEndsAfterRun = false

    /// Keeps `values` alive until the process exits (when `processEndsAfterRun`).
    static func keep(_ values: Any...) {
        guard processEndsAfterRun else { return }
        _ = Unmanaged.passRetained(Kept(values))
    }

    private final class Kept {
        let values: [Any]
        init(_ values: [Any]) { self.values = values }
    }
}
