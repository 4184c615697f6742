import Testing
import TestSupport
import PatternCore
import KubeTestServer
#if canImport(Glibc)
import Glibc
#endif

/// `pattern get|status|reconcile|suspend|resume|events` as a user runs them: the real binary
/// against the test API server (PatternSync CRD installed) over HTTP.
@Suite(.serialized) struct SyncCLITests {
    let server: TestAPIServer
    let kubeconfig: String
    let dir: String

    init() throws {
        server = try TestAPIServer.start(TestAPIServerOptions())
        dir = TemporaryDirectories.make("pattern-sync-cli")
        kubeconfig = dir + "/config"
        let fd = open(kubeconfig, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let text = server.kubeconfig()
        _ = text.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        let crdText = try LocalTree(root: RepositoryPaths.root).read(TreePath("patterns/pattern-controller/components/crd/patternsync-crd.yaml"))
        _ = try server.store.seed(try YAMLParser.parse(String(decoding: crdText, as: UTF8.self)))
        for (ns, name, site) in [("pattern-system", "hub", "hub"), ("pattern-system", "edge", "edge-eu"), ("team-a", "dev", "dev")] {
            _ = try server.store.seed(["apiVersion": "pattern.dev/v1alpha1", "kind": "PatternSync",
                                       "metadata": ["name": .string(name), "namespace": .string(ns)],
                                       "spec": ["site": .string(site), "source": ["path": "/srv/patterns"]]])
        }
        _ = try server.store.setStatus(group: "pattern.dev", resource: "patternsyncs", namespace: "pattern-system", name: "hub", status: [
            "lastAppliedRevision": "sha256:0123456789abcdef0123", "lastAppliedCommit": "feedc0ffee0123456789",
            "counts": ["objects": 22, "applied": 3, "unchanged": 19, "pruned": 0, "drifted": 1, "failed": 0],
            "drifted": [["object": "Deployment hub-system/web", "field": ".spec.replicas", "change": "changed", "manager": "kubectl-edit"]],
            "conditions": [["type": "Ready", "status": "True", "reason": "Applied", "message": "applied revision sha256:0123456789ab",
                            "lastTransitionTime": "2026-01-02T03:04:05Z"],
                           ["type": "Drifted", "status": "True", "reason": "DriftDetected", "message": "1 object drifted",
                            "lastTransitionTime": "2026-01-02T03:04:05Z"]],
        ])
    }

    /// Runs a command in this process (no process start per command).
    func pattern(_ args: [String]) async -> CLI.Result {
        await CLI.runInProcess(args + ["--kubeconfig", kubeconfig, "--context", "test"])
    }

    func cleanUp() { server.stop(); TemporaryDirectories.remove(dir) }

    @Test func getListsOneNamespaceOrAllWithReadySuspendedRevisionAndMessage() async throws {
        defer { cleanUp() }
        let r = await pattern(["get"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.split(separator: " ").map(String.init) == ["NAME", "SITE", "READY", "SUSPENDED", "REVISION", "AGE", "MESSAGE"])
        #expect(lines.count == 3, "\(r.stdout)")   // header, edge, hub (not team-a/dev)
        let hub = try #require(lines.first { $0.hasPrefix("hub ") })
        #expect(hub.contains("True") && hub.contains("sha256:0123456789ab") && hub.contains("applied revision"))
        #expect(!hub.contains("sha256:0123456789abc"))   // revisions are shortened to 12 hex digits
        let edge = try #require(lines.first { $0.hasPrefix("edge ") })
        #expect(edge.contains("Unknown") && edge.contains("not reconciled yet"))

        let all = await pattern(["get", "-A"])
        #expect(all.status == 0)
        #expect(all.stdout.hasPrefix("NAMESPACE"))
        #expect(all.stdout.contains("team-a") && all.stdout.contains("dev"))

        let json = await pattern(["get", "-A", "-o", "json"])
        let doc = try JSONParser.parse(json.stdout)
        #expect(doc["apiVersion"]?.string == "pattern.dev/v1alpha1")
        #expect(doc["kind"]?.string == "PatternSyncList")
        #expect(doc["items"]?.array?.count == 3)

        let yaml = await pattern(["get", "hub", "-o", "yaml"])
        let y = try YAMLParser.parse(yaml.stdout)
        #expect(y["kind"]?.string == "PatternSyncList")
        #expect(y[path: ["items"]]?.array?.first?.metadataName == "hub")

        let missing = await pattern(["get", "nope"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("PatternSync pattern-system/nope not found"))
        #expect(missing.stderr.contains("fix:"))
    }

    @Test func statusShowsConditionsCountsAndDriftAndExitsByReadiness() async throws {
        defer { cleanUp() }
        let r = await pattern(["status", "hub"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("site:        hub"))
        #expect(r.stdout.contains("applied:     sha256:0123456789ab (commit feedc0ffee01)"))
        #expect(r.stdout.contains("22 objects, 3 applied, 19 unchanged, 0 pruned, 1 drifted, 0 failed"))
        #expect(r.stdout.contains("DriftDetected"))
        #expect(r.stdout.contains("Deployment hub-system/web") && r.stdout.contains("kubectl-edit"))

        // Not reconciled yet: not Ready → exit 1, but the status is still printed.
        let edge = await pattern(["status", "edge"])
        #expect(edge.status == 1)
        #expect(edge.stdout.contains("ready:       Unknown"))

        let json = await pattern(["status", "hub", "-o", "json"])
        let doc = try JSONParser.parse(json.stdout)
        #expect(doc["kind"]?.string == "PatternSync")
        #expect(doc[path: ["status", "counts", "objects"]]?.int == 22)
    }

    @Test func suspendResumeAndReconcileWriteWhatTheControllerReads() async throws {
        defer { cleanUp() }
        let s = await pattern(["suspend", "hub"])
        #expect(s.status == 0, "\(s.stderr)")
        #expect(server.store.get(group: "pattern.dev", resource: "patternsyncs", namespace: "pattern-system", name: "hub")?[path: ["spec", "suspend"]]?.bool == true)
        let row = await pattern(["get", "hub"]).stdout.split(separator: "\n")[1].split(separator: " ")
        #expect(row[2] == "True" && row[3] == "True")   // READY, SUSPENDED

        // A suspended PatternSync is not reconciled on request: said so, exit 1, nothing written.
        let refused = await pattern(["reconcile", "hub"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("suspended") && refused.stderr.contains("pattern resume hub"))
        #expect(server.store.get(group: "pattern.dev", resource: "patternsyncs", namespace: "pattern-system", name: "hub")?[path: ["metadata", "annotations", "pattern.dev/reconcile-requested-at"]] == nil)

        let r = await pattern(["resume", "hub"])
        #expect(r.status == 0, "\(r.stderr)")
        var o = try #require(server.store.get(group: "pattern.dev", resource: "patternsyncs", namespace: "pattern-system", name: "hub"))
        #expect(o[path: ["spec", "suspend"]]?.bool == false)
        let first = try #require(o[path: ["metadata", "annotations", "pattern.dev/reconcile-requested-at"]]?.string)

        let rc = await pattern(["reconcile", "hub"])
        #expect(rc.status == 0, "\(rc.stderr)")
        o = try #require(server.store.get(group: "pattern.dev", resource: "patternsyncs", namespace: "pattern-system", name: "hub"))
        let second = try #require(o[path: ["metadata", "annotations", "pattern.dev/reconcile-requested-at"]]?.string)
        #expect(second != first)   // a new request value, so the controller sees a change

        // --wait with no controller running: times out with advice, exit 1.
        let waited = await pattern(["reconcile", "hub", "--wait", "--timeout", "1"])
        #expect(waited.status == 1)
        #expect(waited.stderr.contains("did not answer"))

        let missing = await pattern(["suspend", "nope"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("not found"))
    }

    @Test func eventsListsOnlyThisPatternSyncsEventsOldestFirst() async throws {
        defer { cleanUp() }
        func event(_ name: String, _ involved: String, _ reason: String, _ time: String) -> Value {
            ["apiVersion": "v1", "kind": "Event", "metadata": ["name": .string(name), "namespace": "pattern-system"],
             "involvedObject": ["apiVersion": "pattern.dev/v1alpha1", "kind": "PatternSync", "name": .string(involved), "namespace": "pattern-system"],
             "reason": .string(reason), "message": .string("\(reason) message"), "type": "Normal", "count": 2,
             "firstTimestamp": .string(time), "lastTimestamp": .string(time)]
        }
        _ = try server.store.seed(event("e2", "hub", "DriftDetected", "2026-01-02T03:05:00Z"))
        _ = try server.store.seed(event("e1", "hub", "Applied", "2026-01-02T03:04:00Z"))
        _ = try server.store.seed(event("e3", "edge", "ApplyFailed", "2026-01-02T03:04:30Z"))
        let r = await pattern(["events", "hub"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(r.stdout)")
        #expect(lines[1].contains("Applied") && lines[2].contains("DriftDetected"))
        #expect(!r.stdout.contains("ApplyFailed"))

        let json = try await JSONParser.parse(pattern(["events", "hub", "-o", "json"]).stdout)
        #expect(json["kind"]?.string == "EventList" && json["apiVersion"]?.string == "v1")
        #expect(json["items"]?.array?.count == 2)
    }

    @Test func versionAndDashDashVersion() throws {
        defer { cleanUp() }
        let v = CLI.run(["--version"])
        #expect(v.status == 0)
        #expect(v.stdout.hasPrefix("pattern 0.") && v.stdout.contains("swift ") && v.stdout.contains("/"))
        let doc = try JSONParser.parse(CLI.run(["version", "-o", "json"]).stdout)
        #expect(doc["kind"]?.string == "Version" && doc["apiVersion"] != nil && doc["version"]?.string == PatternVersion.current)
    }
}
