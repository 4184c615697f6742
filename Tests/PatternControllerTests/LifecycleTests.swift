import Testing
import Foundation
import PatternCore
import PatternCompile
import PatternSource
import PatternApply
import PatternRecord
import PatternController
import KubeClient
import KubeTestServer

@Suite struct LifecycleTests {
    static let leaseGVK = GroupVersionKind(group: "coordination.k8s.io", version: "v1", kind: "Lease")

    func lease(_ cluster: ControllerCluster) -> Value? {
        cluster.server.store.get(group: "coordination.k8s.io", resource: "leases", namespace: "default", name: "pattern-controller")
    }

    @Test func onlyTheLeaseHolderWritesAndAStandbyTakesOver() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        // A holder that died without releasing: nobody may take over before its lease expires.
        let ghost: Value = ["apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                            "metadata": ["name": "pattern-controller", "namespace": "default"],
                            "spec": ["holderIdentity": "ghost", "leaseDurationSeconds": 1, "renewTime": "2026-01-01T00:00:00.000000Z",
                                     "acquireTime": "2026-01-01T00:00:00.000000Z", "leaseTransitions": 3]]
        _ = try await cluster.client.create(ghost)
        let repo = try GitPatternRepo()
        try await cluster.createSync(url: repo.url, interval: "1s")
        let started = Date()
        // Leases of 6 s (the harness's are 2 s): under a full parallel test run a starved
        // holder's renewals can be seconds late, and a standby then takes over by the rules.
        // Takeover after the holder's release below does not wait for the lease to run out.
        let a = RunningController(try cluster.controller(identity: "alpha", leaseDuration: 6))
        defer { Task { await a.stop() } }
        #expect(await eventually(10) { a.controller.isLeader })
        // Expiry is measured on the candidate's clock from when it first saw the record: ≥ 1s.
        #expect(Date().timeIntervalSince(started) >= 0.9)
        #expect(lease(cluster)?[path: ["spec", "holderIdentity"]]?.string == "alpha")
        #expect(lease(cluster)?[path: ["spec", "leaseTransitions"]]?.int == 4)

        let b = RunningController(try cluster.controller(identity: "beta", leaseDuration: 6))
        defer { Task { await b.stop() } }
        #expect(await eventually(15) { await cluster.condition("dev", "Ready")?["status"]?.string == "True" })
        try await Task.sleep(nanoseconds: 1_500_000_000)  // several renew rounds and reconciles of alpha
        #expect(!b.controller.isLeader)
        // A standby that saw no renewal within the lease duration (a starved test machine can
        // delay alpha's renewal) may try to take the Lease; the server refuses that attempt
        // with 409 because alpha renewed meanwhile, as client-go's election does. Such a refused
        // Lease write changes nothing; every other write by the standby is a broken promise.
        let betaWrites = cluster.server.requestLog.writes.filter {
            $0.userAgent.contains("(beta)") && !($0.resource == "leases" && $0.status == 409)
        }
        #expect(betaWrites.isEmpty, "\(betaWrites.map { "\($0.method) \($0.path)" })")
        #expect(cluster.server.requestLog.writes.contains { $0.userAgent.contains("(alpha)") && $0.resource == "deployments" })

        // The leader stops (releases the lease): the standby takes over at once and reconciles.
        await a.stop()
        #expect(await eventually(5) { b.controller.isLeader })
        #expect(lease(cluster)?[path: ["spec", "holderIdentity"]]?.string == "beta")
        #expect(lease(cluster)?[path: ["spec", "leaseTransitions"]]?.int == 5)
        let deploy = GroupVersionKind(group: "apps", version: "v1", kind: "Deployment")
        _ = try await cluster.client.patch(deploy, name: "hello-world", namespace: "hello-world",
                                           patch: ["spec": ["replicas": 5]], type: .merge, fieldManager: "kubectl-edit")
        #expect(await eventually(5) { await cluster.condition("dev", "Drifted")?["status"]?.string == "True" })
        #expect(cluster.server.requestLog.writes.contains { $0.userAgent.contains("(beta)") && $0.subresource == "status" })
    }

    @Test func shutdownMidApplyFinishesTheStepRecordsAndResumes() async throws {
        // Deployments take 0.6s to roll out, so the apply is mid-way (waiting) when we stop.
        let cluster = try await ControllerCluster(controllerDelay: 0.6)
        defer { cluster.stop() }
        let repo = try GitPatternRepo()
        try await cluster.createSync(url: repo.url, site: "hub", interval: "1h")
        let first = RunningController(try cluster.controller(identity: "first"))
        // The first reconcile of the suite's busiest moment: the same bound as the other first-Ready waits.
        #expect(await eventually(20) { cluster.server.requestLog.writes.contains { $0.verb == "apply" && $0.resource == "deployments" } })
        let stopAsked = Date()
        await first.stop()
        let stopTook = Date().timeIntervalSince(stopAsked)
        #expect(stopTook < 20)
        // Everything written was recorded in the inventory.
        let site = try SiteCompiler(workspace: Workspace(tree: LocalTree(root: repo.dir)),
                                    treeProvenance: Provenance(source: repo.url, commit: repo.head)).compile(site: "hub")
        let inventory = try await ApplyEngine(client: cluster.client).records.loadInventory(SiteIdentity(site))
        // Object writes by the first instance (not its inventory/ledger records in pattern-system).
        let written = Set(cluster.server.requestLog.writes.filter {
            $0.verb == "apply" && $0.userAgent.contains("(first)") && $0.namespace != "pattern-system" && $0.name != "pattern-system"
        }.compactMap(\.name))
        let recorded = Set(inventory?.objects.map(\.name) ?? [])
        #expect(!written.isEmpty)
        #expect(written.isSubset(of: recorded), "written but not recorded: \(written.subtracting(recorded))")
        // The lease was released.
        #expect(lease(cluster)?[path: ["spec", "holderIdentity"]]?.string == "")
        #expect(!first.controller.isLeader)

        // A new instance resumes and finishes.
        let second = RunningController(try cluster.controller(identity: "second"))
        defer { Task { await second.stop() } }
        #expect(await eventually(20) { await cluster.condition("dev", "Ready")?["status"]?.string == "True" })
        #expect(await cluster.sync()?[path: ["status", "lastAppliedRevision"]]?.string == site.revision)
    }

    @Test func cancellingTheRunTaskStopsCleanly() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        let repo = try GitPatternRepo()
        try await cluster.createSync(url: repo.url, interval: "1h")
        let c = try cluster.controller(identity: "cancel")
        let task = Task { try await c.run() }
        #expect(await eventually(20) { await cluster.condition("dev", "Ready")?["status"]?.string == "True" })
        task.cancel()
        let r = await task.result
        if case .failure(let e) = r { Issue.record("run threw \(e)") }
        #expect(!c.isLeader)
        #expect(lease(cluster)?[path: ["spec", "holderIdentity"]]?.string == "")
    }

    @Test func metricsAndHealthEndpointsServeTheNamedSeries() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        let repo = try GitPatternRepo()
        try await cluster.createSync(url: repo.url, interval: "1h")
        let c = try cluster.controller(identity: "metrics", metrics: true)
        try c.startEndpoint()
        let port = try #require(c.healthPort)
        let running = RunningController(c)
        defer { Task { await running.stop() } }
        #expect(await eventually(15) { await cluster.condition("dev", "Ready")?["status"]?.string == "True" })
        #expect(httpGet(port: port, path: "/healthz")?.status == 200)
        #expect(await eventually(5) { httpGet(port: port, path: "/readyz")?.status == 200 })
        #expect(httpGet(port: port, path: "/nope")?.status == 404)
        // Status is written before the reconcile is counted: wait for the count.
        #expect(await eventually(5) { httpGet(port: port, path: "/metrics")?.body.contains(#"result="success"} "#) == true })
        let body = try #require(httpGet(port: port, path: "/metrics")).body
        for series in [
            #"pattern_reconcile_total{namespace="default",name="dev",result="success"} "#,
            #"pattern_reconcile_duration_seconds_bucket{namespace="default",name="dev",le="+Inf"} "#,
            #"pattern_reconcile_duration_seconds_count{namespace="default",name="dev"} "#,
            #"pattern_objects{namespace="default",name="dev",state="applied"}"#,
            #"pattern_objects{namespace="default",name="dev",state="unchanged"}"#,
            #"pattern_drifted_objects{namespace="default",name="dev"} 0"#,
            #"pattern_git_fetch_duration_seconds_count{namespace="default",name="dev"} "#,
            #"pattern_api_request_duration_seconds_bucket{method="PATCH",le="+Inf"}"#,
            #"pattern_api_requests_total{method="GET",code="200"}"#,
            #"pattern_reconcile_triggers_total{namespace="default",name="dev",trigger="start"} 1"#,
            "pattern_leader 1",
            "# TYPE pattern_reconcile_duration_seconds histogram",
            "# TYPE pattern_reconcile_total counter",
        ] {
            #expect(body.contains(series), "missing \(series)")
        }
        func gauge(_ state: String) -> Int {
            body.split(separator: "\n").first { $0.hasPrefix(#"pattern_objects{namespace="default",name="dev",state=""# + state + #""}"#) }
                .flatMap { Double($0.split(separator: " ").last ?? "") }.map { Int($0) } ?? 0
        }
        #expect(gauge("applied") + gauge("unchanged") > 0)
    }
}

@Suite struct UnitTests {
    @Test func durations() throws {
        #expect(try DurationParser.seconds("5m", field: "x") == 300)
        #expect(try DurationParser.seconds("1h30m", field: "x") == 5400)
        #expect(try DurationParser.seconds("500ms", field: "x") == 0.5)
        #expect(try DurationParser.seconds("1.5s", field: "x") == 1.5)
        #expect(throws: SpecError.self) { try DurationParser.seconds("5 minutes", field: "x") }
        #expect(throws: SpecError.self) { try DurationParser.seconds("10d", field: "x") }
    }

    @Test func specDecodingAndErrors() throws {
        let s = try PatternSyncSpec(spec: ["source": ["git": ["url": "https://example.com/p.git", "ref": "v1", "mirrors": ["https://m/p.git"],
                                                              "credentialsSecretRef": ["name": "creds"]]],
                                           "site": "hub", "interval": "30s", "driftPolicy": "heal", "prune": false])
        #expect(s.source == .git(url: "https://example.com/p.git", ref: "v1", path: nil, mirrors: ["https://m/p.git"], credentialsSecretRef: "creds"))
        #expect(s.intervalSeconds == 30 && s.driftPolicy == .heal && !s.prune && !s.suspend && s.recordNamespace == "pattern-system")
        #expect(throws: SpecError.self) { try PatternSyncSpec(spec: ["source": ["path": "/x"]]) }
        do { _ = try PatternSyncSpec(spec: ["source": ["path": "/x"], "site": "a", "driftPolicy": "fix"]); Issue.record("expected an error") } catch {
            #expect(error.message.contains("report") && error.message.contains("heal"))
        }
    }

    @Test func specIgnoreDifferences() throws {
        let s = try PatternSyncSpec(spec: ["source": ["path": "/x"], "site": "a",
                                           "ignoreDifferences": [["group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]]]])
        #expect(s.ignoreDifferences.count == 1 && s.ignoreDifferences[0].kind == "Deployment" && s.ignoreDifferences[0].valuePaths.count == 1)
        do {
            _ = try PatternSyncSpec(spec: ["source": ["path": "/x"], "site": "a", "ignoreDifferences": [["kind": "Deployment", "jsonPointers": ["spec"]]]])
            Issue.record("expected an error")
        } catch {
            #expect(error.message.hasPrefix("spec.ignoreDifferences: ") && error.message.contains("must start with '/'"))
        }
    }

    @Test func specVerifyKeysAreParsedAndChecked() throws {
        let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII+tGw3Ad3eF/Psds8mOcQpKcbZAMBL3sVl90pA0dc89 spec-test"
        let s = try PatternSyncSpec(spec: ["source": ["git": ["url": "https://example.com/p.git", "verify": ["sshKeys": [.string(key)]]]], "site": "hub"])
        #expect(s.verify?.sshKeys == [key])
        #expect(try PatternSyncSpec(spec: ["source": ["git": ["url": "https://example.com/p.git"]], "site": "hub"]).verify == nil)
        for bad: Value in [["sshKeys": ["not a key"]], ["sshKeysFile": "/etc/keys"], ["sshKey": [.string(key)]], .object(Object())] {
            #expect(throws: SpecError.self, "\(bad)") {
                try PatternSyncSpec(spec: ["source": ["git": ["url": "https://example.com/p.git", "verify": bad]], "site": "hub"])
            }
        }
    }

    @Test func prometheusTextFormat() {
        let r = MetricsRegistry()
        r.register("x_total", .counter, help: "X.")
        r.register("h_seconds", .histogram, help: "H.", buckets: [0.1, 1])
        r.add("x_total", [("a", "q\"uote")], 2)
        r.observe("h_seconds", [("k", "v")], 0.5)
        r.observe("h_seconds", [("k", "v")], 5)
        let text = r.exposition()
        // swift-prometheus renders families in no fixed order; each block is exact.
        #expect(text.contains("""
            # HELP x_total X.
            # TYPE x_total counter
            x_total{a="q\\"uote"} 2.0

            """))
        #expect(text.contains("""
            # HELP h_seconds H.
            # TYPE h_seconds histogram
            h_seconds_bucket{k="v",le="0.1"} 0
            h_seconds_bucket{k="v",le="1.0"} 1
            h_seconds_bucket{k="v",le="+Inf"} 2
            h_seconds_sum{k="v"} 5.5
            h_seconds_count{k="v"} 2

            """))
        #expect(text.split(separator: "\n").count == 10)
    }
}

@Suite struct OutageTests {
    /// The API server goes away for a moment: the leader keeps (or re-takes) the Lease, the
    /// watches reconnect, and drift is still seen afterwards.
    @Test func survivesAnAPIServerRestart() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        let repo = try GitPatternRepo()
        try await cluster.createSync(url: repo.url, interval: "1h")
        let running = RunningController(try cluster.controller(identity: "outage", leaseDuration: 3))
        defer { Task { await running.stop() } }
        #expect(await eventually(15) { await cluster.condition("dev", "Ready")?["status"]?.string == "True" })
        try cluster.server.restart(downtime: 0.8)
        #expect(await eventually(10) { running.controller.isLeader })
        let deploy = GroupVersionKind(group: "apps", version: "v1", kind: "Deployment")
        _ = try await cluster.client.patch(deploy, name: "hello-world", namespace: "hello-world",
                                           patch: ["spec": ["replicas": 6]], type: .merge, fieldManager: "kubectl-edit")
        let seen = await eventually(15) { await cluster.condition("dev", "Drifted")?["status"]?.string == "True" }
        let st = await cluster.sync()?["status"] ?? .null
        #expect(seen, "\(running.controller.metrics.exposition().split(separator: "\n").filter { $0.contains("trigger") || $0.contains("reconcile_total") || $0.contains("leader") }) \(st)")
    }
}

@Suite struct LeaseTests {
    /// Candidates racing for a released Lease: the resourceVersion precondition lets exactly one win.
    @Test func exactlyOneCandidateWinsARace() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        let released: Value = ["apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                               "metadata": ["name": "race", "namespace": "default"],
                               "spec": ["holderIdentity": "", "leaseDurationSeconds": 15, "leaseTransitions": 0]]
        _ = try await cluster.client.create(released)
        let electors = (0..<6).map { i in
            LeaderElector(client: cluster.client, config: LeaderElector.Config(name: "race", namespace: "default", identity: "c\(i)"))
        }
        let wins = await withTaskGroup(of: Bool.self) { group in
            for e in electors { group.addTask { await e.tryAcquireOrRenew() } }
            var n = 0
            for await w in group where w { n += 1 }
            return n
        }
        #expect(wins == 1)
        #expect(electors.filter(\.isLeader).count == 1)
        let lease = try await cluster.client.get(GroupVersionKind(group: "coordination.k8s.io", version: "v1", kind: "Lease"), name: "race", namespace: "default")
        #expect(lease[path: ["spec", "holderIdentity"]]?.string == electors.first(where: \.isLeader)?.config.identity)
        #expect(lease[path: ["spec", "leaseTransitions"]]?.int == 1)
        #expect(lease[path: ["spec", "acquireTime"]]?.string?.hasSuffix("Z") == true)
        // The others keep failing while the holder renews.
        for e in electors where !e.isLeader { #expect(await e.tryAcquireOrRenew() == false) }
    }

    @Test func missingCredentialsSecretIsASourceError() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        let repo = try GitPatternRepo()
        try await cluster.createSync(url: repo.url, interval: "1h")
        _ = try await cluster.client.patch(ControllerCluster.gvk, name: "dev", namespace: "default",
                                           patch: ["spec": ["source": ["git": ["credentialsSecretRef": ["name": "no-such-secret"]]]]], type: .merge)
        let running = RunningController(try cluster.controller())
        defer { Task { await running.stop() } }
        #expect(await eventually(10) { await cluster.condition("dev", "SourceReady")?["reason"]?.string == "CredentialsUnavailable" })
        #expect(await cluster.condition("dev", "SourceReady")?["message"]?.string?.contains("default/no-such-secret") == true)
        #expect(cluster.server.requestLog.writes.filter { $0.verb == "apply" && $0.resource != "customresourcedefinitions" }.isEmpty)
    }
}
