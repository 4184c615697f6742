import Testing
import TestSupport
import Foundation
import PatternCore
import PatternCompile
import PatternSource
import PatternApply
import PatternRecord
import PatternController
import KubeClient
import KubeTestServer

@Suite struct ReconcileTests {
    @Test func patternSyncIsAppliedAndReady() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        let repo = try GitPatternRepo()
        try await cluster.createSync(url: repo.url)
        let running = RunningController(try cluster.controller())
        defer { Task { await running.stop() } }

        let ready = await eventually(15) { await cluster.condition("dev", "Ready")?["status"]?.string == "True" }
        let sync = await cluster.sync()
        #expect(ready, "\(sync?["status"] ?? .null)")
        let status = try #require(sync?["status"])
        #expect(status["lastAppliedCommit"]?.string == repo.head)
        #expect(status["observedGeneration"]?.int == sync?[path: ["metadata", "generation"]]?.int)
        #expect(status[path: ["source", "stale"]]?.bool == false)
        #expect(await cluster.condition("dev", "SourceReady")?["status"]?.string == "True")
        #expect(await cluster.condition("dev", "Drifted")?["status"]?.string == "False")
        #expect(await cluster.condition("dev", "Stalled")?["status"]?.string == "False")

        // The revision is the render's (of the commit: its source-commit annotations included),
        // and the ledger recorded it with the commit.
        let site = try SiteCompiler(workspace: Workspace(tree: LocalTree(root: repo.dir)),
                                    treeProvenance: Provenance(source: repo.url, commit: repo.head)).compile(site: "dev")
        #expect(site.objects.allSatisfy { $0.object.annotations[LabelKeys.sourceCommit]?.string == repo.head })
        #expect(status["lastAppliedRevision"]?.string == site.revision)
        let ledger = try await ApplyEngine(client: cluster.client).records.loadLedger(SiteIdentity(site))
        #expect(ledger.entries.last?.revision == site.revision)
        // The ledger says the controller applied it, not a CLI user (issue 15).
        #expect(ledger.entries.last?.client.tool == "pattern-controller")
        #expect(status[path: ["counts", "objects"]]?.int == site.objects.count)
        #expect(status[path: ["counts", "applied"]]?.int == site.objects.count)

        // Every object is live, with our field manager.
        let web = try #require(cluster.server.store.get(group: "apps", resource: "deployments", namespace: "hello-world", name: "hello-world"))
        #expect(web[path: ["metadata", "managedFields"]]?.array?.contains { $0["manager"] == "pattern" } == true)
        // An Event says what was applied.
        #expect(cluster.events().contains { $0["reason"]?.string == "Applied" && $0[path: ["involvedObject", "name"]]?.string == "dev" })
    }

    @Test func driftIsReportedFromTheWatchAndHealedUnderHeal() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        let repo = try GitPatternRepo()
        try await cluster.createSync(url: repo.url, interval: "1h")
        let running = RunningController(try cluster.controller())
        defer { Task { await running.stop() } }
        #expect(await eventually(15) { await cluster.condition("dev", "Ready")?["status"]?.string == "True" })

        // Another manager edits an owned object (as `kubectl scale`/`edit` would).
        let deploy = GroupVersionKind(group: "apps", version: "v1", kind: "Deployment")
        let started = Date()
        _ = try await cluster.client.patch(deploy, name: "hello-world", namespace: "hello-world",
                                           patch: ["spec": ["replicas": 7]], type: .merge, fieldManager: "kubectl-edit")
        // The interval is an hour: only the watch on owned objects can notice this.
        let drifted = await eventually(10) { await cluster.condition("dev", "Drifted")?["status"]?.string == "True" }
        #expect(drifted, "\(running.controller.metrics.exposition().split(separator: "\n").filter { $0.contains("trigger") })")
        #expect(Date().timeIntervalSince(started) < 10)
        let status = try #require(await cluster.sync()?["status"])
        let item = try #require(status["drifted"]?.array?.first { $0["object"]?.string?.contains("hello-world") == true })
        #expect(item["manager"]?.string == "kubectl-edit")
        #expect(item["field"]?.string?.contains("replicas") == true)
        #expect(item["time"]?.string?.isEmpty == false)
        #expect(await cluster.condition("dev", "Drifted")?["message"]?.string?.contains("kubectl-edit") == true)
        // Report policy: left as it is.
        #expect(cluster.server.store.get(group: "apps", resource: "deployments", namespace: "hello-world", name: "hello-world")?[path: ["spec", "replicas"]] == 7)
        #expect(cluster.events().contains { $0["reason"]?.string == "DriftDetected" })

        // Switch to heal (a spec change): the edit is put back.
        _ = try await cluster.client.patch(ControllerCluster.gvk, name: "dev", namespace: "default",
                                           patch: ["spec": ["driftPolicy": "heal"]], type: .merge)
        #expect(await eventually(10) {
            cluster.server.store.get(group: "apps", resource: "deployments", namespace: "hello-world", name: "hello-world")?[path: ["spec", "replicas"]] == 1
        })
        #expect(await eventually(5) { await cluster.condition("dev", "Drifted")?["reason"]?.string == "Healed" })

        // Under heal a new edit is put back within seconds too.
        _ = try await cluster.client.patch(deploy, name: "hello-world", namespace: "hello-world",
                                           patch: ["spec": ["replicas": 9]], type: .merge, fieldManager: "kubectl-edit")
        #expect(await eventually(10) {
            cluster.server.store.get(group: "apps", resource: "deployments", namespace: "hello-world", name: "hello-world")?[path: ["spec", "replicas"]] == 1
        })
        #expect(cluster.events().contains { $0["reason"]?.string == "DriftHealed" })
    }

    /// An object another site took over is named in `Drifted` and `status.drifted` with its
    /// owner (it used to be neither drift nor missing: "in sync").
    @Test func driftedListsObjectsAnotherSiteTookWithTheOwner() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        let repo = try GitPatternRepo()
        try await cluster.createSync(url: repo.url, interval: "1s")
        let running = RunningController(try cluster.controller())
        defer { Task { await running.stop() } }
        #expect(await eventually(15) { await cluster.condition("dev", "Ready")?["status"]?.string == "True" })

        // Another site of the same pattern takes the ConfigMap (as `apply edge --adopt` would).
        let cm = GroupVersionKind(group: "", version: "v1", kind: "ConfigMap")
        let live = try #require(cluster.server.store.get(resource: "configmaps", namespace: "hello-world", name: "hello-world"))
        let pattern = try #require(live.labels[LabelKeys.pattern]?.string)
        let theirs = "\(pattern)/edge"
        _ = try await cluster.client.patch(cm, name: "hello-world", namespace: "hello-world",
                                           patch: ["metadata": ["labels": [LabelKeys.owner: .string("\(pattern).edge"), LabelKeys.site: "edge"]]],
                                           type: .merge,
                                           fieldManager: "pattern-edge")
        #expect(await eventually(10) { await cluster.condition("dev", "Drifted")?["status"]?.string == "True" })
        let message = await cluster.condition("dev", "Drifted")?["message"]?.string ?? ""
        #expect(message.contains("hello-world") && message.contains("owned by \(theirs)"), "\(message)")
        let status = try #require(await cluster.sync()?["status"])
        let item = try #require(status["drifted"]?.array?.first { $0["change"]?.string == "ownedElsewhere" })
        #expect(item["owner"]?.string == theirs)
        #expect(item["object"]?.string?.contains("hello-world") == true)
    }

    @Test func newCommitIsAppliedOnTheNextTrigger() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        let repo = try GitPatternRepo()
        try await cluster.createSync(url: repo.url, interval: "1s")
        let running = RunningController(try cluster.controller())
        defer { Task { await running.stop() } }
        #expect(await eventually(15) { await cluster.sync()?[path: ["status", "lastAppliedCommit"]]?.string == repo.head })

        let commit = try repo.change("overlays/dev/overlay.yaml", "message: Hello from a dev cluster", "message: Hello from commit two")
        #expect(await eventually(10) { await cluster.sync()?[path: ["status", "lastAppliedCommit"]]?.string == commit })
        let cm = cluster.server.store.get(resource: "configmaps", namespace: "hello-world", name: "hello-world")
        #expect(cm?[path: ["data", "message"]]?.string == "Hello from commit two")
        // Objects the controller applies carry the commit, as CLI applies of a git pattern do.
        #expect(cm?.annotations[LabelKeys.sourceCommit]?.string == commit)
        #expect(await cluster.condition("dev", "Ready")?["status"]?.string == "True")
    }

    @Test func unreachableRemoteUsesTheLastGoodCommitAndNeverPrunes() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        let repo = try GitPatternRepo()
        try await cluster.createSync(url: repo.url, interval: "1s")
        let running = RunningController(try cluster.controller())
        defer { Task { await running.stop() } }
        #expect(await eventually(15) { await cluster.condition("dev", "Ready")?["status"]?.string == "True" })
        let good = repo.head

        // The remote goes away.
        try FileManager.default.moveItem(atPath: repo.dir, toPath: repo.dir + "-gone")
        cluster.server.requestLog.reset()
        let stale = await eventually(10) { await cluster.condition("dev", "SourceReady")?["reason"]?.string == "Stale" }
        let st = await cluster.sync()?["status"] ?? .null
        #expect(stale, "\(st)")
        let source = await cluster.condition("dev", "SourceReady")
        #expect(source?["status"]?.string == "False")
        #expect(source?["message"]?.string?.contains(String(good.prefix(12))) == true)
        #expect(await cluster.condition("dev", "Ready")?["reason"]?.string == "SourceStale")
        #expect(await cluster.sync()?[path: ["status", "source", "stale"]]?.bool == true)
        #expect(await cluster.sync()?[path: ["status", "lastAppliedCommit"]]?.string == good)
        // Nothing pruned or deleted, objects still there.
        #expect(cluster.server.requestLog.writes.filter { $0.verb == "delete" }.isEmpty)
        #expect(cluster.server.store.get(group: "apps", resource: "deployments", namespace: "hello-world", name: "hello-world") != nil)

        // It comes back: fresh again.
        try FileManager.default.moveItem(atPath: repo.dir + "-gone", toPath: repo.dir)
        #expect(await eventually(10) { await cluster.condition("dev", "SourceReady")?["status"]?.string == "True" })
        #expect(await eventually(5) { await cluster.condition("dev", "Ready")?["status"]?.string == "True" })
    }

    @Test func missingSourceWithoutCacheFailsWithoutWriting() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        try await cluster.createSync(url: "file:///nonexistent/pattern-repo.git", interval: "1h")
        let running = RunningController(try cluster.controller())
        defer { Task { await running.stop() } }
        #expect(await eventually(10) { await cluster.condition("dev", "SourceReady")?["reason"]?.string == "FetchFailed" })
        #expect(await cluster.condition("dev", "Ready")?["reason"]?.string == "SourceUnavailable")
        #expect(await cluster.sync()?[path: ["status", "lastError"]]?.string?.contains("nonexistent") == true)
        #expect(cluster.server.requestLog.writes.filter { ($0.verb == "apply" || $0.verb == "delete") && $0.resource != "customresourcedefinitions" }.isEmpty)
        #expect(cluster.events().contains { $0["type"]?.string == "Warning" && $0["reason"]?.string == "SourceUnavailable" })
        // Retried with backoff (not once per interval).
        #expect(await eventually(5) { (running.controller.metrics.value(ControllerMetrics.reconcileErrors, [("namespace", "default"), ("name", "dev"), ("stage", "source")]) ?? 0) >= 2 })
    }

    @Test func renderFailureStallsAndWritesNothing() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        let repo = try GitPatternRepo()
        try await cluster.createSync(url: repo.url, site: "no-such-site", interval: "1h")
        let running = RunningController(try cluster.controller())
        defer { Task { await running.stop() } }
        #expect(await eventually(10) { await cluster.condition("dev", "Stalled")?["status"]?.string == "True" })
        #expect(await cluster.condition("dev", "Ready")?["reason"]?.string == "RenderFailed")
        #expect(await cluster.condition("dev", "Ready")?["message"]?.string?.contains("no-such-site") == true)
        #expect(cluster.server.requestLog.writes.filter { $0.verb == "apply" && $0.resource != "customresourcedefinitions" }.isEmpty)
    }

    /// Adds chart component `c` with `template` to the repository's pattern and sets
    /// `helm` in the dev overlay's cluster.
    func addReadingChart(_ repo: GitPatternRepo, template: String, helm: String) throws {
        writeFile(repo.dir + "/patterns/multicloud-platform/charts/c/Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n")
        writeFile(repo.dir + "/patterns/multicloud-platform/charts/c/templates/cm.yaml", template)
        let patternFile = repo.dir + "/patterns/multicloud-platform/pattern.yaml"
        let text = readFile(patternFile)
        #expect(text.contains("  components:\n"))
        writeFile(patternFile, text.replacingOccurrences(of: "  components:\n", with: "  components:\n  - {name: c, chart: {path: charts/c, namespace: default}}\n"))
        try git(["add", "-A"], in: repo.dir)
        try git(["commit", "-q", "-m", "chart"], in: repo.dir)
        try repo.change("overlays/dev/overlay.yaml", "    name: kind-dev\n", "    name: kind-dev\n    helm: \(helm)\n")
    }

    /// The controller reads the cluster for `cluster.helm` as `pattern apply` does: discovery
    /// for `.Capabilities`, and `lookup` in passes (the second lookup's name comes from the
    /// first one's answer, so it takes a second read pass), read-only.
    @Test func aSiteWhoseChartsReadTheClusterRendersFromLiveLookupsAndDiscovery() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        let repo = try GitPatternRepo()
        defer { repo.remove() }
        _ = try await cluster.client.apply(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "x"]], fieldManager: "test")
        _ = try await cluster.client.apply(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "y", "namespace": "x"],
                                            "data": ["mode": "blue", "next": "z"]], fieldManager: "test")
        _ = try await cluster.client.apply(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "z", "namespace": "x"],
                                            "data": ["size": "large"]], fieldManager: "test")
        try addReadingChart(repo, template: """
            {{- $y := lookup "v1" "ConfigMap" "x" "y" }}
            {{- $z := lookup "v1" "ConfigMap" "x" (dig "data" "next" "none" $y) }}
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: c}
            data:
              mode: {{ dig "data" "mode" "none" $y | quote }}
              size: {{ dig "data" "size" "none" $z | quote }}
              kube: {{ .Capabilities.KubeVersion.Version | quote }}
              hasApps: {{ .Capabilities.APIVersions.Has "apps/v1/Deployment" | quote }}

            """, helm: "{lookup: live, capabilities: discover}")
        let before = cluster.server.requestLog.writes.count
        try await cluster.createSync(url: repo.url, interval: "1h")
        let running = RunningController(try cluster.controller())
        defer { Task { await running.stop() } }
        let ready = await eventually(15) { await cluster.condition("dev", "Ready")?["status"]?.string == "True" }
        let syncStatus = await cluster.sync()?["status"] ?? .null
        #expect(ready, "\(syncStatus)")
        let c = try #require(cluster.server.store.get(group: "", resource: "configmaps", namespace: "default", name: "c"))
        #expect(c["data"]?["mode"]?.string == "blue")
        #expect(c["data"]?["size"]?.string == "large", "the chained lookup got its own read pass")
        let version = try await cluster.client.serverVersion()["gitVersion"]?.string
        #expect(c["data"]?["kube"]?.string == version)
        #expect(c["data"]?["hasApps"]?.string == "true")
        // The looked-up objects were only read.
        #expect(!cluster.server.requestLog.writes.dropFirst(before).contains { $0.namespace == "x" })
    }

    @Test func aChartLookingUpASecretWithoutLookupSecretsStallsAndWritesNothing() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        let repo = try GitPatternRepo()
        defer { repo.remove() }
        try addReadingChart(repo, template: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {n: {{ len (lookup \"v1\" \"Secret\" \"x\" \"pw\") | quote }}}\n",
                            helm: "{lookup: live}")
        try await cluster.createSync(url: repo.url, interval: "1h")
        let running = RunningController(try cluster.controller())
        defer { Task { await running.stop() } }
        #expect(await eventually(10) { await cluster.condition("dev", "Stalled")?["status"]?.string == "True" })
        #expect(await cluster.condition("dev", "Ready")?["reason"]?.string == "RenderFailed")
        #expect(await cluster.condition("dev", "Ready")?["message"]?.string?.contains("lookupSecrets") == true)
        #expect(cluster.server.requestLog.writes.filter { $0.verb == "apply" && $0.resource != "customresourcedefinitions" }.isEmpty)
    }
}

@Suite struct MoreReconcileTests {
    @Test func removedComponentIsPrunedWithAnEvent() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        let repo = try GitPatternRepo()
        try await cluster.createSync(url: repo.url, interval: "1s")
        let running = RunningController(try cluster.controller())
        defer { Task { await running.stop() } }
        #expect(await eventually(15) { await cluster.condition("dev", "Ready")?["status"]?.string == "True" })
        let commit = try repo.change("overlays/dev/overlay.yaml", "disable: [telemetry-operator]", "disable: [telemetry-operator, hello-world]")
        #expect(await eventually(10) { await cluster.sync()?[path: ["status", "lastAppliedCommit"]]?.string == commit })
        #expect(cluster.server.store.get(group: "apps", resource: "deployments", namespace: "hello-world", name: "hello-world") == nil)
        #expect((await cluster.sync()?[path: ["status", "counts", "pruned"]]?.int ?? 0) >= 3)
        #expect(cluster.events().contains { $0["reason"]?.string == "Pruned" && $0["message"]?.string?.contains("hello-world") == true })
    }

    @Test func localPathSourceAndSuspend() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        let repo = try GitPatternRepo()
        let o: Value = ["apiVersion": "pattern.dev/v1alpha1", "kind": "PatternSync", "metadata": ["name": "local", "namespace": "default"],
                        "spec": ["source": ["path": .string(repo.dir)], "site": "dev", "interval": "1h"]]
        _ = try await cluster.client.create(o)
        let running = RunningController(try cluster.controller())
        defer { Task { await running.stop() } }
        #expect(await eventually(15) { await cluster.condition("local", "Ready")?["status"]?.string == "True" })
        #expect(await cluster.condition("local", "SourceReady")?["message"]?.string?.contains(repo.dir) == true)

        _ = try await cluster.client.patch(ControllerCluster.gvk, name: "local", namespace: "default", patch: ["spec": ["suspend": true]], type: .merge)
        #expect(await eventually(5) { await cluster.condition("local", "Reconciling")?["reason"]?.string == "Suspended" })
        // Suspended: a hand edit is neither reported nor healed.
        cluster.server.requestLog.reset()
        let deploy = GroupVersionKind(group: "apps", version: "v1", kind: "Deployment")
        _ = try await cluster.client.patch(deploy, name: "hello-world", namespace: "hello-world",
                                           patch: ["spec": ["replicas": 4]], type: .merge, fieldManager: "kubectl-edit")
        try await Task.sleep(nanoseconds: 500_000_000)
        #expect(cluster.server.requestLog.writes.filter { $0.userAgent.contains("(a)") && $0.resource != "leases" }.isEmpty)
    }

    @Test func invalidSpecIsStalledWithAFix() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        let o: Value = ["apiVersion": "pattern.dev/v1alpha1", "kind": "PatternSync", "metadata": ["name": "bad", "namespace": "default"],
                        "spec": ["source": ["path": "/tmp"], "site": "dev", "interval": "5 minutes"]]
        _ = try await cluster.client.create(o)
        let running = RunningController(try cluster.controller())
        defer { Task { await running.stop() } }
        #expect(await eventually(10) { await cluster.condition("bad", "Stalled")?["reason"]?.string == "InvalidSpec" })
        #expect(await cluster.condition("bad", "Ready")?["message"]?.string?.contains("spec.interval") == true)
    }
}

@Suite struct CustomResourceDriftTests {
    /// The Collector's CRD is in the same render: its watch starts once the kind is served, and
    /// a hand edit of the custom resource is seen without waiting for the interval.
    @Test func driftOfACustomResourceWhoseCRDIsInTheRender() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        let repo = try GitPatternRepo()
        try await cluster.createSync(url: repo.url, site: "hub", interval: "1h")
        let running = RunningController(try cluster.controller())
        defer { Task { await running.stop() } }
        #expect(await eventually(15) { await cluster.condition("dev", "Ready")?["status"]?.string == "True" })
        let collector = GroupVersionKind(group: "telemetry.pattern.dev", version: "v1", kind: "Collector")
        _ = try await cluster.client.patch(collector, name: "hub", namespace: "platform-telemetry",
                                           patch: ["spec": ["retention": "1h"]], type: .merge, fieldManager: "kubectl-edit")
        #expect(await eventually(10) {
            await cluster.condition("dev", "Drifted")?["message"]?.string?.contains("Collector") == true
        })
    }
}

@Suite struct SeveralSyncsTests {
    /// Two PatternSyncs (two patterns) reconcile side by side, each with its own inventory.
    @Test func twoPatternSyncsOwnSeparateInventories() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        let repo = try GitPatternRepo()
        writeFile(repo.dir + "/patterns/tiny/pattern.yaml", """
            apiVersion: pattern.dev/v1alpha1
            kind: Pattern
            metadata:
              name: tiny
            spec:
              components:
              - name: config
                path: components/config
            """)
        writeFile(repo.dir + "/patterns/tiny/components/config/config.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: tiny-config
              namespace: default
            data:
              greeting: hello
            """)
        writeFile(repo.dir + "/overlays/tiny/overlay.yaml", """
            apiVersion: pattern.dev/v1alpha1
            kind: Site
            metadata:
              name: tiny
            spec:
              pattern:
                path: patterns/tiny
            """)
        try git(["add", "-A"], in: repo.dir)
        try git(["commit", "-q", "-m", "tiny pattern"], in: repo.dir)
        try await cluster.createSync("dev", url: repo.url, site: "dev")
        try await cluster.createSync("tiny", url: repo.url, site: "tiny")
        let running = RunningController(try cluster.controller())
        defer { Task { await running.stop() } }
        #expect(await eventually(15) {
            let a = await cluster.condition("dev", "Ready")?["status"]?.string
            let b = await cluster.condition("tiny", "Ready")?["status"]?.string
            return a == "True" && b == "True"
        })
        let records = ApplyEngine(client: cluster.client).records
        let tiny = try await records.loadInventory(SiteIdentity(pattern: "tiny", site: "tiny"))
        let dev = try await records.loadInventory(SiteIdentity(pattern: "multicloud-platform", site: "dev"))
        #expect(tiny?.objects.map(\.name) == ["tiny-config"])
        #expect(dev?.objects.contains { $0.name == "tiny-config" } == false)
        #expect((dev?.objects.count ?? 0) > 5)
        // Drift in one is reported by that one only.
        _ = try await cluster.client.patch(GroupVersionKind(group: "", version: "v1", kind: "ConfigMap"), name: "tiny-config", namespace: "default",
                                           patch: ["data": ["greeting": "hi"]], type: .merge, fieldManager: "kubectl-edit")
        #expect(await eventually(10) { await cluster.condition("tiny", "Drifted")?["status"]?.string == "True" })
        #expect(await cluster.condition("dev", "Drifted")?["status"]?.string == "False")
    }
}

@Suite struct OwnershipBetweenSyncsTests {
    /// A second PatternSync over the same site, or over objects another site owns, stalls
    /// naming the first instead of fighting over the objects.
    @Test func aSecondClaimantStallsNamingTheFirst() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        let repo = try GitPatternRepo()
        try await cluster.createSync("dev", url: repo.url, site: "dev")
        let running = RunningController(try cluster.controller())
        defer { Task { await running.stop() } }
        #expect(await eventually(15) { await cluster.condition("dev", "Ready")?["status"]?.string == "True" })
        #expect(await cluster.sync("dev")?[path: ["status", "inventory", "site"]]?.string == "dev")
        try await cluster.createSync("dev-copy", url: repo.url, site: "dev")
        try await cluster.createSync("edge", url: repo.url, site: "edge-us")
        #expect(await eventually(15) {
            let a = await cluster.condition("dev-copy", "Stalled")?["status"]?.string
            let b = await cluster.condition("edge", "Stalled")?["status"]?.string
            return a == "True" && b == "True"
        })
        let copy = try #require(await cluster.condition("dev-copy", "Stalled"))
        #expect(copy["reason"]?.string == "OwnedByAnotherPatternSync")
        #expect(copy["message"]?.string?.contains("PatternSync default/dev ") == true, "\(copy)")
        let edge = try #require(await cluster.condition("edge", "Stalled"))
        #expect(edge["reason"]?.string == "ObjectsOwnedElsewhere", "\(edge)")
        #expect(edge["message"]?.string?.contains("multicloud-platform/dev is reconciled by PatternSync default/dev") == true, "\(edge)")
        // The refused site recorded nothing (ownership is checked before the inventory intent);
        // the first still owns everything and stays Ready.
        #expect(try await ApplyEngine(client: cluster.client).records.loadInventory(SiteIdentity(pattern: "multicloud-platform", site: "edge-us")) == nil)
        let web = cluster.server.store.get(group: "apps", resource: "deployments", namespace: "hello-world", name: "hello-world")
        #expect(web?.labels["pattern.dev/owner"] == "multicloud-platform.dev")
        #expect(await cluster.condition("dev", "Ready")?["status"]?.string == "True")
    }
}

/// The controller renders chart components as upgrades once a successful apply installed them.
@Suite(.serialized) struct ControllerChartReleaseTests {
    /// The pattern repository with chart component `rel`: ConfigMap `release-info` in
    /// `hello-world` says the chart value `step` (`one`) and the `.Release` it rendered as.
    static func chartRepo() throws -> GitPatternRepo {
        let repo = try GitPatternRepo()
        do { try addChart(repo) } catch { repo.remove(); throw error }
        return repo
    }

    static func addChart(_ repo: GitPatternRepo) throws {
        let chart = repo.dir + "/patterns/multicloud-platform/charts/rel"
        writeFile(chart + "/Chart.yaml", "apiVersion: v2\nname: rel\nversion: 1.0.0\n")
        writeFile(chart + "/values.yaml", "step: one\n")
        writeFile(chart + "/templates/cm.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: release-info}
            data: {step: {{ .Values.step | quote }}, upgrade: "{{ .Release.IsUpgrade }}", revision: "{{ .Release.Revision }}"}
            """)
        let patternFile = repo.dir + "/patterns/multicloud-platform/pattern.yaml"
        writeFile(patternFile, readFile(patternFile).replacingOccurrences(of: "  components:\n",
            with: "  components:\n  - name: rel\n    dependsOn: [namespaces]\n    chart: {path: charts/rel, namespace: hello-world}\n"))
        try git(["add", "-A"], in: repo.dir)
        try git(["commit", "-q", "-m", "a chart component"], in: repo.dir)
    }

    static func ledger(_ cluster: ControllerCluster) async throws -> [LedgerEntry] {
        let inv = try #require(await cluster.sync()?[path: ["status", "inventory"]])
        let records = RecordStore(client: cluster.client, namespace: inv["namespace"]?.string ?? "")
        return try await records.loadLedger(SiteIdentity(pattern: inv["pattern"]?.string ?? "", site: inv["site"]?.string ?? "")).entries
    }

    static func intervals(_ running: RunningController) -> Double {
        running.controller.metrics.value(ControllerMetrics.triggers, [("namespace", "default"), ("name", "dev"), ("trigger", "interval")]) ?? 0
    }

    /// A chart printing `.Release.Revision` and `.Release.IsUpgrade` renders, while nothing
    /// else changes, as the last apply rendered it: nothing is applied on each interval (before,
    /// every reconcile rendered the next ledger number, a new revision, and applied it). The
    /// next real change is an upgrade with the number of the entry it writes.
    @Test func aChartPrintingItsRevisionIsNotAppliedAgainEveryInterval() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        let repo = try ControllerChartReleaseTests.chartRepo()
        defer { repo.remove() }
        try await cluster.createSync(url: repo.url, interval: "1s")
        let running = RunningController(try cluster.controller())
        defer { Task { await running.stop() } }
        #expect(await eventually(20) { await cluster.sync()?[path: ["status", "lastAppliedCommit"]]?.string == repo.head })
        let info = { cluster.server.store.get(resource: "configmaps", namespace: "hello-world", name: "release-info") }
        #expect(info()?["data"] == ["step": "one", "upgrade": "false", "revision": "1"])
        let installed = try await ControllerChartReleaseTests.ledger(cluster)

        // Three interval reconciles: the site is as its install left it, so nothing is applied.
        var seen = ControllerChartReleaseTests.intervals(running)
        #expect(await eventually(30) { ControllerChartReleaseTests.intervals(running) >= seen + 3 })
        #expect(try await ControllerChartReleaseTests.ledger(cluster).count == installed.count)
        #expect(info()?["data"] == ["step": "one", "upgrade": "false", "revision": "1"])
        #expect(await cluster.condition("dev", "Ready")?["status"]?.string == "True")

        // A change of the values: an upgrade, numbered as the ledger entry it writes.
        let commit = try repo.change("patterns/multicloud-platform/charts/rel/values.yaml", "step: one", "step: two")
        #expect(await eventually(20) { await cluster.sync()?[path: ["status", "lastAppliedCommit"]]?.string == commit })
        let upgraded = try await ControllerChartReleaseTests.ledger(cluster)
        let entry = try #require(upgraded.last)
        #expect(info()?["data"] == ["step": "two", "upgrade": "true", "revision": .string(String(entry.seq))])
        #expect(entry.render?.releaseRevision == entry.seq)

        // And stable again at that revision.
        seen = ControllerChartReleaseTests.intervals(running)
        #expect(await eventually(30) { ControllerChartReleaseTests.intervals(running) >= seen + 3 })
        #expect(try await ControllerChartReleaseTests.ledger(cluster).count == upgraded.count)
        #expect(info()?[path: ["data", "revision"]]?.string == String(entry.seq))
    }
}
