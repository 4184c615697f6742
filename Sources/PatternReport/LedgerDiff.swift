import PatternCore
import PatternRecord

/// What changed between two ledger entries according to the ledger alone (no render): the
/// objects the applies after the older entry, up to the newer one, created, configured or
/// pruned (`LedgerEntry.changed`). `pattern history <site> --diff` uses it where no checkout
/// of the site is at hand; it names objects, not field values (those need a render).
public struct LedgerDiff: Sendable, Hashable {
    /// One object and the applies that changed it.
    public struct Item: Sendable, Hashable {
        public var key: ObjectKey
        /// `(seq, operation)` in ledger order; operation is `created`, `configured` or `pruned`.
        public var operations: [Operation]
    }

    public struct Operation: Sendable, Hashable {
        public var seq: Int
        public var operation: String
    }

    public var added: [Item]
    public var removed: [Item]
    public var changed: [Item]
    /// Entries between the two whose `changed` list was cut at `Ledger.maxChanged` (their other
    /// changes are not known here): the diff may miss objects.
    public var truncatedEntries: [Int]

    public var isEmpty: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty }

    /// The net change from entry `from` to entry `to` (either order) of `entries` (one site's
    /// ledger). An object created and pruned again in between is no difference; `failed` and
    /// unparsable lines are not changes. Linear in the listed changes.
    public init(entries: [LedgerEntry], from: Int, to: Int) {
        let (low, high) = (min(from, to), max(from, to))
        var order: [ObjectKey] = []
        var ops: [ObjectKey: [Operation]] = [:]
        var truncated: [Int] = []
        for e in entries where e.seq > low && e.seq <= high {
            if e.changedTotal > e.changed.count { truncated.append(e.seq) }
            for line in e.changed {
                guard let (op, key) = LedgerDiff.parse(line), op != "failed" else { continue }
                if ops[key] == nil { order.append(key) }
                ops[key, default: []].append(Operation(seq: e.seq, operation: op))
            }
        }
        var added: [Item] = [], removed: [Item] = [], changed: [Item] = []
        for key in order.sorted() {
            let list = ops[key]!
            let first = list.first!.operation, last = list.last!.operation
            let item = Item(key: key, operations: list)
            switch (first == "created", last == "pruned") {
            case (true, true): continue
            case (true, false): added.append(item)
            case (false, true): removed.append(item)
            case (false, false): changed.append(item)
            }
        }
        // Read backwards, what the newer entry added the older one has, and the other way round.
        if from > to { (added, removed) = (removed, added) }
        self.added = added; self.removed = removed; self.changed = changed; truncatedEntries = truncated
    }

    /// `created Deployment.apps edge-eu/web` → (`created`, its key); nil when not that shape.
    static func parse(_ line: String) -> (String, ObjectKey)? {
        let parts = line.split(separator: " ", maxSplits: 2)
        guard parts.count == 3 else { return nil }
        let gk = GroupKind.parse(String(parts[1]))
        let ref = parts[2]
        if let slash = ref.firstIndex(of: "/") {
            return (String(parts[0]), ObjectKey(group: gk.group, kind: gk.kind, namespace: String(ref[..<slash]),
                                                name: String(ref[ref.index(after: slash)...])))
        }
        return (String(parts[0]), ObjectKey(group: gk.group, kind: gk.kind, namespace: "", name: String(ref)))
    }
}

extension HistoryReport {
    /// The ledger-only diff as text: both entries, what differs between their sources, then
    /// the objects added, removed and changed with the applies (seq) that did it. `objectsOnly`:
    /// why field values are not shown (default: the site's checkout is needed to render them).
    public static func ledgerDiff(_ d: LedgerDiff, site: String, a: LedgerEntry, b: LedgerEntry,
                                  objectsOnly: String = "field values need a render of both entries; run in the site's checkout, -C <dir>") -> String {
        var out = "\(site): entry \(a.seq) (\(Revision.short(a.revision))) → entry \(b.seq) (\(Revision.short(b.revision))), from the ledger\n"
        if a.source.commit != b.source.commit {
            out += "  pattern commit  \(a.source.commit.prefix(12)) → \(b.source.commit.prefix(12))\n"
        }
        if a.revision == b.revision { return out + "no differences (the same revision)\n" }
        func seqs(_ i: LedgerDiff.Item) -> String {
            "(" + i.operations.map { "\($0.operation) in \($0.seq)" }.joined(separator: ", ") + ")"
        }
        for i in d.added { out += "  added    \(i.key)  \(seqs(i))\n" }
        for i in d.removed { out += "  removed  \(i.key)  \(seqs(i))\n" }
        for i in d.changed { out += "  changed  \(i.key)  \(seqs(i))\n" }
        if d.isEmpty { out += "  no objects were created, configured or pruned in between\n" }
        if !d.truncatedEntries.isEmpty {
            out += "  entries \(d.truncatedEntries.map(String.init).joined(separator: ", ")) changed more than the \(Ledger.maxChanged) objects the ledger lists: objects may be missing here\n"
        }
        out += "\(d.added.count) added, \(d.removed.count) removed, \(d.changed.count) changed"
        return out + " (objects only: \(objectsOnly))\n"
    }

    /// `kind: HistoryDiff` from the ledger: `basis: ledger`, objects without `fields`, and each
    /// object's `operations` (`{seq, operation}`).
    public static func ledgerDiffDocument(_ d: LedgerDiff, site: String, a: LedgerEntry, b: LedgerEntry) -> Value {
        func entry(_ e: LedgerEntry) -> Value {
            ["seq": .int(e.seq), "revision": .string(e.revision), "time": .string(e.time), "commit": .string(e.source.commit)]
        }
        func items(_ list: [LedgerDiff.Item]) -> Value {
            .array(list.map { i in
                ["object": MachineReport.object(i.key),
                 "operations": .array(i.operations.map { ["seq": .int($0.seq), "operation": .string($0.operation)] })]
            })
        }
        return ["apiVersion": .string(MachineReport.apiVersion), "kind": "HistoryDiff", "site": .string(site), "basis": "ledger",
                "from": entry(a), "to": entry(b),
                "added": items(d.added), "removed": items(d.removed), "changed": items(d.changed),
                "complete": .bool(d.truncatedEntries.isEmpty),
                "truncatedEntries": .array(d.truncatedEntries.map { .int($0) })]
    }
}
