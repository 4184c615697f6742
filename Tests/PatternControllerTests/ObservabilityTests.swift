import Testing
import Foundation
import Logging
import PatternCore
@testable import PatternController
import KubeClient

/// Metrics (swift-metrics into swift-prometheus), structured logs, the endpoints and checked
/// credential writes.
@Suite struct ObservabilityTests {
    /// The number on the series line that starts with `prefix` (the whole label set).
    static func sample(_ text: String, _ prefix: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(prefix + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    @Test func deletingOnePatternSyncKeepsTheSeriesOfItsNamesakeInAnotherNamespace() {
        let r = ControllerMetrics.makeRegistry()
        for ns in ["team-a", "team-b"] {
            let l = [("namespace", ns), ("name", "dev")]
            r.add(ControllerMetrics.reconcileTotal, l + [("result", "success")])
            r.set(ControllerMetrics.drifted, l, 3)
            r.observe(ControllerMetrics.reconcileDuration, l, 0.2)
        }
        r.removeSeries(matching: [("namespace", "team-a"), ("name", "dev")])
        let text = r.exposition()
        #expect(!text.contains(#"namespace="team-a""#))
        #expect(ObservabilityTests.sample(text, #"pattern_reconcile_total{namespace="team-b",name="dev",result="success"}"#) == 1)
        #expect(ObservabilityTests.sample(text, #"pattern_drifted_objects{namespace="team-b",name="dev"}"#) == 3)
        #expect(ObservabilityTests.sample(text, #"pattern_reconcile_duration_seconds_count{namespace="team-b",name="dev"}"#) == 1)
        #expect(r.value(ControllerMetrics.drifted, [("namespace", "team-a"), ("name", "dev")]) == nil)
        // A removed series starts again from zero.
        r.add(ControllerMetrics.reconcileTotal, [("namespace", "team-a"), ("name", "dev"), ("result", "success")])
        #expect(ObservabilityTests.sample(r.exposition(), #"pattern_reconcile_total{namespace="team-a",name="dev",result="success"}"#) == 1)
    }

    @Test func aDeletedPatternSyncLosesItsSeriesAndItsNamesakeKeepsThem() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        _ = try await cluster.client.create(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "other"]])
        for ns in ["default", "other"] {
            let o: Value = ["apiVersion": "pattern.dev/v1alpha1", "kind": "PatternSync", "metadata": ["name": "dev", "namespace": .string(ns)],
                            "spec": ["source": ["path": "/nonexistent"], "site": "dev", "suspend": true]]
            _ = try await cluster.client.create(o)
        }
        var cfg = try cluster.controller(identity: "series").configuration
        cfg.namespace = nil
        let c = PatternController(client: cluster.client, configuration: cfg)
        let running = RunningController(c)
        let info = #"pattern_sync_info{namespace="%@",name="dev",site="dev",revision="",ready="Unknown",suspended="true"}"#
        func sample(_ ns: String) -> Double? { ObservabilityTests.sample(c.metrics.exposition(), info.replacingOccurrences(of: "%@", with: ns)) }
        #expect(await eventually(10) { sample("default") == 1 && sample("other") == 1 }, "\(c.metrics.exposition())")
        _ = try await cluster.client.delete(ControllerCluster.gvk, name: "dev", namespace: "default")
        #expect(await eventually(10) { sample("default") == nil })
        await running.stop()
        let text = c.metrics.exposition()
        #expect(!text.contains(#"namespace="default",name="dev""#))
        #expect(sample("other") == 1)
        #expect(ObservabilityTests.sample(text, #"pattern_reconcile_total{namespace="other",name="dev",result="suspended"}"#) == 1)
    }

    @Test func helpTextListsLabelValuesAndBuildInfoAndLeaderAreThereFromTheStart() {
        let text = ControllerMetrics.makeRegistry().exposition()
        #expect(ObservabilityTests.sample(text, "pattern_leader") == 0)
        #expect(ObservabilityTests.sample(text, #"pattern_build_info{version="\#(PatternControllerVersion.current)"}"#) == 1)
        let r = ControllerMetrics.makeRegistry()
        r.add(ControllerMetrics.reconcileTotal, [("namespace", "n"), ("name", "x"), ("result", "failure")])
        r.add(ControllerMetrics.triggers, [("namespace", "n"), ("name", "x"), ("trigger", "owned")])
        let t = r.exposition()
        #expect(t.contains("# HELP pattern_reconcile_total Reconciles per PatternSync. Labels: namespace, name (the PatternSync); result: success, failure, stalled, suspended, cancelled."))
        #expect(t.contains("trigger: start, interval, spec, owned, retry, requested, cluster, rollout."))
    }

    @Test func aStandbyExportsLeaderZeroAndTheLeaderOne() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        let a = RunningController(try cluster.controller(identity: "leader", leaseDuration: 5))
        #expect(await eventually(10) { a.controller.isLeader })
        let b = RunningController(try cluster.controller(identity: "standby", leaseDuration: 5))
        // The standby has run election rounds (it saw the Lease held: ready).
        #expect(await eventually(10) { httpReady(b.controller) })
        #expect(!b.controller.isLeader)
        #expect(ObservabilityTests.sample(b.controller.metrics.exposition(), "pattern_leader") == 0)
        #expect(ObservabilityTests.sample(a.controller.metrics.exposition(), "pattern_leader") == 1)
        await b.stop()
        await a.stop()
        #expect(ObservabilityTests.sample(a.controller.metrics.exposition(), "pattern_leader") == 0)
    }

    /// Readiness as `/readyz` reports it (through the handler, no socket needed).
    static func ready(_ c: PatternController) -> Bool { c.respond("/readyz", probes: true, metrics: false).status == 200 }

    @Test func syncInfoStageHistogramsAndOneLogLinePerReconcile() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        let repo = try GitPatternRepo()
        defer { repo.remove() }
        try await cluster.createSync(url: repo.url, interval: "1h")
        let sink = LogSink.memory()
        let logger = Logger(label: "pattern.controller") { ControllerLogHandler(label: $0, format: .json, sink: sink) }
        let running = RunningController(try cluster.controller(identity: "obs", logger: logger))
        #expect(await eventually(15) { await cluster.condition("dev", "Ready")?["status"]?.string == "True" })
        #expect(await eventually(5) { sink.lines.contains { $0.contains(#""msg":"reconciled""#) } })
        await running.stop()
        let text = running.controller.metrics.exposition()
        let revision = try #require(await cluster.sync()?[path: ["status", "lastAppliedRevision"]]?.string)
        let short = "sha256:" + revision.dropFirst(7).prefix(12)
        #expect(ObservabilityTests.sample(text, #"pattern_sync_info{namespace="default",name="dev",site="dev",revision="\#(short)",ready="True",suspended="false"}"#) == 1,
                "\(text.split(separator: "\n").filter { $0.hasPrefix("pattern_sync") })")
        #expect(ObservabilityTests.sample(text, #"pattern_sync_ready{namespace="default",name="dev"}"#) == 1)
        for stage in ["source", "render", "drift", "apply", "status"] {
            #expect((ObservabilityTests.sample(text, #"pattern_reconcile_stage_duration_seconds_count{namespace="default",name="dev",stage="\#(stage)"}"#) ?? 0) >= 1, "stage \(stage)")
        }
        let line = try #require(sink.lines.first { $0.contains(#""msg":"reconciled""#) })
        let v = try JSONParser.parse(line)
        #expect(v["level"]?.string == "info")
        #expect(v["patternsync"]?.string == "default/dev")
        #expect(v["site"]?.string == "dev")
        #expect(v["revision"]?.string == short)
        #expect(v["result"]?.string == "success")
        #expect(v["trigger"]?.string == "start")
        #expect(v["applied"]?.string == "16")
        #expect(Int(v["durationMs"]?.string ?? "") != nil)
        #expect(v["commit"]?.string == String(repo.head.prefix(12)))

        // Every status field the controller writes survives the typed CRD schema (the test
        // server prunes what a schema does not declare, as the real one does).
        let stored = try #require(await cluster.sync()?["status"])
        for key in ["observedGeneration", "conditions", "source", "lastAttemptedRevision", "lastAppliedRevision", "lastAppliedCommit", "counts"] {
            #expect(stored[key] != nil, "status.\(key) was pruned")
        }
        #expect(stored[path: ["source", "commit"]]?.string == repo.head)
        #expect(stored[path: ["counts", "objects"]]?.int == 16)
    }

    @Test func aFailedReconcileLogsTheErrorText() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        try await cluster.createSync(url: "file:///nonexistent/pattern-repo.git", interval: "1h")
        let sink = LogSink.memory()
        let logger = Logger(label: "pattern.controller") { ControllerLogHandler(label: $0, format: .text, sink: sink) }
        let running = RunningController(try cluster.controller(identity: "fail", logger: logger))
        #expect(await eventually(10) { sink.lines.contains { $0.contains("reconcile failed") } })
        await running.stop()
        let line = try #require(sink.lines.first { $0.contains("reconcile failed") })
        #expect(line.contains(" error \"reconcile failed\" "))
        #expect(line.contains("result=failure"))
        #expect(line.contains("stage=source"))
        #expect(line.contains("error=\"cannot fetch file:///nonexistent/pattern-repo.git"))
        #expect(line.contains("retryInMs="))
        #expect(line.hasSuffix("\n") && line.dropLast().allSatisfy { $0 != "\n" })
    }

    @Test func textLogLinesQuoteWhatWouldBreakThem() {
        let line = ControllerLogHandler.render(format: .text, time: "T", level: .error, label: "l", message: "two\nlines",
                                               metadata: ["plain": "word", "spaced": "a b", "quote": "say \"x\""])
        #expect(line == #"T error "two\nlines" plain=word quote="say \"x\"" spaced="a b""# + "\n")
        let json = ControllerLogHandler.render(format: .json, time: "T", level: .info, label: "l", message: "m", metadata: ["k": "v\n"])
        #expect(json == #"{"time":"T","level":"info","logger":"l","msg":"m","k":"v\n"}"# + "\n")
    }

    @Test func theHealthServerAnswersWhileAnotherClientHoldsItsConnection() throws {
        let server = try HealthServer(address: "127.0.0.1:0") { _ in (200, "text/plain", "ok\n") }
        defer { server.stop() }
        // A client that connects and sends nothing (a slow or stuck scraper).
        let idle = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(idle) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(server.port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(idle, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        #expect(rc == 0)
        let r = httpGet(port: server.port, path: "/healthz")
        #expect(r?.status == 200 && r?.body == "ok\n")
        // The idle connection is still open and unanswered: the probe did not wait for it.
        var byte: UInt8 = 0
        let n = recv(idle, &byte, 1, Int32(MSG_DONTWAIT))
        #expect(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    }

    @Test func probesAndMetricsOnSeparateAddresses() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        var cfg = try cluster.controller(identity: "split").configuration
        cfg.metricsAddress = "127.0.0.1:0"
        cfg.healthAddress = "127.0.0.1:0"
        let c = PatternController(client: cluster.client, configuration: cfg)
        try c.startEndpoints()
        defer { c.stopEndpoints() }
        let metrics = try #require(c.metricsPort), health = try #require(c.healthPort)
        #expect(metrics != health)
        #expect(httpGet(port: health, path: "/healthz")?.status == 200)
        #expect(httpGet(port: health, path: "/metrics")?.status == 404)
        #expect(httpGet(port: metrics, path: "/healthz")?.status == 404)
        #expect(httpGet(port: metrics, path: "/metrics")?.body.contains("pattern_build_info") == true)
    }

    @Test func credentialFilesAreWrittenPrivatelyAndFailuresAreErrors() throws {
        let dir = makeTempDir("pattern-ctl-creds")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileSystem.makeDirectories(dir + "/a/b", mode: 0o700)
        try FileSystem.writePrivate(dir + "/a/b/token", Array("s3cret".utf8))
        #expect(readFile(dir + "/a/b/token") == "s3cret")
        var st = stat()
        #expect(stat(dir + "/a/b/token", &st) == 0 && st.st_mode & 0o777 == 0o600)
        // Replaced, not appended or truncated in place.
        try FileSystem.writePrivate(dir + "/a/b/token", Array("new".utf8))
        #expect(readFile(dir + "/a/b/token") == "new")
        #expect(throws: Diagnostic.self) { try FileSystem.writePrivate(dir + "/missing/token", Array("x".utf8)) }
        writeFile(dir + "/file", "x")
        #expect(throws: Diagnostic.self) { try FileSystem.makeDirectories(dir + "/file/sub") }
    }
}

func httpReady(_ c: PatternController) -> Bool { ObservabilityTests.ready(c) }

/// The PatternSync CRD and the advice its conditions and Events give.
@Suite struct PatternSyncResourceTests {
    static func crd() throws -> Value {
        try YAMLParser.parse(readFile(repoRoot + "/patterns/pattern-controller/components/crd/patternsync-crd.yaml"))
    }

    @Test func theCRDHasATypedStatusAndTheFluxLikeColumns() throws {
        let version = try #require(try PatternSyncResourceTests.crd()[path: ["spec", "versions"]]?.array?.first)
        let status = try #require(version[path: ["schema", "openAPIV3Schema", "properties", "status"]])
        #expect(status["x-kubernetes-preserve-unknown-fields"] == nil)
        let fields = Set(status["properties"]?.object?.keys.map { $0 } ?? [])
        #expect(fields == ["observedGeneration", "conditions", "source", "lastAttemptedRevision", "lastAppliedRevision",
                           "lastAppliedCommit", "lastReconcileTime", "lastHandledReconcileAt", "lastError", "counts", "drifted", "inventory", "cluster"])
        let columns = (version["additionalPrinterColumns"]?.array ?? []).filter { ($0["priority"]?.int ?? 0) == 0 }
        #expect(columns.compactMap { $0["name"]?.string } == ["Ready", "Status", "Suspended", "Revision", "Age"])
        #expect(columns.first { $0["name"] == "Status" }?["jsonPath"] == #".status.conditions[?(@.type=="Ready")].message"#)
    }

    @Test func aRefusedPruneAdvisesPatternSyncFieldsNotCLIFlags() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        let repo = try GitPatternRepo()
        defer { repo.remove() }
        try await cluster.createSync(url: repo.url, interval: "1s")
        let running = RunningController(try cluster.controller(identity: "advice"))
        #expect(await eventually(15) { await cluster.condition("dev", "Ready")?["status"]?.string == "True" })
        // Most of the render goes away at once: the prune guard refuses.
        try repo.change("overlays/dev/overlay.yaml", "disable: [telemetry-operator]", "disable: [telemetry-operator, hello-world, config-demo, secrets-store]")
        #expect(await eventually(15) { await cluster.condition("dev", "Ready")?["reason"]?.string == "PruneRefused" })
        await running.stop()
        let message = try #require(await cluster.condition("dev", "Ready")?["message"]?.string)
        #expect(message.contains("refusing to prune"))
        #expect(message.contains("spec.suspend: true") && message.contains("spec.prune: false"), "\(message)")
        #expect(!message.contains("re-run with"), "\(message)")
        let event = try #require(cluster.events().first { $0["reason"]?.string == "PruneRefused" })
        #expect(event["message"]?.string?.contains("spec.suspend: true") == true)
        #expect(event["message"]?.string?.contains("--no-prune") == false)
    }

    @Test func adviceRewritesEveryCLIPhraseTheEngineUses() {
        let conflict = "1 conflict: .data.a owned by kubectl-edit\nAnother field manager owns these fields; re-run with --force-conflicts to take them over, or drop them from the render."
        #expect(PatternSyncAdvice.rewrite(conflict).hasSuffix("set spec.driftPolicy: heal to take them over (heal applies with force), or drop them from the render."))
        #expect(PatternSyncAdvice.rewrite("not pruning: the render is empty and 4 objects would be deleted (pass --allow-empty to prune anyway)")
            .contains("spec.prune: false keeps them"))
        #expect(PatternSyncAdvice.rewrite("nothing to say") == "nothing to say")
        for (cli, _) in PatternSyncAdvice.replacements {
            #expect(!PatternSyncAdvice.rewrite(cli).contains("re-run"), "\(cli)")
        }
    }
}
