#if canImport(Glibc)
import Glibc
#endif
import PatternCore
import PatternApply

/// Apply progress that scales to thousands of objects.
///
/// On a terminal: one status line redrawn in place —
/// `[2/5] workloads: 17/40 applied, 12 ready; waiting for Deployment edge-eu/web: 1/3 available, 12s (+1 more); 34s`.
/// Without a terminal (CI logs): a line when a level starts and, while a level is in progress, the
/// same status line at most every `summaryInterval` seconds — never one line per object.
/// Objects' outcomes are in the final report, not here.
///
/// "ready" counts the objects of the levels apply has moved past (their readiness wait ended)
/// and, in the current level, each object the engine reports ready (`ApplyProgress.ready`);
/// the waited-for object is the one waiting longest, with how long it has been waited for.
public final class ApplyProgressPrinter: @unchecked Sendable {
    let tty: Bool
    let quiet: Bool
    let write: @Sendable (String) -> Void
    let now: @Sendable () -> Double
    /// Seconds between status lines without a terminal.
    public var summaryInterval: Double = 5

    // State (under `lock`).
    var total: Int
    var start: Double
    var level = -1, levels = 0, tier = ""
    var levelObjects = 0, levelApplied = 0
    /// Objects of the current level reported ready.
    var levelReady: Set<ObjectKey> = []
    var finishedLevels = 0
    var waiting: [ObjectKey: (message: String, since: Double)] = [:]
    var pruned = 0
    var live = false
    var lastSummary: Double
    private let lock = Lock()

    /// `write` receives finished text (stderr, usually); `tty` redraws one line in place;
    /// `total` is the render's object count (0: unknown); `now` is a monotonic clock in seconds.
    public init(tty: Bool, quiet: Bool, total: Int = 0, now: @escaping @Sendable () -> Double = ApplyProgressPrinter.monotonicSeconds,
                write: @escaping @Sendable (String) -> Void) {
        self.tty = tty; self.quiet = quiet; self.total = total; self.now = now; self.write = write
        start = now(); lastSummary = start
    }

    /// CLOCK_MONOTONIC in seconds.
    public static let monotonicSeconds: @Sendable () -> Double = {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    public func handle(_ p: ApplyProgress) {
        guard !quiet else { return }
        lock.withLock {
            switch p {
            case .observing(let kinds):
                emit("observing \(kinds) kind\(kinds == 1 ? "" : "s")", final: !tty)
            case .applyingLevel(let i, let n, let count, let tier):
                if level >= 0 { finishedLevels += levelObjects }
                level = i; levels = n; self.tier = tier; levelObjects = count; levelApplied = 0
                levelReady.removeAll(keepingCapacity: true)
                waiting.removeAll(keepingCapacity: true)
                if tty { emit(statusLine(), final: false) } else {
                    emit("[\(i + 1)/\(n)] \(tier): \(count) object\(count == 1 ? "" : "s")", final: true)
                    lastSummary = now()
                }
            case .applied:
                levelApplied += 1
                redrawOrSummarize()
            case .waiting(let k, let msg):
                let since = waiting[k]?.since ?? now()
                waiting[k] = (msg, since)
                redrawOrSummarize()
            case .ready(let k):
                waiting[k] = nil
                levelReady.insert(k)
                redrawOrSummarize()
            case .pruning:
                if level >= 0 && pruned == 0 { finishedLevels += levelObjects; levelObjects = 0; levelApplied = 0; waiting.removeAll() }
                pruned += 1
                if !tty && pruned == 1 { emit("pruning", final: true); lastSummary = now() } else { redrawOrSummarize() }
            }
        }
    }

    /// Redraws the terminal line (elapsed time moves) or, without a terminal, prints the status
    /// line when `summaryInterval` has passed. Call it every second or so.
    public func tick() {
        guard !quiet else { return }
        lock.withLock { redrawOrSummarize() }
    }

    /// Clears the live line.
    public func finish() { lock.withLock { if tty && live { write("\r\u{1B}[2K"); live = false } } }

    /// The status line as it is now.
    public var currentLine: String { lock.withLock { statusLine() } }

    func redrawOrSummarize() {
        guard level >= 0 || pruned > 0 else { return }
        if tty { emit(statusLine(), final: false); return }
        let t = now()
        if t - lastSummary >= summaryInterval { lastSummary = t; emit(statusLine(), final: true) }
    }

    func statusLine() -> String {
        let t = now()
        var s = pruned > 0 ? "pruning: \(pruned) deleted" : "[\(level + 1)/\(levels)] \(tier):"
        if pruned == 0 {
            let applied = finishedLevels + levelApplied
            s += total > 0 ? " \(applied)/\(total) applied" : " \(levelApplied)/\(levelObjects) applied"
            let ready = finishedLevels + levelReady.count
            s += ", \(total > 0 ? min(ready, total) : ready) ready"
        }
        if let first = waiting.min(by: { ($0.value.since, $0.key) < ($1.value.since, $1.key) }) {
            let m = first.value.message
            s += "; waiting for " + (m.contains(first.key.name) ? m : "\(first.key): \(m)") + ", " + ApplyProgressPrinter.duration(t - first.value.since)
            if waiting.count > 1 { s += " (+\(waiting.count - 1) more)" }
        }
        s += "; " + ApplyProgressPrinter.duration(t - start)
        return s
    }

    /// `12s`, `3m04s`.
    static func duration(_ seconds: Double) -> String {
        let s = max(0, Int(seconds))
        return s < 60 ? "\(s)s" : "\(s / 60)m" + (s % 60 < 10 ? "0" : "") + "\(s % 60)s"
    }

    func emit(_ s: String, final: Bool) {
        if tty {
            write("\r\u{1B}[2K" + s + (final ? "\n" : ""))
            live = !final
        } else {
            write(s + "\n")
        }
    }
}
