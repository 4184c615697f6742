import Testing
import PatternCore
import PatternDiff
import PatternRecord
@testable import PatternReport

private func yaml(_ s: String) -> Value { try! YAMLParser.parse(s) }

private let diffs: [ObjectDiff] = {
    let dep = ObjectDiffer.diff(desired: Fixture.value("deployment-desired.yaml"), live: Fixture.value("deployment-live-drifted.json"), manager: "pattern")
    let cm = ObjectDiffer.diff(desired: Fixture.value("configmap-desired.yaml"), live: nil, manager: "pattern")
    let same = ObjectDiffer.diff(desired: Fixture.value("deployment-desired-v1.yaml"), live: Fixture.value("deployment-live-applied.json"), manager: "pattern")
    let secret = ObjectDiffer.diff(desired: yaml("apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: rec}\nstringData: {password: hunter2}\n"),
                                   live: yaml("apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: rec}\ndata: {password: c2VjcmV0}\n"), manager: "pattern")
    let prune = ObjectDiffer.diff(desired: nil, live: Fixture.value("crd-live-established.json"), manager: "pattern")
    return [dep, cm, same, secret, prune]
}()

@Suite struct HumanReportTests {
    @Test func summaryTableCountsPerKind() {
        #expect(HumanReport.summary(diffs) == """
            KIND                                           CREATE  UPDATE  PRUNE  UNCHANGED
            ConfigMap                                           1       0      0          0
            CustomResourceDefinition.apiextensions.k8s.io       0       0      1          0
            Deployment.apps                                     0       1      0          1
            Secret                                              0       1      0          0
            total                                               1       2      1          1

            """)
    }

    @Test func diffsAreColoredOnlyWhenAsked() {
        let plain = HumanReport.diffs(diffs, style: Style(color: false))
        #expect(!plain.contains("\u{1B}["))
        #expect(plain.contains("-        image: nginx:1.26\n+        image: nginx:1.25\n"))
        let colored = HumanReport.diffs(diffs, style: Style(color: true))
        #expect(colored.contains("\u{1B}[31m-        image: nginx:1.26\u{1B}[0m\n\u{1B}[32m+        image: nginx:1.25\u{1B}[0m\n"))
        #expect(colored.contains("\u{1B}[1m--- live/apps/Deployment/rec/web\u{1B}[0m\n"))
        #expect(colored.contains("\u{1B}[36m@@ -16,7 +16,7 @@\u{1B}[0m\n"))
        for text in [plain, colored] { #expect(!text.contains("hunter2") && !text.contains("c2VjcmV0")) }
        #expect(HumanReport.changeList(diffs) == """
            ~ update Deployment.apps rec/web (1 field)
            + create ConfigMap rec/demo
            ~ update Secret rec/s (1 field)
            - prune  CustomResourceDefinition.apiextensions.k8s.io widgets.example.com

            """)
    }

    @Test func progressLines() {
        let waiting = [ReadinessRules.status(of: Fixture.value("deployment-live-applied.json")),
                       Readiness(.current, "ConfigMap rec/demo: ready"),
                       Readiness(.inProgress, "Job rec/migrate: running")]
        #expect(HumanReport.levelProgress(level: 3, of: 5, tier: "workloads", applied: 7, total: 7, waiting: waiting)
                == "[4/5] workloads: 7/7 applied, waiting for Deployment rec/web: 0/2 available (+1 more)")
        #expect(HumanReport.levelProgress(level: 0, of: 2, tier: "definitions", applied: 1, total: 2) == "[1/2] definitions: 1/2 applied")
        #expect(HumanReport.readinessLine(waiting[0]) == "wait   Deployment rec/web: 0/2 available")
    }

    @Test func historyNewestFirst() {
        var l = Ledger(pattern: "web", site: "eu")
        l.append(LedgerEntry(time: "2026-11-21T10:00:00Z", revision: "aaaaaaaaaaaaaaaaaaaa", source: .init(commit: "1111111111111111"),
                             client: .init(user: "ana", host: "laptop", version: "0.1.0"),
                             counts: .init(created: 3), result: .succeeded))
        l.append(LedgerEntry(time: "2026-11-21T11:00:00Z", revision: "bbbbbbbbbbbb", source: .init(commit: "2222222", fromCache: true),
                             client: .init(user: "ci"), counts: .init(updated: 1, pruned: 2), result: .failed))
        #expect(HumanReport.history(l.entries) == """
            SEQ  TIME                  RESULT     REVISION      COMMIT            CREATED  UPDATED  PRUNED  CLIENT
              2  2026-11-21T11:00:00Z  failed     bbbbbbbbbbbb  2222222 (cached)        0        1       2  ci
              1  2026-11-21T10:00:00Z  succeeded  aaaaaaaaaaaa  111111111111            3        0       0  ana@laptop pattern/0.1.0

            """)
    }

    @Test func driftTableNeverShowsSecretValues() throws {
        let desired = try YAMLParser.parse("apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: a}\nstringData: {password: hunter2}\n")
        var live = try YAMLParser.parse("apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: a}\ndata: {password: c3dvcmRmaXNo}\n")
        live[path: ["metadata", "managedFields"]] = [["manager": "kubectl-edit", "operation": "Update", "apiVersion": "v1", "fieldsType": "FieldsV1",
                                                     "fieldsV1": ["f:data": ["f:password": [:]]]]]
        let items = Drift.fields(lastApplied: desired, live: live, manager: "pattern")
        #expect(!items.isEmpty)
        let t = HumanReport.drift(items)
        #expect(t.contains("sha256:") && !t.contains("hunter2") && !t.contains("c3dvcmRmaXNo") && !t.contains("swordfish"))
    }

    @Test func driftTable() {
        let items = Drift.fields(lastApplied: Fixture.value("deployment-desired.yaml"), live: Fixture.value("deployment-live-drifted.json"), manager: "pattern")
        let t = HumanReport.drift(items, objects: ObjectDrift(missing: [ObjectKey(group: "", kind: "ConfigMap", namespace: "rec", name: "gone")], unmanaged: []))
        #expect(t == """
            OBJECT                   FIELD                                            APPLIED → LIVE           MANAGER                    OPERATION  TIME
            Deployment.apps rec/web  .spec.template.spec.containers[name=main].image  nginx:1.25 → nginx:1.26  kubectl-client-side-apply  Update     2026-11-21T19:29:36Z
            missing: ConfigMap rec/gone

            """)
    }
}

@Suite struct MachineReportTests {
    @Test func diffReportSchema() throws {
        let v = MachineReport.diff(diffs, revision: "abc")
        #expect(v["apiVersion"] == "pattern.dev/v1alpha1" && v["kind"] == "DiffReport" && v["revision"] == "abc")
        #expect(v["summary"] == ["create": 1, "update": 2, "unchanged": 1, "prune": 1])
        let objs = try #require(v["objects"]?.array)
        #expect(objs.count == 5)
        #expect(objs[0]["group"] == "apps" && objs[0]["kind"] == "Deployment" && objs[0]["namespace"] == "rec" && objs[0]["name"] == "web")
        #expect(objs[0]["action"] == "update")
        #expect(objs[0]["changes"] == [["path": ".spec.template.spec.containers[name=main].image", "op": "changed",
                                        "desired": "nginx:1.25", "live": "nginx:1.26"]])
        #expect(objs[0]["diff"]?.string == diffs[0].text)
        #expect(objs[1]["changes"] == [] && objs[1]["action"] == "create")
        // Parses back as JSON; secrets only as fingerprints.
        let text = MachineReport.text(v)
        let back = try JSONParser.parse(text)
        #expect(back == v)
        #expect(!text.contains("hunter2") && !text.contains("c2VjcmV0") && text.contains("sha256:"))
        // Stable: key order as documented.
        #expect(v.object?.keys == ["apiVersion", "kind", "revision", "summary", "objects"])
        #expect(objs[0].object?.keys == ["group", "kind", "namespace", "name", "action", "changes", "diff"])
    }

    @Test func planDriftHistoryReadinessSchemas() throws {
        let objs = [Fixture.value("crd-desired.yaml"), yaml("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1, namespace: rec}\n")]
        let p = MachineReport.plan(try Planner.plan(objs))
        #expect(p["kind"] == "Plan")
        #expect(p["levels"]?.array?.map { $0["tier"]?.string ?? "" } == ["definitions", "workloads"])
        #expect(p["edges"] == [["from": ["group": "apiextensions.k8s.io", "kind": "CustomResourceDefinition", "namespace": "", "name": "widgets.example.com"],
                                "to": ["group": "example.com", "kind": "Widget", "namespace": "rec", "name": "w1"], "reason": "crd"]])

        let items = Drift.fields(lastApplied: Fixture.value("configmap-desired.yaml"), live: Fixture.value("configmap-live-kubectl-edit.json"), manager: "pattern")
        let d = MachineReport.drift(items)
        #expect(d["kind"] == "DriftReport")
        #expect(d["fields"]?.array?.first?["owners"] == [["manager": "kubectl-edit", "operation": "Update", "time": "2026-11-21T19:29:34Z", "subresource": ""]])
        #expect(d["fields"]?.array?.first?["path"] == ".data.a" && d["fields"]?.array?.first?["live"] == "99")

        var l = Ledger(pattern: "p", site: "s")
        l.append(LedgerEntry(time: "t1", revision: "r1", result: .succeeded))
        l.append(LedgerEntry(time: "t2", revision: "r2", result: .partial))
        let h = MachineReport.history(l.entries)
        #expect(h["entries"]?.array?.map { $0["seq"]?.int ?? 0 } == [2, 1])
        #expect(h["entries"]?.array?.first?["result"] == "partial")

        let r = MachineReport.readiness([(diffs[0].key, Readiness(.inProgress, "Deployment rec/web: 0/2 available"))])
        #expect(r["objects"] == [["object": MachineReport.object(diffs[0].key), "status": "inProgress", "message": "Deployment rec/web: 0/2 available"]])
    }
}



import PatternApply

@Suite struct ApplyReportTests {
    static let cm = ObjectKey(group: "", kind: "ConfigMap", namespace: "app", name: "cfg")
    static let ns = ObjectKey(group: "", kind: "Namespace", namespace: "", name: "app")

    @Test func everyOutcomeIsPrintedEvenWhenRecordingFailed() throws {
        var r = ApplyResult(outcomes: [ObjectOutcome(key: Self.ns, status: .created), ObjectOutcome(key: Self.cm, status: .kept, message: "pattern.dev/prune: disabled: left in the cluster")],
                            diffs: [], levels: 2, writeRequests: 4, listRequests: 3, getRequests: 1, revision: "sha256:0123456789abcdef", durationSeconds: 0.5)
        r.recordError = "cannot write the ledger entry of this apply (the next apply records it): boom"
        r.pruneSkipped = "the source is stale"
        let text = ApplyReport.text(r, site: "hub", dryRun: false)
        #expect(text.contains("created          Namespace app"))
        #expect(text.contains("kept             ConfigMap app/cfg\n    pattern.dev/prune: disabled"))
        #expect(text.contains("hub: 1 created, 1 kept in 2 levels; revision 0123456789ab; 4 writes, 3 lists, 1 gets"))
        #expect(text.contains("not pruned: the source is stale"))
        #expect(!r.succeeded)
        let json = ApplyReport.json(r, site: "hub")
        #expect(json["recordError"]?.string?.contains("ledger") == true)
        #expect(json["succeeded"] == false)
        #expect(json["objects"]?.array?.count == 2)
    }

    @Test func aDryRunShowsFieldDiffsAndWhatPruneWouldRefuse() {
        var r = ApplyResult(outcomes: [ObjectOutcome(key: Self.cm, status: .wouldPrune)], diffs: [diffs[0]], levels: 1, writeRequests: 0,
                            listRequests: 2, getRequests: 0, revision: "r", durationSeconds: 0)
        r.pruneRefused = "refusing to prune 1 objects"
        r.dryRunRequests = 3
        let text = ApplyReport.text(r, site: "hub", dryRun: true)
        #expect(text.hasPrefix(diffs[0].text))
        #expect(text.contains("3 server dry-runs"))
        #expect(text.contains("prune would be refused: refusing to prune 1 objects"))
        #expect(text.contains("(dry run: nothing was written"))
    }

    @Test func withoutATerminalProgressIsALinePerLevelAndASummaryEveryFewSeconds() {
        let lines = Lines()
        let clock = Clock()
        let p = ApplyProgressPrinter(tty: false, quiet: false, total: 300, now: { clock.now }) { lines.add($0) }
        p.handle(.applyingLevel(index: 0, of: 2, objects: 100, tier: "identity and config"))
        for i in 0..<100 { p.handle(.applied(ObjectKey(group: "", kind: "ConfigMap", namespace: "app", name: "c\(i)"), .created)) }
        p.handle(.applyingLevel(index: 1, of: 2, objects: 200, tier: "workloads"))
        for i in 0..<200 { p.handle(.applied(ObjectKey(group: "apps", kind: "Deployment", namespace: "app", name: "d\(i)"), .created)) }
        clock.now = 3
        p.handle(.waiting(Self.web, "Deployment app/web: 1/3 available"))
        p.tick()
        // One line per level, no line per object, no summary before 5 s.
        #expect(lines.all == ["[1/2] identity and config: 100 objects\n", "[2/2] workloads: 200 objects\n"])
        clock.now = 15
        p.tick()
        #expect(lines.all.count == 3)
        #expect(lines.all.last == "[2/2] workloads: 300/300 applied, 100 ready; waiting for Deployment app/web: 1/3 available, 12s; 15s\n")
        p.tick()
        #expect(lines.all.count == 3)
    }

    @Test func onATerminalTheStatusLineIsRedrawnInPlace() {
        let lines = Lines()
        let clock = Clock()
        let p = ApplyProgressPrinter(tty: true, quiet: false, total: 3, now: { clock.now }) { lines.add($0) }
        p.handle(.applyingLevel(index: 1, of: 3, objects: 2, tier: "workloads"))
        p.handle(.applied(Self.web, .created))
        p.handle(.waiting(Self.web, "Deployment app/web: 0/3 available"))
        clock.now = 1
        p.handle(.waiting(Self.cm, "not ready"))
        clock.now = 64
        p.tick()
        #expect(lines.all.allSatisfy { $0.hasPrefix("\r\u{1B}[2K") && !$0.hasSuffix("\n") })
        #expect(lines.all.last == "\r\u{1B}[2K[2/3] workloads: 1/3 applied, 0 ready; waiting for Deployment app/web: 0/3 available, 1m04s (+1 more); 1m04s")
        p.finish()
        #expect(lines.all.last == "\r\u{1B}[2K")
    }

    @Test func readyEventsCountInTheCurrentLevelAndEndTheirWait() {
        let lines = Lines()
        let clock = Clock()
        let p = ApplyProgressPrinter(tty: true, quiet: false, total: 3, now: { clock.now }) { lines.add($0) }
        p.handle(.applyingLevel(index: 0, of: 1, objects: 2, tier: "workloads"))
        p.handle(.applied(Self.web, .created))
        p.handle(.applied(Self.cm, .created))
        p.handle(.waiting(Self.web, "Deployment app/web: 0/3 available"))
        #expect(p.currentLine.hasPrefix("[1/1] workloads: 2/3 applied, 0 ready; waiting for Deployment app/web"))
        p.handle(.ready(Self.cm))
        p.handle(.ready(Self.web))
        p.handle(.ready(Self.web))   // a repeated report counts once
        #expect(p.currentLine == "[1/1] workloads: 2/3 applied, 2 ready; 0s")
    }

    @Test func identicalFailuresAreOneGroupWithACountAndTheFirstNames() {
        var outcomes = [ObjectOutcome(key: Self.ns, status: .created)]
        for i in 0..<200 {
            outcomes.append(ObjectOutcome(key: ObjectKey(group: "", kind: "ConfigMap", namespace: "edge-eu", name: "c\(i)"), status: .failed,
                                          message: "namespaces \"edge-eu\" not found", level: 1))
        }
        for i in 0..<400 {
            outcomes.append(ObjectOutcome(key: ObjectKey(group: "", kind: "Secret", namespace: "edge-eu", name: "s\(i)"), status: .notAttempted,
                                          message: "an earlier level failed", level: 2))
        }
        outcomes.append(ObjectOutcome(key: Self.cm, status: .failed, message: "forbidden"))
        let r = ApplyResult(outcomes: outcomes, diffs: [], levels: 3, writeRequests: 201, listRequests: 3, getRequests: 0, revision: "r", durationSeconds: 1)
        let text = ApplyReport.text(r, site: "edge-eu", dryRun: false)
        #expect(text.contains("""
            created          Namespace app
            failed           200 objects: namespaces "edge-eu" not found
                ConfigMap edge-eu/c0, ConfigMap edge-eu/c1, ConfigMap edge-eu/c2, … and 197 more
            not attempted    400 objects: an earlier level failed
                Secret edge-eu/s0, Secret edge-eu/s1, Secret edge-eu/s2, … and 397 more
            failed           ConfigMap app/cfg
                forbidden

            """), "\(text)")
        #expect(text.split(separator: "\n").count < 12)
        #expect(text.contains("edge-eu: 1 created, 201 failed, 400 not attempted in 3 levels"))
        // JSON keeps every object and the stable words.
        let json = ApplyReport.json(r, site: "edge-eu")
        #expect(json["objects"]?.array?.count == 602)
        #expect(json["kind"] == "ApplyReport")
        #expect(json["apiVersion"] == "pattern.dev/v1alpha1")
        #expect(json["objects"]?.array?.last?["status"] == "failed")
        #expect(json["objects"]?.array?[201]["status"] == "notAttempted")
    }

    static let web = ObjectKey(group: "apps", kind: "Deployment", namespace: "app", name: "web")

    final class Clock: @unchecked Sendable {
        private var t = 0.0
        private let lock = Lock()
        var now: Double { get { lock.withLock { t } } set { lock.withLock { t = newValue } } }
    }

    final class Lines: @unchecked Sendable {
        private var items: [String] = []
        private let lock = Lock()
        func add(_ s: String) { lock.withLock { items.append(s) } }
        var all: [String] { lock.withLock { items } }
    }
}
