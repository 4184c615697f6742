import Testing
import Foundation
import PatternCore
import PatternController
import KubeClient
import KubeTestServer
import TestSupport

/// Issue 14: status stays compact at fleet size: per-site revision, digest and counts, never a
/// list of every object. A site whose 60 objects all drift keeps a status of a few KB.
@Suite struct StatusSizeTests {
    @Test func everyObjectDriftedStillLeavesABoundedStatus() async throws {
        let hub = try await ControllerCluster()
        defer { hub.stop() }
        let dir = makeTempDir("pattern-ctl-big")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var docs = ["apiVersion: v1\nkind: Namespace\nmetadata: {name: big}\n"]
        for i in 0..<60 { docs.append("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-\(i), namespace: big}\ndata: {n: \"\(i)\"}\n") }
        writeFile(dir + "/patterns/big/pattern.yaml", "apiVersion: pattern.dev/v1alpha1\nkind: Pattern\nmetadata: {name: big}\nspec:\n  components:\n  - {name: app, path: app}\n")
        writeFile(dir + "/patterns/big/app/all.yaml", docs.joined(separator: "---\n"))
        writeFile(dir + "/overlays/big/overlay.yaml", "apiVersion: pattern.dev/v1alpha1\nkind: Site\nmetadata: {name: big}\nspec:\n  pattern: {path: patterns/big}\n")
        try git(["init", "-q", "-b", "main"], in: dir)
        try git(["add", "-A"], in: dir)
        try git(["commit", "-q", "-m", "big"], in: dir)
        try await hub.createSync("big", url: "file://" + dir, site: "big")
        let running = RunningController(try hub.controller())
        defer { Task { await running.stop() } }
        #expect(await eventually(20) { await hub.condition("big", "Ready")?["status"]?.string == "True" })

        let cm = GroupVersionKind(group: "", version: "v1", kind: "ConfigMap")
        for i in 0..<60 {
            _ = try await hub.client.patch(cm, name: "cm-\(i)", namespace: "big", patch: ["data": ["n": "edited"]], type: .merge, fieldManager: "kubectl-edit")
        }
        #expect(await eventually(20) { await hub.sync("big")?[path: ["status", "counts", "drifted"]]?.int == 60 })
        let status = try #require(await hub.sync("big")?["status"])
        #expect(status[path: ["counts", "objects"]]?.int == 61)
        // At most 20 drifted entries, the condition names at most five objects per kind.
        #expect(status["drifted"]?.array?.count == Reconciler.maxDriftedListed)
        let drifted = status["conditions"]?.array?.first { $0["type"]?.string == "Drifted" }
        let message = try #require(drifted?["message"]?.string)
        #expect(message.contains("60 objects differ"), "\(message)")
        #expect(message.components(separatedBy: "cm-").count - 1 <= 5, "\(message)")
        // No per-object list: the whole status is a few KB (1,000 such sites: a few MB in the hub).
        var out: [UInt8] = []
        JSONWriter.write(status, into: &out)
        let bytes = out.count
        #expect(bytes < 8_000, "status is \(bytes) bytes")
    }
}
