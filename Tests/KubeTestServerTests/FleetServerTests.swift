import Foundation
import PatternCore
import Testing
import TestSupport
@testable import KubeTestServer

/// One process serving many clusters under `/clusters/<name>`.
@Suite struct FleetServerTests {
    static let cmBody: Value = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "only-in-a"], "data": ["k": "v"]]

    @Test func clustersHaveTheirOwnObjectsLogsAndDiscovery() throws {
        let fleet = try TestAPIFleetServer.start(clusters: ["a", "b"])
        defer { fleet.stop() }
        let a = try #require(fleet["a"]), b = try #require(fleet["b"])
        #expect(a.url == "http://127.0.0.1:\(fleet.port)/clusters/a")
        #expect(a.port == fleet.port && b.port == fleet.port)

        let created = try a.request("POST", "/clusters/a/api/v1/namespaces/default/configmaps", body: Self.cmBody)
        #expect(created.status == 201)
        #expect(try a.request("GET", "/clusters/a/api/v1/namespaces/default/configmaps/only-in-a").status == 200)
        #expect(try b.request("GET", "/clusters/b/api/v1/namespaces/default/configmaps/only-in-a").status == 404)
        #expect(a.store.get(group: "", resource: "configmaps", namespace: "default", name: "only-in-a") != nil)
        #expect(b.store.get(group: "", resource: "configmaps", namespace: "default", name: "only-in-a") == nil)

        // Each cluster logs its own requests, with the prefix stripped and the verb resolved.
        #expect(a.requestLog.entries.contains { $0.verb == "create" && $0.path == "/api/v1/namespaces/default/configmaps" })
        #expect(!b.requestLog.entries.contains { $0.verb == "create" })

        // Discovery under the prefix; the kube-system namespaces (cluster identities) differ.
        #expect(try a.request("GET", "/clusters/a/api").json["kind"]?.string == "APIVersions")
        #expect(try b.request("GET", "/clusters/b/apis/apps/v1").status == 200)
        let uidA = a.store.get(group: "", resource: "namespaces", name: "kube-system")?[path: ["metadata", "uid"]]
        let uidB = b.store.get(group: "", resource: "namespaces", name: "kube-system")?[path: ["metadata", "uid"]]
        #expect(uidA != nil && uidA != uidB)
    }

    @Test func unknownClusterIs404AndLoggedAsUnrouted() throws {
        let fleet = try TestAPIFleetServer.start(clusters: ["a"])
        defer { fleet.stop() }
        let a = try #require(fleet["a"])
        #expect(try a.request("GET", "/clusters/nope/api").status == 404)
        #expect(try a.request("GET", "/api").status == 404)
        #expect(fleet.unroutedLog.entries.map(\.path) == ["/clusters/nope/api", "/api"])
        #expect(a.requestLog.entries.isEmpty)
    }

    @Test func oneClusterDownTheOthersServe() throws {
        let fleet = try TestAPIFleetServer.start(clusters: ["a", "b"])
        defer { fleet.stop() }
        let a = try #require(fleet["a"]), b = try #require(fleet["b"])
        a.outage = .unavailable
        let r = try a.request("GET", "/clusters/a/version")
        #expect(r.status == 503)
        #expect(try b.request("GET", "/clusters/b/version").status == 200)
        a.outage = .reset
        #expect(throws: TestHTTPError.self) { try a.request("GET", "/clusters/a/version") }
        a.outage = nil
        #expect(try a.request("GET", "/clusters/a/version").status == 200)
        // Faults are per cluster too.
        b.faults.add(FaultRule(pathContains: "/version", action: .internalError("b only")))
        #expect(try b.request("GET", "/clusters/b/version").status == 500)
        #expect(try a.request("GET", "/clusters/a/version").status == 200)
    }

    @Test func kubeconfigHasOneContextPerClusterAndRejectsBadNames() throws {
        let fleet = try TestAPIFleetServer.start(clusters: ["hub", "edge-1"])
        defer { fleet.stop() }
        let refused = try TestAPIFleetServer.refusedURL()
        let text = fleet.kubeconfig(token: "t0k", extra: [("gone", refused)])
        let doc = try YAMLParser.parse(text)
        let contexts = (doc["contexts"]?.array ?? []).compactMap { $0["name"]?.string }
        #expect(contexts == ["hub", "edge-1", "gone"])
        let servers = (doc["clusters"]?.array ?? []).compactMap { $0[path: ["cluster", "server"]]?.string }
        #expect(servers == ["\(fleet.url)/clusters/hub", "\(fleet.url)/clusters/edge-1", refused])
        #expect(doc["current-context"]?.string == "hub")
        #expect(throws: TestAPIFleetServer.FleetError.self) { try fleet.addCluster("Bad/Name") }
        #expect(throws: TestAPIFleetServer.FleetError.self) { try fleet.addCluster("hub") }
        // Added while serving: reachable at once.
        let late = try fleet.addCluster("late")
        #expect(try late.request("GET", "/clusters/late/version").status == 200)
    }

    @Test func testClustersHelperWritesAKubeconfigAndRemovesIt() throws {
        let clusters = try TestClusters(["x", "y"], refused: ["z"])
        let path = clusters.kubeconfigPath
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("name: x") && text.contains("name: y") && text.contains("name: z"))
        #expect(clusters["x"].url.hasSuffix("/clusters/x"))
        clusters.stop()
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
