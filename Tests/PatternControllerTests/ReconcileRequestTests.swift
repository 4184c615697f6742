import Testing
import Foundation
import PatternCore
import PatternController
import KubeClient
import KubeTestServer

/// `pattern reconcile`'s protocol: a new `pattern.dev/reconcile-requested-at` value starts a
/// reconcile at once (not at the interval) and is recorded in `status.lastHandledReconcileAt`.
@Suite struct ReconcileRequestTests {
    @Test func aNewRequestValueReconcilesAtOnceAndIsRecordedInStatus() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        let repo = try GitPatternRepo()
        try await cluster.createSync(url: repo.url, interval: "1h")
        let running = RunningController(try cluster.controller(identity: "req"))
        defer { Task { await running.stop() } }
        #expect(await eventually(15) { await cluster.condition("dev", "Ready")?["status"]?.string == "True" })
        #expect(await cluster.sync()?[path: ["status", ReconcileRequest.statusField]] == nil)
        #expect(!running.controller.metrics.exposition().contains("trigger=\"requested\""))

        // Without the request nothing would run for an hour (interval 1h, nothing drifted).
        let token = "2026-11-28T01:02:03.456789Z"
        _ = try await cluster.client.patch(ControllerCluster.gvk, name: "dev", namespace: "default",
                                           patch: ["metadata": ["annotations": [ReconcileRequest.annotation: .string(token)]]],
                                           type: .merge, fieldManager: "pattern")
        #expect(await eventually(10) { await cluster.sync()?[path: ["status", ReconcileRequest.statusField]]?.string == token })
        #expect(running.controller.metrics.exposition().contains("trigger=\"requested\""))

        // The same value again (any other write to the object) does not start another one.
        let handled = running.controller.metrics.exposition().split(separator: "\n").filter { $0.contains("trigger=\"requested\"") }
        _ = try await cluster.client.patch(ControllerCluster.gvk, name: "dev", namespace: "default",
                                           patch: ["metadata": ["labels": ["team": "a"]]], type: .merge, fieldManager: "pattern")
        try await Task.sleep(nanoseconds: 500_000_000)
        let again = running.controller.metrics.exposition().split(separator: "\n").filter { $0.contains("trigger=\"requested\"") }
        #expect(again == handled)

        // Suspended: a request is not answered (nothing was reconciled) until the resume.
        let later = "2026-11-28T01:02:04.000000Z"
        _ = try await cluster.client.patch(ControllerCluster.gvk, name: "dev", namespace: "default",
                                           patch: ["spec": ["suspend": true], "metadata": ["annotations": [ReconcileRequest.annotation: .string(later)]]],
                                           type: .merge, fieldManager: "pattern")
        #expect(await eventually(10) { await cluster.condition("dev", "Reconciling")?["reason"]?.string == "Suspended" })
        #expect(await cluster.sync()?[path: ["status", ReconcileRequest.statusField]]?.string == token)
        _ = try await cluster.client.patch(ControllerCluster.gvk, name: "dev", namespace: "default",
                                           patch: ["spec": ["suspend": false]], type: .merge, fieldManager: "pattern")
        #expect(await eventually(10) { await cluster.sync()?[path: ["status", ReconcileRequest.statusField]]?.string == later })
    }
}
