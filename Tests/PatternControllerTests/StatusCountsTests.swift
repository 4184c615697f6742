import Testing
import Foundation
import PatternCore
import PatternController
import KubeClient
import KubeTestServer

/// `status.counts` describe the last apply that changed something: a reconcile that finds nothing
/// to do keeps them (issue 15), and only `objects`/`drifted` follow the current pass.
@Suite struct StatusCountsTests {
    @Test func aNoOpReconcileKeepsTheCountsOfTheApplyBeforeIt() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        let repo = try GitPatternRepo()
        defer { repo.remove() }
        try await cluster.createSync(url: repo.url, interval: "1h")
        let running = RunningController(try cluster.controller(identity: "counts"))
        defer { Task { await running.stop() } }
        #expect(await eventually(15) { await cluster.condition("dev", "Ready")?["status"]?.string == "True" })
        let first = try #require(await cluster.sync()?[path: ["status", "counts"]])
        let applied = try #require(first["applied"]?.int)
        #expect(applied > 0)

        // A reconcile with nothing to apply (same revision, no drift).
        let token = "2026-11-28T02:03:04.000000Z"
        _ = try await cluster.client.patch(ControllerCluster.gvk, name: "dev", namespace: "default",
                                           patch: ["metadata": ["annotations": [ReconcileRequest.annotation: .string(token)]]],
                                           type: .merge, fieldManager: "pattern")
        #expect(await eventually(10) { await cluster.sync()?[path: ["status", ReconcileRequest.statusField]]?.string == token })
        let after = try #require(await cluster.sync()?[path: ["status", "counts"]])
        #expect(after["applied"]?.int == applied, "\(after)")
        #expect(after["unchanged"] == first["unchanged"] && after["objects"] == first["objects"])
    }
}
