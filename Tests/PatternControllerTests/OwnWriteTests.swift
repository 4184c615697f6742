import Testing
import Foundation
import PatternCore
import PatternController
import KubeClient
import KubeTestServer

/// A PatternSync's own apply does not start a second reconcile through the watch events of the
/// objects it just wrote (at a fleet's cold start that doubled the reconciles), while any other
/// writer's change to those objects still does, also right after the apply.
@Suite struct OwnWriteTests {
    static func owned(_ running: RunningController, _ name: String) -> Double {
        running.controller.metrics.value(ControllerMetrics.triggers, [("namespace", "default"), ("name", name), ("trigger", "owned")]) ?? 0
    }

    static func edit(_ hub: ControllerCluster, site: Int, _ value: String) async throws {
        _ = try await hub.client.patch(GroupVersionKind(group: "", version: "v1", kind: "ConfigMap"), name: "cfg", namespace: "bench-\(site)",
                                       patch: ["data": ["site": .string(value)]], type: .merge, fieldManager: "kubectl-edit")
    }

    /// A hub with PatternSync s0 of a two-site repository and a running controller.
    static func started() async throws -> (ControllerCluster, SmallFleetRepo, RunningController) {
        let hub = try await ControllerCluster()
        do {
            let repo = try SmallFleetRepo(sites: 2)
            do {
                try await hub.createSync("s0", url: repo.url, site: "s0")
                return (hub, repo, RunningController(try hub.controller()))
            } catch { repo.remove(); throw error }
        } catch { hub.stop(); throw error }
    }

    /// s0 Ready, then s1 created and Ready.
    static func secondSiteJoins(_ hub: ControllerCluster, _ repo: SmallFleetRepo) async -> Bool {
        let s0 = await eventually(20) { await hub.condition("s0", "Ready")?["status"]?.string == "True" }
        guard s0, (try? await hub.createSync("s1", url: repo.url, site: "s1")) != nil else { return false }
        return await eventually(20) { await hub.condition("s1", "Ready")?["status"]?.string == "True" }
    }

    @Test func anApplysOwnWatchEventsStartNoReconcileButAnotherWritersDo() async throws {
        let (hub, repo, running) = try await OwnWriteTests.started()
        defer { hub.stop(); repo.remove() }
        defer { Task { await running.stop() } }
        // s0 Ready and the ConfigMap watch live: a hand edit of s0's ConfigMap is seen.
        #expect(await eventually(20) { await hub.condition("s0", "Ready")?["status"]?.string == "True" })
        try await OwnWriteTests.edit(hub, site: 0, "edited-1")
        #expect(await eventually(20) { await hub.condition("s0", "Drifted")?["status"]?.string == "True" })

        // s1 joins the running watches and is applied.
        try await hub.createSync("s1", url: repo.url, site: "s1")
        #expect(await eventually(20) { await hub.condition("s1", "Ready")?["status"]?.string == "True" })
        // Another edit of s0's ConfigMap: its event comes after s1's ConfigMap's on the same
        // watch (events are in resourceVersion order), so once s0 reconciles for it, s1's
        // own ConfigMap event has been delivered too.
        let before = OwnWriteTests.owned(running, "s0")
        try await OwnWriteTests.edit(hub, site: 0, "edited-2")
        #expect(await eventually(20) { OwnWriteTests.owned(running, "s0") > before })
        #expect(OwnWriteTests.owned(running, "s1") == 0)
        let s1Triggers = running.controller.metrics.labelSets(ControllerMetrics.triggers)
            .filter { $0.contains { $0 == ("name", "s1") } }.map { $0.first { $0.0 == "trigger" }?.1 ?? "" }
        #expect(Set(s1Triggers) == ["start"], "\(s1Triggers)")

        // A hand edit of s1's objects, whenever it comes, is noticed.
        try await OwnWriteTests.edit(hub, site: 1, "edited")
        #expect(await eventually(20) { await hub.condition("s1", "Drifted")?["status"]?.string == "True" })
        #expect(OwnWriteTests.owned(running, "s1") >= 1)
    }

    /// Another writer using the controller's own field manager (a PatternRollout's driver, on
    /// this replica or another, applies with `configuration.reconciler.fieldManager`) right after
    /// the worker's own apply: its write is not the worker's and starts a reconcile. The old
    /// filter (same manager's `Apply` within 5 s of the apply) swallowed it, and a rollout's site
    /// stayed `WaitingForRollout` (RolloutKillTests).
    @Test func theSameFieldManagersApplyRightAfterTheWorkersOwnStartsAReconcile() async throws {
        let (hub, repo, running) = try await OwnWriteTests.started()
        defer { hub.stop(); repo.remove() }
        defer { Task { await running.stop() } }
        // s1 joins the running watches (no list of its own): only its own apply's events, and
        // the edit below, reach it.
        #expect(await OwnWriteTests.secondSiteJoins(hub, repo))
        // At once (well inside the old 5 s window): an apply by the controller's field manager.
        // It keeps the labels and annotations the render sets (as a driver's apply of the site does).
        let fm = running.controller.configuration.reconciler.fieldManager
        let live = try await hub.client.get(GroupVersionKind(group: "", version: "v1", kind: "ConfigMap"), name: "cfg", namespace: "bench-1")
        let cm: Value = ["apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": ["name": "cfg", "namespace": "bench-1", "labels": live[path: ["metadata", "labels"]] ?? .emptyObject,
                                      "annotations": live[path: ["metadata", "annotations"]] ?? .emptyObject],
                         "data": ["site": "written-by-a-rollout-driver"]]
        _ = try await hub.client.apply(cm, fieldManager: fm, force: true)
        #expect(await eventually(20) { OwnWriteTests.owned(running, "s1") >= 1 })
        #expect(await eventually(20) { await hub.condition("s1", "Drifted")?["status"]?.string == "True" })
        // The worker's own apply (before the edit) started no reconcile of its own.
        let s1Triggers = running.controller.metrics.labelSets(ControllerMetrics.triggers)
            .filter { $0.contains { $0 == ("name", "s1") } }.map { $0.first { $0.0 == "trigger" }?.1 ?? "" }
        #expect(Set(s1Triggers) == ["start", "owned"], "\(s1Triggers)")
    }

    /// An edit that removes the owner label takes the object out of the shared watch's selector:
    /// the API server sends DELETED with the object's previous content (its owner label), so the
    /// event still reaches the site's PatternSync, which reports the drift.
    @Test func anEditRemovingTheOwnerLabelIsNoticed() async throws {
        let (hub, repo, running) = try await OwnWriteTests.started()
        defer { hub.stop(); repo.remove() }
        defer { Task { await running.stop() } }
        // s1 joins the running watches (no list of its own): only its own apply's events, and
        // the edit below, reach it.
        #expect(await OwnWriteTests.secondSiteJoins(hub, repo))
        _ = try await hub.client.patch(GroupVersionKind(group: "", version: "v1", kind: "ConfigMap"), name: "cfg", namespace: "bench-1",
                                       patch: ["metadata": ["labels": [.init(stringLiteral: LabelKeys.owner): .null]]], type: .merge, fieldManager: "kubectl-label")
        #expect(await eventually(20) { OwnWriteTests.owned(running, "s1") >= 1 })
        #expect(await eventually(20) { await hub.condition("s1", "Drifted")?["status"]?.string == "True" })
    }
}
