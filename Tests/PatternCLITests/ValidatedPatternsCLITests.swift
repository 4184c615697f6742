import Testing
import TestSupport
import PatternCore
import KubeTestServer
#if canImport(Glibc)
import Glibc
#endif

/// `pattern render`, `values` and `facts` on a checkout laid out like a Validated Patterns repo.
@Suite struct ValidatedPatternsCLITests {
    static let fixture = RepositoryPaths.fixtures + "/validated-patterns/vp-demo"

    @Test func renderHubNeedsNoOverlayFile() async {
        let r = await CLI.runInProcess(["render", "hub", "-C", Self.fixture])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("kind: Subscription") && r.stdout.contains("name: aws-ebs-csi-driver-operator"))
        #expect(r.stdout.contains("kind: Application"))
    }

    @Test func valuesExplainAsJSONNamesFileAndLine() async throws {
        let r = await CLI.runInProcess(["values", "hub", "--explain", "-o", "json", "-C", Self.fixture])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try JSONParser.parse(Array(r.stdout.utf8))
        #expect(doc["sources"]?["global.clusterPlatform"]?.string == "overlays/hub/facts.yaml:10:22")
        #expect(doc["values"]?[path: ["clusterGroup", "name"]]?.string == "hub")
        #expect(doc["files"]?.array?.first?["path"]?.string == "values-global.yaml")
    }

    @Test func valuesOutsideAValidatedPatternsCheckoutIsAnErrorWithAFix() async {
        let r = await CLI.runInProcess(["values", "hub", "-C", RepositoryPaths.root + "/patterns"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("is not a Validated Patterns checkout"))
        #expect(r.stderr.contains("fix:"))
    }

    @Test func factsWritesTheSitesFactsFile() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let dir = TemporaryDirectories.make("vp-cli")
        defer { TemporaryDirectories.remove(dir) }
        write(dir + "/kubeconfig", server.kubeconfig())
        write(dir + "/repo/values-global.yaml", "global: {pattern: p}\nmain: {clusterGroupName: hub}\n")
        let r = CLI.run(["facts", "hub", "-C", dir + "/repo", "--kubeconfig", dir + "/kubeconfig", "--context", "test"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("wrote overlays/hub/facts.yaml"))
        let text = (try? LocalTree(root: dir + "/repo").read(TreePath("overlays/hub/facts.yaml"))).map { String(decoding: $0, as: UTF8.self) } ?? ""
        #expect(text.contains("kind: SiteFacts"))
        #expect(text.contains("clusterVersion:"))
        #expect(text.contains("kubeVersion: v1."))
    }

    func write(_ path: String, _ text: String) {
        var cur = ""
        for c in path.split(separator: "/").dropLast() { cur += "/" + c; mkdir(cur, 0o755) }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
        close(fd)
    }
}
