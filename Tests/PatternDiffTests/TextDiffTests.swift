import Testing
import PatternCore
@testable import PatternDiff

@Suite struct TextDiffTests {
    /// Applying an edit script to `a` must give `b`; the script must keep every line of a LCS.
    private func check(_ a: [String], _ b: [String]) {
        let script = TextDiff.editScript(a, b)
        #expect(script.filter { $0.op != .insert }.map(\.text) == a)
        #expect(script.filter { $0.op != .delete }.map(\.text) == b)
        let lcs = lcsLength(a, b)
        #expect(script.filter { $0.op == .equal }.count == lcs, "not minimal for \(a) -> \(b)")
    }

    private func lcsLength(_ a: [String], _ b: [String]) -> Int {
        var t = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0..<a.count { for j in 0..<b.count { t[i + 1][j + 1] = a[i] == b[j] ? t[i][j] + 1 : max(t[i][j + 1], t[i + 1][j]) } }
        return t[a.count][b.count]
    }

    @Test func editScriptsAreCorrectAndMinimal() {
        check([], [])
        check(["a"], [])
        check([], ["a"])
        check(Array("abcabba").map(String.init), Array("cbabac").map(String.init))  // Myers' paper example
        check(["x", "y", "z"], ["x", "y", "z"])
        // Deterministic pseudo-random cases.
        var seed: UInt64 = 42
        func next() -> Int { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return Int(seed >> 33) }
        for _ in 0..<200 {
            let a = (0..<(next() % 12)).map { _ in String(next() % 4) }
            let b = (0..<(next() % 12)).map { _ in String(next() % 4) }
            check(a, b)
        }
    }

    @Test func largeDifferencesAreBounded() {
        // 3000 lines all different: beyond the edit-distance cap the middle is replaced as a block.
        let a = (0..<3000).map { "a\($0)" }, b = (0..<3000).map { "b\($0)" }
        let s = TextDiff.editScript(["same"] + a + ["tail"], ["same"] + b + ["tail"])
        #expect(s.count == 6002)
        #expect(s.first == TextDiff.Line(op: .equal, text: "same") && s.last == TextDiff.Line(op: .equal, text: "tail"))
        #expect(s.filter { $0.op == .delete }.map(\.text) == a)
        #expect(s.filter { $0.op == .insert }.map(\.text) == b)
        // Under the cap the script is still minimal on a long input.
        var c = a
        c[1500] = "changed"
        check(a, c)
    }

    @Test func unifiedDiffHasStandardHunks() {
        let a = (1...20).map { "l\($0)" }.joined(separator: "\n") + "\n"
        var bl = (1...20).map { "l\($0)" }
        bl[1] = "L2"        // change near the top
        bl.remove(at: 17)   // delete l18, far away: second hunk
        let b = bl.joined(separator: "\n") + "\n"
        let d = TextDiff.unified(a, b, fromName: "live/x", toName: "desired/x")
        #expect(d == """
            --- live/x
            +++ desired/x
            @@ -1,5 +1,5 @@
             l1
            -l2
            +L2
             l3
             l4
             l5
            @@ -15,6 +15,5 @@
             l15
             l16
             l17
            -l18
             l19
             l20

            """)
    }

    @Test func nearbyChangesShareAHunkAndEqualTextsGiveNothing() {
        let a = (1...10).map { "l\($0)" }.joined(separator: "\n")
        var bl = (1...10).map { "l\($0)" }
        bl[2] = "X"; bl[8] = "Y"  // 5 equal lines between: <= 2*3, one hunk
        let d = TextDiff.unified(a, bl.joined(separator: "\n"), fromName: "a", toName: "b")
        #expect(d.split(separator: "\n").filter { $0.hasPrefix("@@") } == ["@@ -1,10 +1,10 @@"])
        #expect(TextDiff.unified(a, a, fromName: "a", toName: "b") == "")
        #expect(TextDiff.unified("", "x\n", fromName: "/dev/null", toName: "b").contains("@@ -0,0 +1 @@\n+x\n"))
    }
}

@Suite struct ObjectDiffTests {
    @Test func updateDiffShowsOnlyManagedFields() {
        let desired = Fixture.value("deployment-desired.yaml")
        let live = Fixture.value("deployment-live-drifted.json")
        let d = ObjectDiffer.diff(desired: desired, live: live, manager: "pattern")
        #expect(d.action == .update)
        #expect(d.key == ObjectKey(group: "apps", kind: "Deployment", namespace: "rec", name: "web"))
        #expect(d.text == """
            --- live/apps/Deployment/rec/web
            +++ desired/apps/Deployment/rec/web
            @@ -16,7 +16,7 @@
                 spec:
                   containers:
                   - name: main
            -        image: nginx:1.26
            +        image: nginx:1.25
                     ports:
                     - containerPort: 8080
                     env:

            """)
        for noise in ["terminationMessagePath", "status", "replicas", "managedFields", "uid", "strategy"] {
            #expect(!d.text.contains(noise), "\(noise)")
        }
    }

    @Test func removalsShowAsDeletedLines() {
        let desired = Fixture.value("deployment-desired.yaml")  // no replicas
        let live = Fixture.value("deployment-live-applied.json")  // replicas: 2, ours
        let d = ObjectDiffer.diff(desired: desired, live: live, manager: "pattern")
        #expect(d.text.contains("\n-  replicas: 2\n"))
        #expect(d.text.contains("\n+        - name: EXTRA\n+          value: x\n"))
    }

    @Test func createAndPruneAndDiffAll() {
        let desired = Fixture.value("configmap-desired.yaml")
        let live = Fixture.value("configmap-live-kubectl-edit.json")
        let c = ObjectDiffer.diff(desired: desired, live: nil, manager: "pattern")
        #expect(c.action == .create)
        #expect(c.text.hasPrefix("--- /dev/null\n+++ desired/core/ConfigMap/rec/demo\n@@ -0,0 +1,9 @@\n+apiVersion: v1\n"))
        let p = ObjectDiffer.diff(desired: nil, live: live, manager: "pattern")
        #expect(p.action == .prune)
        #expect(p.text.hasPrefix("--- live/core/ConfigMap/rec/demo\n+++ /dev/null\n"))
        #expect(!p.text.contains("managedFields") && !p.text.contains("resourceVersion"))

        let all = ObjectDiffer.diffAll(desired: [desired, Fixture.value("deployment-desired-v1.yaml")],
                                       live: [live.objectKey!: live,
                                              Fixture.value("deployment-live-applied.json").objectKey!: Fixture.value("deployment-live-applied.json")],
                                       prune: [Fixture.value("crd-live-established.json")], manager: "pattern")
        #expect(all.map(\.action) == [.update, .unchanged, .prune])
    }
}
