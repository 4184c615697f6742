import Testing
import PatternCore
import PatternDiff
import PatternApply
import KubeTestServer

/// Readiness is awaited per dependency edge, not per level barrier.
@Suite struct ReadinessEdgeTests {
    static func object(_ yaml: String) throws -> RenderedObject {
        let v = try YAMLParser.parse(yaml)
        return RenderedObject(object: v, key: try #require(v.objectKey), component: "app", file: "test.yaml")
    }

    /// Two chains: a Deployment that takes a while to become ready, and a Service with a
    /// ConfigMap that depends on it (`config.kubernetes.io/depends-on`). The planner puts the
    /// Deployment and the Service in one level and the ConfigMap in the next. The ConfigMap
    /// only needs the Service: it is applied before anything waits for the Deployment. With a
    /// level barrier it waited for the Deployment's rollout (its LIST and WATCH came first).
    static func site() throws -> RenderedSite {
        let objects = [
            try object("apiVersion: v1\nkind: Namespace\nmetadata: {name: chains}\n"),
            try object("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: slow, namespace: chains}
                spec:
                  replicas: 1
                  selector: {matchLabels: {app: slow}}
                  template:
                    metadata: {labels: {app: slow}}
                    spec: {containers: [{name: main, image: "nginx:1.27"}]}
                """),
            try object("""
                apiVersion: v1
                kind: Service
                metadata: {name: svc, namespace: chains}
                spec: {selector: {app: other}, ports: [{port: 80, targetPort: 8080}]}
                """),
            try object("""
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: after
                  namespace: chains
                  annotations: {config.kubernetes.io/depends-on: /namespaces/chains/Service/svc}
                data: {a: "1"}
                """),
        ]
        return RenderedSite(site: "edges", pattern: "chains", patternVersion: nil, cluster: ClusterFacts(), objects: objects,
                            revision: "sha256:" + String(repeating: "0", count: 64), components: [(name: "app", dependsOn: [])],
                            provenance: Provenance(source: "test"), warnings: [])
    }

    /// Applies `site` and returns where, in the request log, the ConfigMap "after" was applied
    /// and where the first readiness LIST/WATCH of deployments came after the Deployment was
    /// applied (observe's LIST is before it).
    static func applyAndOrder(_ site: RenderedSite, on cluster: TestCluster) async throws -> (applyAfter: Int, deploymentRead: Int) {
        let r = try await cluster.engine.apply(site, options: fastOptions())
        #expect(r.succeeded, "\(r.failed)")
        let entries = cluster.server.requestLog.entries
        let applyAfter = try #require(entries.firstIndex { $0.verb == "apply" && $0.resource == "configmaps" && $0.name == "after" })
        let applySlow = try #require(entries.firstIndex { $0.verb == "apply" && $0.resource == "deployments" })
        let read = try #require(entries[applySlow...].firstIndex { ($0.verb == "list" || $0.verb == "watch") && $0.resource == "deployments" })
        return (applyAfter, read)
    }

    @Test func anIndependentChainDoesNotWaitForAnotherChainsRollout() async throws {
        let cluster = try TestCluster(controllerDelay: 0.5)
        defer { cluster.server.stop() }
        let site = try Self.site()
        let plan = try ApplyEngine.plan(site)
        let levels = plan.levels.map { Set($0.map(\.name)) }
        #expect(levels == [["chains"], ["slow", "svc"], ["after"]] as [Set<String>], "the case this test needs: \(levels)")

        let (applyAfter, firstDeploymentRead) = try await Self.applyAndOrder(site, on: cluster)
        #expect(applyAfter < firstDeploymentRead, "the ConfigMap waited for the Deployment")
        // The apply still ends with everything ready.
        let live = try #require(cluster.server.store.get(group: "apps", resource: "deployments", namespace: "chains", name: "slow"))
        #expect(live[path: ["status", "readyReplicas"]]?.int == 1)
    }

    /// Per object, not per level: "late" depends on the slow Deployment and shares its level
    /// with "after", which depends only on the Service. "after" is written while the
    /// Deployment is still rolling out; it no longer waits for its sibling's dependency.
    @Test func anObjectStartsBeforeASiblingsSlowDependencyIsReady() async throws {
        // The Deployment stays unready (a long controller delay) until the test releases it.
        let cluster = try TestCluster(controllerDelay: 60)
        defer { cluster.server.stop() }
        var site = try Self.site()
        site.objects.append(try Self.object("""
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: late
              namespace: chains
              annotations: {config.kubernetes.io/depends-on: apps/namespaces/chains/Deployment/slow}
            data: {a: "2"}
            """))
        let plan = try ApplyEngine.plan(site)
        let levels = plan.levels.map { Set($0.map(\.name)) }
        #expect(levels == [["chains"], ["slow", "svc"], ["after", "late"]] as [Set<String>], "the case this test needs: \(levels)")

        let store = cluster.server.store
        func exists(_ name: String) -> Bool { store.get(resource: "configmaps", namespace: "chains", name: name) != nil }
        let apply = Task { try await cluster.engine.apply(site, options: fastOptions()) }
        // "after" is written while the Deployment cannot be ready; "late" is not. Before the
        // fix the whole level waited for the Deployment, so "after" never came (bounded wait).
        var sawAfter = false
        for _ in 0..<600 where !sawAfter {
            sawAfter = exists("after")
            if !sawAfter { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(sawAfter, "\"after\" waited for its sibling's dependency")
        #expect(!exists("late"), "\"late\" did not wait for its dependency")
        #expect(cluster.server.completeNow(group: "apps", resource: "deployments", namespace: "chains", name: "slow"))
        let r = try await apply.value
        #expect(r.succeeded, "\(r.failed)")
        #expect(exists("late"))
    }

    /// An edge is still a wait: the ConfigMap that depends on the Deployment is applied only
    /// after the Deployment is ready.
    @Test func aDependentWaitsForItsDependencyToBeReady() async throws {
        let cluster = try TestCluster(controllerDelay: 0.3)
        defer { cluster.server.stop() }
        var site = try Self.site()
        site.objects[3].object[path: ["metadata", "annotations", "config.kubernetes.io/depends-on"]] =
            .string("apps/namespaces/chains/Deployment/slow")
        let (applyAfter, firstDeploymentRead) = try await Self.applyAndOrder(site, on: cluster)
        #expect(firstDeploymentRead < applyAfter)
    }

    /// The waiter reports each object it saw become ready (`ApplyProgress.ready`), after it was
    /// applied: the progress line counts ready objects from these events.
    @Test func theWaiterReportsEachObjectThatBecomesReady() async throws {
        // The Deployment stays unready until the engine has reported waiting for it.
        let cluster = try TestCluster(controllerDelay: 60)
        defer { cluster.server.stop() }
        var site = try Self.site()
        site.objects[3].object[path: ["metadata", "annotations", "config.kubernetes.io/depends-on"]] =
            .string("apps/namespaces/chains/Deployment/slow")
        let events = EventLog()
        let slow = ObjectKey(group: "apps", kind: "Deployment", namespace: "chains", name: "slow")
        func waited() -> Bool { events.all.contains { if case .waiting(let k, _) = $0 { return k == slow }; return false } }
        let apply = Task { try await cluster.engine.apply(site, options: fastOptions()) { events.add($0) } }
        var sawWaiting = false
        for _ in 0..<600 where !sawWaiting {
            sawWaiting = waited()
            if !sawWaiting { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(sawWaiting, "the engine never reported waiting for the Deployment")
        #expect(!events.all.contains { if case .ready(let k) = $0 { return k == slow }; return false }, "ready before it was")
        #expect(cluster.server.completeNow(group: "apps", resource: "deployments", namespace: "chains", name: "slow"))
        let r = try await apply.value
        #expect(r.succeeded, "\(r.failed)")
        let all = events.all
        let readyAt = try #require(all.firstIndex { if case .ready(let k) = $0 { return k == slow }; return false })
        let appliedAt = try #require(all.firstIndex { if case .applied(let k, _) = $0 { return k == slow }; return false })
        #expect(appliedAt < readyAt)
        // Reported ready exactly once.
        #expect(all.filter { if case .ready(let k) = $0 { return k == slow }; return false }.count == 1)
    }
}

/// Progress events, collected from the engine's callback.
final class EventLog: @unchecked Sendable {
    private let lock = Lock()
    private var events: [ApplyProgress] = []
    func add(_ e: ApplyProgress) { lock.withLock { events.append(e) } }
    var all: [ApplyProgress] { lock.withLock { events } }
}
