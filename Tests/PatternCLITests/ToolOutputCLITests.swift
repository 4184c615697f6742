import Testing
import TestSupport
import PatternCore
import KubeTestServer
#if canImport(Glibc)
import Glibc
#endif

/// `-o json|yaml` on the commands around the engine: each prints one document with
/// `apiVersion: pattern.dev/v1alpha1` and its `kind`, in a stable shape.
@Suite(.serialized) struct ToolOutputCLITests {
    static func document(_ r: CLI.Result, kind: String) throws -> Value {
        let v = try JSONParser.parse(r.stdout)
        #expect(v["apiVersion"]?.string == "pattern.dev/v1alpha1")
        #expect(v["kind"]?.string == kind)
        return v
    }

    @Test func rbacAsADocumentHoldsTheSameObjectsAsTheYAML() async throws {
        let text = await CLI.runInProcess(["rbac", "hub"])
        #expect(text.status == 0, "\(text.stderr)")
        let j = await CLI.runInProcess(["rbac", "hub", "-o", "json"])
        #expect(j.status == 0, "\(j.stderr)")
        let v = try Self.document(j, kind: "RBAC")
        #expect(v["sites"] == ["hub"] && v["serviceAccount"] == "pattern-system/pattern-controller")
        let items = try #require(v["items"]?.array)
        let docs = try Array(text.stdout.utf8).withUnsafeBufferPointer { b throws(Diagnostic) in try YAMLParser.parseStream(bytes: b, file: "rbac") }
            .map(\.value).filter { !$0.isNull }
        #expect(items.count == docs.count && items.count > 2)
        #expect(items.map { $0.kindName } == docs.map { $0.kindName })
        let y = await CLI.runInProcess(["rbac", "hub", "-o", "yaml"])
        #expect(try YAMLParser.parse(y.stdout)["kind"] == "RBAC")
    }

    @Test func graphAsADocumentHasNodesAndEdges() async throws {
        let r = await CLI.runInProcess(["graph", "hub", "-o", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let v = try Self.document(r, kind: "Graph")
        #expect(v["site"] == "hub" && v["mode"] == "components")
        let nodes = try #require(v["nodes"]?.array)
        let namespaces = try #require(nodes.first { $0["id"] == "L0:namespaces" })
        #expect(namespaces["component"] == "namespaces" && namespaces["objects"] == 4 && namespaces["kinds"] == ["Namespace": 4])
        #expect(namespaces["state"] == nil)   // offline: no states
        let ids = Set(nodes.compactMap { $0["id"]?.string })
        let edges = try #require(v["edges"]?.array)
        #expect(!edges.isEmpty)
        #expect(edges.allSatisfy { ids.contains($0["from"]?.string ?? "") && ids.contains($0["to"]?.string ?? "") && !($0["reasons"]?.array ?? []).isEmpty })
        let o = await CLI.runInProcess(["graph", "hub", "--objects", "-o", "json"])
        let objects = try Self.document(o, kind: "Graph")
        #expect(objects["mode"] == "objects")
        #expect(objects["nodes"]?.array?.count == 22)
        #expect(objects["nodes"]?.array?.contains { $0["object"]?["kind"] == "Namespace" && $0["object"]?["name"] == "config-demo" } == true)
    }

    @Test func clusterCheckAsADocument() async throws {
        let server = try TestAPIServer.start(TestAPIServerOptions())
        defer { server.stop() }
        let dir = TemporaryDirectory("tool-output")
        defer { dir.remove() }
        let kubeconfig = dir.path + "/config"
        try FileSystem.write(kubeconfig, Array(server.kubeconfig().utf8))
        let r = await CLI.runInProcess(["cluster", "check", "--kubeconfig", kubeconfig, "--context", "test", "-o", "json"])
        #expect(r.status == 0, "\(r.stderr)\(r.stdout)")
        let v = try Self.document(r, kind: "ClusterCheck")
        #expect(v["ok"] == true)
        #expect(v["serverVersion"]?.string?.isEmpty == false)
        let steps = try #require(v["steps"]?.array)
        #expect(!steps.isEmpty && steps.allSatisfy { $0["ok"] == true && $0["name"]?.string != nil })
        // A kubeconfig that cannot be used is a failed document too, with exit 1.
        let bad = await CLI.runInProcess(["cluster", "check", "--kubeconfig", dir.path + "/missing", "-o", "json"])
        #expect(bad.status == 1)
        let b = try Self.document(bad, kind: "ClusterCheck")
        #expect(b["ok"] == false && b["steps"]?.array?.first?["name"] == "config")
    }

    @Test func sourceFetchForkAndUpdateAsDocuments() async throws {
        let dir = TemporaryDirectory("tool-output")
        defer { dir.remove() }
        let upstream = dir.path + "/upstream"
        try FileSystem.makeDirectories(upstream)
        try git(["init", "-q", "-b", "main"], in: upstream)
        try FileSystem.write(upstream + "/README.md", Array("hello\n".utf8))
        try git(["add", "."], in: upstream)
        try git(["commit", "-q", "-m", "first"], in: upstream)
        let head = try git(["rev-parse", "HEAD"], in: upstream)

        let f = await CLI.runInProcess(["source", "fetch", upstream, "--cache-dir", dir.path + "/cache", "-o", "json"])
        #expect(f.status == 0, "\(f.stderr)")
        let fetched = try Self.document(f, kind: "SourceFetch")
        #expect(fetched["commit"]?.string == head)
        #expect(fetched["stale"] == false && fetched["warnings"] == [])

        let fork = dir.path + "/fork"
        let c = await CLI.runInProcess(["fork", upstream, fork, "-o", "json"])
        #expect(c.status == 0, "\(c.stderr)")
        let created = try Self.document(c, kind: "Fork")
        #expect(created["commit"]?.string == head && created["branch"] == "main" && created["directory"]?.string == fork)

        let u = await CLI.runInProcess(["update", fork, "-o", "json"])
        #expect(u.status == 0, "\(u.stderr)")
        let upToDate = try Self.document(u, kind: "Update")
        #expect(upToDate["outcome"] == "upToDate" && upToDate["upstreamCommit"]?.string == head && upToDate["commit"] == .null)

        try FileSystem.write(upstream + "/README.md", Array("hello again\n".utf8))
        try git(["commit", "-q", "-am", "second"], in: upstream)
        let d = await CLI.runInProcess(["update", fork, "--dry-run", "-o", "yaml"])
        #expect(d.status == 0, "\(d.stderr)")
        let dry = try YAMLParser.parse(d.stdout)
        #expect(dry["kind"] == "Update" && dry["outcome"] == "wouldMerge")
        #expect(dry["upstreamChanges"] == [["path": "README.md", "status": "modified"]])
    }
}
