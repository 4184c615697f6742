import Testing
import PatternCore
import PatternDiff
@testable import PatternReport

@Suite struct ChangePreviewTests {
    static func diff(_ yaml: String, live: Bool = false, prune: Bool = false) -> ObjectDiff {
        let v = try! YAMLParser.parse(yaml)
        if prune { return ObjectDiffer.diff(desired: nil, live: v, manager: "pattern") }
        if live { return ObjectDiffer.diff(desired: v, live: v, manager: "pattern") }
        return ObjectDiffer.diff(desired: v, live: nil, manager: "pattern")
    }

    static let ns = diff("apiVersion: v1\nkind: Namespace\nmetadata: {name: app}\n")
    static let dep = diff("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: app}\nspec: {replicas: 1}\n")
    static let cm = diff("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: same, namespace: app}\ndata: {a: b}\n", live: true)
    static let old = diff("apiVersion: batch/v1\nkind: Job\nmetadata: {name: old, namespace: app}\n", prune: true)

    @Test func theTableListsChangesInApplyOrderWithPrunesLastAndCountsNoOps() {
        let levels = [Self.ns.key: 0, Self.dep.key: 2, Self.cm.key: 1]
        let p = ChangePreview(diffs: [Self.dep, Self.cm, Self.old, Self.ns], levels: levels)
        #expect(p.text() == """
            NAMESPACE  KIND             NAME  OP      LEVEL  WAIT FOR
            (cluster)  Namespace        app   create      1  not terminating
            app        Deployment.apps  web   create      3  rollout
            app        Job.batch        old   prune    last  delete
            Op: 2 create, 0 update, 1 prune, 1 unchanged

            """)
        #expect(p.text(showUnchanged: true).contains("app        ConfigMap        same  no-op       2\n"))
        #expect(p.prunes == 1 && p.hasChanges)
        #expect(!ChangePreview(diffs: [Self.cm]).hasChanges)
    }

    @Test func withoutWaitingOnlyPrunesShowWhatTheyWaitFor() {
        let p = ChangePreview(diffs: [Self.dep, Self.old], levels: [Self.dep.key: 0], wait: false)
        #expect(!p.text().contains("rollout"))
        #expect(p.text().contains("delete"))
        #expect(ChangePreview.waitsFor(ObjectKey(group: "example.com", kind: "Widget", namespace: "a", name: "w"), action: .create) == "ready conditions")
        #expect(ChangePreview.waitsFor(ObjectKey(group: "", kind: "ConfigMap", namespace: "a", name: "w"), action: .update) == "")
    }

    @Test func onlyTheOperationIsColoured() {
        let text = ChangePreview(diffs: [Self.old]).text(style: Style(color: true))
        #expect(text.contains("\u{1B}[31mprune\u{1B}[0m"))
        #expect(!ChangePreview(diffs: [Self.old]).text().contains("\u{1B}["))
    }
}
