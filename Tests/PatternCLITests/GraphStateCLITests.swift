import Testing
import TestSupport
import PatternCore
import KubeClient
import KubeTestServer

/// `pattern graph --state`: boxes coloured by what the cluster says about their objects.
@Suite(.serialized) struct GraphStateCLITests {
    @Test func statesFollowTheClusterCreateThenReadyThenDrifted() async throws {
        var o = TestAPIServerOptions()
        o.simulateControllers = true
        let server = try TestAPIServer.start(o)
        defer { server.stop() }
        let dir = TemporaryDirectory("graph-state")
        defer { dir.remove() }
        let kubeconfig = dir.path + "/config"
        try FileSystem.write(kubeconfig, Array(server.kubeconfig().utf8))
        let cluster = ["--kubeconfig", kubeconfig, "--context", "test", "--allow-other-context"]
        func states(objects: Bool) async throws -> [String: String] {
            let r = await CLI.runInProcess(["graph", "dev", "--state", "-o", "json"] + (objects ? ["--objects"] : []) + cluster)
            #expect(r.status == 0, "\(r.stderr)")
            var out: [String: String] = [:]
            for n in try JSONParser.parse(r.stdout)["nodes"]?.array ?? [] { out[n["id"]?.string ?? ""] = n["state"]?.string }
            return out
        }
        // Nothing applied: every box would be created.
        let before = try await states(objects: false)
        #expect(!before.isEmpty && Set(before.values) == ["create"], "\(before)")

        let a = await CLI.runInProcess(["apply", "dev", "--timeout", "30"] + cluster)
        #expect(a.status == 0, "\(a.stderr)")
        let after = try await states(objects: false)
        #expect(Set(after.values) == ["ready"], "\(after)")

        // Someone edits a ConfigMap's data: that object is drifted, the others stay ready.
        let objects = try await states(objects: true)
        let configMapID = try #require(objects.keys.sorted().first { $0.contains(":ConfigMap ") })
        let description = String(configMapID.split(separator: ":", maxSplits: 1)[1])   // "ConfigMap ns/name"
        let nsName = description.split(separator: " ")[1].split(separator: "/").map(String.init)
        let client = try KubeClient(kubeconfig: kubeconfig, context: "test")
        let live = try await client.get(GroupVersionKind(group: "", version: "v1", kind: "ConfigMap"), name: nsName[1], namespace: nsName[0])
        let key = try #require(live["data"]?.object?.keys.first)
        _ = try await client.apply(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(nsName[1]), "namespace": .string(nsName[0])],
                                    "data": [key: "edited by hand"]], fieldManager: "kubectl-edit", force: true)
        let drifted = try await states(objects: true)
        #expect(drifted[configMapID] == "drifted", "\(drifted)")
        #expect(drifted.filter { $0.value != "ready" }.keys.sorted() == [configMapID])

        // DOT: the drifted box's colour and a legend.
        let dot = await CLI.runInProcess(["graph", "dev", "--state"] + cluster)
        #expect(dot.stdout.contains("subgraph cluster_legend"))
        #expect(dot.stdout.contains("fillcolor=\"#ffd9a8\""))      // drifted
        #expect(dot.stdout.contains("1 drifted"))
    }
}
