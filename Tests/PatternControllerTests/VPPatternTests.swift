import Testing
import TestSupport
import PatternCore
import KubeClient
import KubeTestServer
@testable import PatternController

/// The Validated Patterns operator's `Pattern` served through PatternSyncs.
@Suite struct VPPatternTests {
    static func pattern(_ spec: Value, name: String = "vp-demo", namespace: String = "openshift-operators") -> Value {
        ["apiVersion": "gitops.hybrid-cloud-patterns.io/v1alpha1", "kind": "Pattern",
         "metadata": ["name": .string(name), "namespace": .string(namespace), "uid": "11111111-2222-3333-4444-555555555555"],
         "spec": spec]
    }

    @Test func aPatternMapsOntoAPatternSync() throws {
        let sync = try VPPattern.patternSync(for: Self.pattern([
            "clusterGroupName": "hub",
            "gitSpec": ["targetRepo": "https://git.example.com/me/multicloud-gitops.git", "targetRevision": "v2", "tokenSecret": "repo-token"],
        ]))
        #expect(sync[path: ["metadata", "name"]]?.string == "vp-demo")
        #expect(sync[path: ["metadata", "ownerReferences"]]?.array?.first?["kind"]?.string == "Pattern")
        #expect(sync[path: ["metadata", "ownerReferences"]]?.array?.first?["uid"]?.string == "11111111-2222-3333-4444-555555555555")
        #expect(sync[path: ["spec", "site"]]?.string == "hub")
        #expect(sync[path: ["spec", "source", "git", "url"]]?.string == "https://git.example.com/me/multicloud-gitops.git")
        #expect(sync[path: ["spec", "source", "git", "ref"]]?.string == "v2")
        #expect(sync[path: ["spec", "source", "git", "credentialsSecretRef", "name"]]?.string == "repo-token")
        #expect(sync[path: ["spec", "driftPolicy"]]?.string == "heal")
        #expect(sync[path: ["spec", "prune"]]?.bool == false)
        // The mapped spec is one our PatternSync decoder accepts.
        let decoded = try PatternSyncSpec(spec: sync["spec"]!)
        #expect(decoded.site == "hub" && decoded.suspend == false)
        // variant wins over clusterGroupName; manualSync suspends.
        let manual = try VPPattern.patternSync(for: Self.pattern([
            "clusterGroupName": "hub", "variant": "standalone", "gitOpsSpec": ["manualSync": true],
            "gitSpec": ["targetRepo": "https://git.example.com/me/p.git"]]))
        #expect(manual[path: ["spec", "site"]]?.string == "standalone")
        #expect(manual[path: ["spec", "suspend"]]?.bool == true)
        #expect(manual[path: ["spec", "source", "git", "ref"]] == nil)
    }

    @Test func unmappablePatternsAreErrorsNamingTheField() {
        func message(_ spec: Value) -> String? {
            do { _ = try VPPattern.patternSync(for: Self.pattern(spec)); return nil } catch { return error.message }
        }
        #expect(message(["clusterGroupName": "hub"])?.contains("spec.gitSpec.targetRepo is required") == true)
        #expect(message(["gitSpec": ["targetRepo": "https://x/y.git"]])?.contains("spec.clusterGroupName is required") == true)
        #expect(message(["clusterGroupName": "hub", "gitSpec": ["targetRepo": "https://x/y.git", "tokenSecret": "t", "tokenSecretNamespace": "other"]])?
            .contains("copy the Secret to 'openshift-operators'") == true)
    }

    @Test func statusUsesTheOperatorsConditionTypes() {
        let sync: Value = ["lastError": "render failed", "conditions": [
            ["type": "Ready", "status": "False", "message": "cannot render site 'hub'", "lastTransitionTime": "2026-01-01T00:00:00Z"],
            ["type": "SourceReady", "status": "True", "message": "fetched abc", "lastTransitionTime": "2026-01-01T00:00:00Z"],
            ["type": "Drifted", "status": "True", "message": "2 objects drifted", "lastTransitionTime": "2026-01-01T00:00:00Z"],
        ]]
        let st = VPPattern.patternStatus(from: sync, previous: ["version": 3])
        #expect((st["conditions"]?.array ?? []).compactMap { $0["type"]?.string } == ["GitInSync", "Degraded", "OutOfSync"])
        #expect(st["lastStep"]?.string == "cannot render site 'hub'")
        #expect(st["lastError"]?.string == "render failed")
        #expect(st["version"]?.int == 3)   // fields we do not own are kept
        // A cleared error is deleted with an explicit null (merge patch).
        let healthy = VPPattern.patternStatus(from: ["conditions": [["type": "Ready", "status": "True", "message": "applied"]]], previous: st)
        #expect(healthy["lastError"]?.isNull == true)
        #expect((healthy["conditions"]?.array ?? []).compactMap { $0["type"]?.string } == ["Synced"])
    }

    @Test func syncOnceKeepsAPatternSyncPerPatternAndMirrorsItsStatus() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        try await Self.installCRD(cluster, group: VPPattern.group, kind: "Pattern", plural: "patterns")
        var good = Self.pattern(["clusterGroupName": "hub", "gitSpec": ["targetRepo": "https://git.example.com/me/p.git"]])
        good["metadata"]?["uid"] = nil
        try cluster.server.store.seed(good)
        try cluster.server.store.seed(Self.pattern(["clusterGroupName": "hub"], name: "broken"))

        try await VPPattern.syncOnce(client: cluster.client, namespace: nil)
        let sync = try #require(cluster.server.store.get(group: "pattern.dev", resource: "patternsyncs", namespace: "openshift-operators", name: "vp-demo"))
        #expect(sync[path: ["spec", "site"]]?.string == "hub")
        let owner = sync[path: ["metadata", "ownerReferences"]]?.array?.first
        let livePattern = try #require(cluster.server.store.get(group: "gitops.hybrid-cloud-patterns.io", resource: "patterns", namespace: "openshift-operators", name: "vp-demo"))
        #expect(owner?["uid"] == livePattern[path: ["metadata", "uid"]])
        #expect(cluster.server.store.get(group: "pattern.dev", resource: "patternsyncs", namespace: "openshift-operators", name: "broken") == nil)
        let broken = cluster.server.store.get(group: "gitops.hybrid-cloud-patterns.io", resource: "patterns", namespace: "openshift-operators", name: "broken")
        #expect(broken?[path: ["status", "lastError"]]?.string?.contains("spec.gitSpec.targetRepo is required") == true)

        // The reconciler reports on the PatternSync; the next pass mirrors it onto the Pattern.
        _ = try cluster.server.store.setStatus(group: "pattern.dev", resource: "patternsyncs", namespace: "openshift-operators", name: "vp-demo",
                                               status: ["conditions": [["type": "Ready", "status": "True", "message": "applied sha256:abc (12 objects)",
                                                                        "lastTransitionTime": "2026-01-01T00:00:00Z"]]])
        try await VPPattern.syncOnce(client: cluster.client, namespace: nil)
        let p = try #require(cluster.server.store.get(group: "gitops.hybrid-cloud-patterns.io", resource: "patterns", namespace: "openshift-operators", name: "vp-demo"))
        #expect(p[path: ["status", "lastStep"]]?.string == "applied sha256:abc (12 objects)")
        #expect(p[path: ["status", "conditions"]]?.array?.first?["type"]?.string == "Synced")
    }

    /// A CRD (any fields allowed, a status subresource) installed in the test API server.
    static func installCRD(_ cluster: ControllerCluster, group: String, kind: String, plural: String) async throws {
        try cluster.server.store.seed([
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": ["name": .string("\(plural).\(group)")],
            "spec": ["group": .string(group), "scope": "Namespaced",
                     "names": ["plural": .string(plural), "singular": .string(kind.lowercased()), "kind": .string(kind), "listKind": .string(kind + "List")],
                     "versions": [["name": "v1alpha1", "served": true, "storage": true, "subresources": ["status": .emptyObject],
                                   "schema": ["openAPIV3Schema": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]]]]],
        ])
        await cluster.client.invalidateDiscovery()
    }

    /// `originRepo` alone is the repository deployed (the operator would deploy its Gitea copy);
    /// with `targetRepo` too, `targetRepo` is (that copy, where users edit). The operator's
    /// defaulted `multiSourceConfig` does not stop the mapping.
    @Test func originRepoIsReadWhenThereIsNoTargetRepo() throws {
        let origin = try VPPattern.patternSync(for: Self.pattern([
            "clusterGroupName": "hub", "multiSourceConfig": ["enabled": true],
            "gitSpec": ["originRepo": "https://github.com/validatedpatterns/multicloud-gitops.git"]]))
        #expect(origin[path: ["spec", "source", "git", "url"]]?.string == "https://github.com/validatedpatterns/multicloud-gitops.git")
        let both = try VPPattern.patternSync(for: Self.pattern([
            "clusterGroupName": "hub",
            "gitSpec": ["originRepo": "https://github.com/validatedpatterns/multicloud-gitops.git",
                        "targetRepo": "https://gitea.apps.example.com/gitea_admin/multicloud-gitops"]]))
        #expect(both[path: ["spec", "source", "git", "url"]]?.string == "https://gitea.apps.example.com/gitea_admin/multicloud-gitops")
    }

    /// `status.applications` lists the site's Argo CD Applications (kept as objects) with their
    /// live sync and health status, in the operator's shape.
    @Test func applicationsOfTheSiteAreMirroredIntoTheStatus() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        try await Self.installCRD(cluster, group: VPPattern.group, kind: "Pattern", plural: "patterns")
        try await Self.installCRD(cluster, group: "argoproj.io", kind: "Application", plural: "applications")
        var p = Self.pattern(["clusterGroupName": "hub", "gitSpec": ["targetRepo": "https://git.example.com/me/p.git"]])
        p["metadata"]?["uid"] = nil
        try cluster.server.store.seed(p)
        func app(_ name: String, owner: String, sync: String, health: String) throws {
            try cluster.server.store.seed([
                "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                "metadata": ["name": .string(name), "namespace": "openshift-gitops", "labels": ["pattern.dev/owner": .string(owner)]],
                "spec": ["project": "default"]])
            try cluster.server.store.setStatus(group: "argoproj.io", resource: "applications", namespace: "openshift-gitops", name: name,
                                               status: ["sync": ["status": .string(sync)], "health": ["status": .string(health)]])
        }
        try app("hello-world", owner: "vp-demo.hub", sync: "Synced", health: "Healthy")
        try app("config-demo", owner: "vp-demo.hub", sync: "OutOfSync", health: "Progressing")
        try app("someone-else", owner: "other.hub", sync: "Synced", health: "Healthy")
        try await VPPattern.syncOnce(client: cluster.client, namespace: nil)
        _ = try cluster.server.store.setStatus(group: "pattern.dev", resource: "patternsyncs", namespace: "openshift-operators", name: "vp-demo",
                                               status: ["inventory": ["pattern": "vp-demo", "site": "hub", "namespace": "pattern-system"],
                                                        "conditions": [["type": "Ready", "status": "True", "message": "applied"]]])
        try await VPPattern.syncOnce(client: cluster.client, namespace: nil)
        let live = try #require(cluster.server.store.get(group: VPPattern.group, resource: "patterns", namespace: "openshift-operators", name: "vp-demo"))
        #expect(live[path: ["status", "applications"]] == [
            ["name": "config-demo", "namespace": "openshift-gitops", "syncStatus": "OutOfSync", "healthStatus": "Progressing"],
            ["name": "hello-world", "namespace": "openshift-gitops", "syncStatus": "Synced", "healthStatus": "Healthy"],
        ])
    }

    /// Served by watches: a Pattern created after serving started gets its PatternSync with
    /// no periodic pass (the resync is an hour here), and its status follows the PatternSync's.
    @Test func patternsAreServedFromWatchesNotPolls() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        try await Self.installCRD(cluster, group: VPPattern.group, kind: "Pattern", plural: "patterns")
        let stop = StopSignal()
        let serving = Task { await VPPattern.serve(client: cluster.client, namespace: nil, stop: stop, resync: 3600) }
        func eventually(_ what: String, _ check: () -> Bool) async {
            for _ in 0..<200 where !check() { try? await Task.sleep(for: .milliseconds(50)) }
            #expect(check(), "\(what)")
        }
        try? await Task.sleep(for: .milliseconds(300))   // the watches are open
        var p = Self.pattern(["clusterGroupName": "hub", "gitSpec": ["targetRepo": "https://git.example.com/me/p.git"]])
        p["metadata"]?["uid"] = nil
        try cluster.server.store.seed(p)
        await eventually("PatternSync made") {
            cluster.server.store.get(group: "pattern.dev", resource: "patternsyncs", namespace: "openshift-operators", name: "vp-demo") != nil
        }
        _ = try cluster.server.store.setStatus(group: "pattern.dev", resource: "patternsyncs", namespace: "openshift-operators", name: "vp-demo",
                                               status: ["conditions": [["type": "Ready", "status": "True", "message": "applied sha256:def"]]])
        await eventually("status mirrored") {
            cluster.server.store.get(group: VPPattern.group, resource: "patterns", namespace: "openshift-operators", name: "vp-demo")?[path: ["status", "lastStep"]]?.string == "applied sha256:def"
        }
        stop.stop()
        let error = await serving.value
        #expect(error == nil)
    }
}
