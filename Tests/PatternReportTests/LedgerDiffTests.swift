import Testing
import PatternCore
import PatternRecord
@testable import PatternReport

/// `pattern history --diff` without a checkout: the net change between two ledger entries from
/// the objects each apply in between recorded as changed.
@Suite struct LedgerDiffTests {
    static func entry(_ seq: Int, _ changed: [String], total: Int? = nil) -> LedgerEntry {
        var e = LedgerEntry(time: "2026-01-0\(seq)T00:00:00Z", revision: "sha256:\(seq)", changed: changed, changedTotal: total, result: .succeeded)
        e.seq = seq
        return e
    }

    static let entries = [
        entry(1, ["created Namespace demo", "created ConfigMap demo/old"]),
        entry(2, ["configured ConfigMap demo/cfg", "created ConfigMap demo/tmp", "failed Deployment.apps demo/web"]),
        entry(3, ["pruned ConfigMap demo/tmp", "pruned ConfigMap demo/old", "created Deployment.apps demo/web", "configured ConfigMap demo/cfg"]),
    ]

    @Test func theNetChangeOfTheAppliesInBetween() {
        let d = LedgerDiff(entries: Self.entries, from: 1, to: 3)
        // Entry 1's own changes happened before it: not part of 1 → 3.
        #expect(d.added.map(\.key.description) == ["Deployment.apps demo/web"])
        #expect(d.removed.map(\.key.description) == ["ConfigMap demo/old"])
        #expect(d.changed.map(\.key.description) == ["ConfigMap demo/cfg"])
        #expect(d.changed.first?.operations.map(\.seq) == [2, 3])
        // tmp was created by 2 and pruned by 3: no difference; the failed write is no change.
        #expect(!(d.added + d.removed + d.changed).contains { $0.key.name == "tmp" })
        #expect(d.added.first?.operations.map(\.operation) == ["created"])
        #expect(d.truncatedEntries.isEmpty)
    }

    @Test func readBackwardsAddedAndRemovedSwap() {
        let d = LedgerDiff(entries: Self.entries, from: 3, to: 1)
        #expect(d.added.map(\.key.description) == ["ConfigMap demo/old"])
        #expect(d.removed.map(\.key.description) == ["Deployment.apps demo/web"])
        let text = HistoryReport.ledgerDiff(d, site: "s", a: Self.entries[2], b: Self.entries[0])
        #expect(text.hasPrefix("s: entry 3 (\(Revision.short("sha256:3"))) → entry 1 (\(Revision.short("sha256:1"))), from the ledger"), "\(text)")
        #expect(text.contains("1 added, 1 removed, 1 changed"))
    }

    @Test func anEntryThatListedOnlySomeOfItsChangesMakesTheDiffIncomplete() {
        let entries = [Self.entry(1, []), Self.entry(2, ["created ConfigMap a/b"], total: 150)]
        let d = LedgerDiff(entries: entries, from: 1, to: 2)
        #expect(d.truncatedEntries == [2])
        let doc = HistoryReport.ledgerDiffDocument(d, site: "s", a: entries[0], b: entries[1])
        #expect(doc["apiVersion"]?.string == "pattern.dev/v1alpha1" && doc["kind"]?.string == "HistoryDiff")
        #expect(doc["basis"]?.string == "ledger" && doc["complete"]?.bool == false)
        #expect(doc["added"]?.array?.first?["object"]?["namespace"]?.string == "a")
        #expect(HistoryReport.ledgerDiff(d, site: "s", a: entries[0], b: entries[1]).contains("objects may be missing"))
    }

    @Test func clusterScopedAndGroupedKindsParse() {
        let (op, key) = LedgerDiff.parse("pruned CustomResourceDefinition.apiextensions.k8s.io widgets.example.com")!
        #expect(op == "pruned")
        #expect(key == ObjectKey(group: "apiextensions.k8s.io", kind: "CustomResourceDefinition", namespace: "", name: "widgets.example.com"))
        #expect(LedgerDiff.parse("garbage") == nil)
    }
}
