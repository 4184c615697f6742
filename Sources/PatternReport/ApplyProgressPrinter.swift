import PatternCore
import PatternApply

/// Prints apply progress, one line per change of state: `[2/5] workloads: 0/7 applied` when a level starts,
/// what is waited for (a live line on a terminal), what is pruned. Objects' outcomes are in
/// the final report, not here.
public final class ApplyProgressPrinter: @unchecked Sendable {
    let tty: Bool
    let quiet: Bool
    let write: @Sendable (String) -> Void
    var last: [ObjectKey: String] = [:]
    var live = false
    private let lock = Lock()

    /// `write` receives finished text (stderr, usually); `tty` enables the live line.
    public init(tty: Bool, quiet: Bool, write: @escaping @Sendable (String) -> Void) {
        self.tty = tty; self.quiet = quiet; self.write = write
    }

    public func handle(_ p: ApplyProgress) {
        guard !quiet else { return }
        lock.withLock {
            switch p {
            case .observing(let kinds): line("observing \(kinds) kinds")
            case .applyingLevel(let i, let n, let count, let tier):
                line(HumanReport.levelProgress(level: i, of: n, tier: tier, applied: 0, total: count))
            case .applied: break
            case .waiting(let k, let msg):
                if last[k] != msg {
                    last[k] = msg
                    line(msg.contains(k.name) ? "waiting: \(msg)" : "waiting for \(k): \(msg)", transient: true)
                }
            case .pruning(let k): line("pruning \(k)")
            }
        }
    }

    func line(_ s: String, transient: Bool = false) {
        if tty {
            write("\r\u{1B}[2K" + s + (transient ? "" : "\n"))
            live = transient
        } else {
            write(s + "\n")
        }
    }

    /// Clears a pending live line.
    public func finish() { lock.withLock { if tty && live { write("\r\u{1B}[2K"); live = false } } }
}
