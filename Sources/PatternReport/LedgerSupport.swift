import PatternCore
import PatternDiff
import PatternRecord

extension LedgerEntry {
    /// A ledger entry for an apply, built from its diffs. Objects in `failed` count as failed,
    /// not as changed. `changed` lists `<action> <object>` for every create, update and prune,
    /// in diff order.
    public init(diffs: [ObjectDiff], failed: Set<ObjectKey> = [], time: String, revision: String,
                source: Source = Source(), client: Client = Client(), message: String = "") {
        var counts = Counts()
        var changed: [String] = []
        for d in diffs {
            if failed.contains(d.key) { counts.failed += 1; continue }
            switch d.action {
            case .create: counts.created += 1
            case .update: counts.updated += 1
            case .unchanged: counts.unchanged += 1
            case .prune: counts.pruned += 1
            }
            if d.action != .unchanged { changed.append("\(d.action.rawValue) \(d.key)") }
        }
        let done = counts.created + counts.updated + counts.pruned + counts.unchanged
        let result: Result = failed.isEmpty ? .succeeded : (done == 0 ? .failed : .partial)
        self.init(time: time, revision: revision, source: source, client: client, counts: counts,
                  changed: changed, result: result, message: message)
    }
}
