import Testing
import TestSupport
import Foundation
import PatternCore
import KubeTestServer
#if canImport(Glibc)
import Glibc
#endif

/// A site whose chart reads the cluster (`cluster.helm`): `pattern diff` against the test API
/// server over HTTP feeds `lookup` and `.Capabilities` from the cluster and records them in
/// the site's cache; `pattern render` and `--offline` replay the recording with the server
/// stopped.
@Suite(.serialized) struct HelmClusterReadsCLITests {
    static let template = """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: seen}
        data:
          mode: {{ dig "data" "mode" "none" (lookup "v1" "ConfigMap" "shop" "settings") | quote }}
          monitoring: {{ .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" | quote }}
          kube: {{ .Capabilities.KubeVersion.Version | quote }}
          {{- $cm := lookup "v1" "ConfigMap" "shop" "settings" }}
          {{- if $cm }}
          {{- $next := lookup "v1" "ConfigMap" "shop" (dig "data" "next" "" $cm) }}
          chained: {{ dig "data" "mode" "none" $next | quote }}
          {{- end }}

        """

    func writeRepo(_ root: String, helm: String?) {
        func write(_ path: String, _ text: String) {
            let full = root + "/" + path
            try? FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try! text.write(toFile: full, atomically: true, encoding: .utf8)
        }
        write("patterns/p/pattern.yaml", """
            apiVersion: pattern.dev/v1alpha1
            kind: Pattern
            metadata: {name: reads}
            spec:
              components:
              - {name: web, chart: {path: charts/web, namespace: web, releaseName: shop}}
            """)
        write("patterns/p/charts/web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.0.0\n")
        write("patterns/p/charts/web/templates/seen.yaml", Self.template)
        write("overlays/s/overlay.yaml", """
            apiVersion: pattern.dev/v1alpha1
            kind: Site
            metadata: {name: s}
            spec:
              pattern: {path: patterns/p}
            \(helm.map { "  cluster:\n    helm: \($0)\n" } ?? "")
            """)
    }

    func kubeconfig(_ server: TestAPIServer, in dir: String) -> String {
        let path = dir + "/config"
        try! server.kubeconfig().write(toFile: path, atomically: true, encoding: .utf8)
        _ = chmod(path, 0o600)
        return path
    }

    func seed(_ server: TestAPIServer) throws {
        try server.store.seed(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "settings", "namespace": "shop"],
                               "data": ["mode": "blue", "next": "second"]])
        try server.store.seed(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "second", "namespace": "shop"],
                               "data": ["mode": "green"]])
        try server.store.seed([
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": ["name": "servicemonitors.monitoring.coreos.com"],
            "spec": ["group": "monitoring.coreos.com", "scope": "Namespaced",
                     "names": ["plural": "servicemonitors", "singular": "servicemonitor", "kind": "ServiceMonitor", "listKind": "ServiceMonitorList"],
                     "versions": [["name": "v1", "served": true, "storage": true,
                                   "schema": ["openAPIV3Schema": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]]]]]])
    }

    func seenData(_ yaml: String) throws -> Value? {
        for doc in try YAMLParser.parseStream(yaml) where doc.value.metadataName == "seen" { return doc.value["data"] }
        return nil
    }

    @Test func liveLookupAndDiscoveryAreReadRecordedAndReplayedOffline() throws {
        let root = TemporaryDirectories.make("pattern-helm-reads")
        defer { TemporaryDirectories.remove(root) }
        let server = try TestAPIServer.start()
        var stopped = false
        defer { if !stopped { server.stop() } }
        try seed(server)
        let kc = kubeconfig(server, in: root)
        let cache = root + "/cache"
        let repo = root + "/repo"
        func pattern(_ args: [String]) -> CLI.Result {
            CLI.run(args + ["-C", repo, "--cache-dir", cache])
        }
        let cluster = ["--kubeconfig", kc, "--context", "test", "--allow-other-context"]

        // Off (the default): as `helm template`, lookup is empty and capabilities are Helm's defaults.
        writeRepo(repo, helm: nil)
        let off = pattern(["diff", "s", "-o", "json"] + cluster)
        #expect(off.status == 1, "\(off.stderr)")
        #expect(off.stdout.contains("\"none\"") || off.stdout.contains("none"))
        let offRender = pattern(["render", "s"])
        #expect(offRender.status == 0, "\(offRender.stderr)")
        let offData = try seenData(offRender.stdout)
        #expect(offData?["mode"]?.string == "none")
        #expect(offData?["monitoring"]?.string == "false")
        #expect(offData?["kube"]?.string == "v1.31.0")
        #expect(offData?["chained"] == nil)

        // Live: diff reads the cluster (two lookups, the second from the first's answer) and discovery.
        writeRepo(repo, helm: "{lookup: live, capabilities: discover}")
        let live = pattern(["diff", "s", "-o", "json"] + cluster)
        #expect(live.status == 1, "\(live.stderr)")
        #expect(live.stdout.contains("blue"), "\(live.stdout)")
        #expect(live.stdout.contains("green"), "\(live.stdout)")
        #expect(live.stdout.contains("v1.30.0-pattern-test"), "\(live.stdout)")

        // The recording is the site's cache, readable only by its owner.
        let recordDir = cache + "/helm-reads"
        let files = (try? FileManager.default.contentsOfDirectory(atPath: recordDir)) ?? []
        #expect(files.count == 1 && files[0].hasSuffix("-s.json"), "\(files)")
        var st = stat()
        #expect(stat(recordDir + "/" + (files.first ?? ""), &st) == 0 && st.st_mode & 0o777 == 0o600)

        // Server stopped: render replays what diff read, byte for byte the same as --offline.
        server.stop()
        stopped = true
        let replay = pattern(["render", "s"])
        #expect(replay.status == 0, "\(replay.stderr)")
        let data = try seenData(replay.stdout)
        #expect(data?["mode"]?.string == "blue")
        #expect(data?["chained"]?.string == "green")
        #expect(data?["monitoring"]?.string == "true")
        #expect(data?["kube"]?.string == "v1.30.0-pattern-test")
        #expect(!replay.stderr.contains("warning"), "\(replay.stderr)")
        let offline = pattern(["render", "s", "--offline"])
        #expect(offline.stdout == replay.stdout)
    }

    @Test func secretLookupsAreRefusedUnlessTheSiteAllowsThem() throws {
        let root = TemporaryDirectories.make("pattern-helm-reads")
        defer { TemporaryDirectories.remove(root) }
        let server = try TestAPIServer.start()
        defer { server.stop() }
        try server.store.seed(["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "db", "namespace": "shop"],
                               "data": ["password": "c2VjcmV0LXZhbHVl"]])
        let kc = kubeconfig(server, in: root)
        let repo = root + "/repo"
        writeRepo(repo, helm: "{lookup: live}")
        try! """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: seen}
            data:
              password: {{ dig "data" "password" "none" (lookup "v1" "Secret" "shop" "db") | quote }}

            """.write(toFile: repo + "/patterns/p/charts/web/templates/seen.yaml", atomically: true, encoding: .utf8)
        let r = CLI.run(["diff", "s", "-C", repo, "--cache-dir", root + "/cache", "--kubeconfig", kc, "--context", "test", "--allow-other-context"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("lookupSecrets: true"), "\(r.stderr)")
        #expect(!r.stderr.contains("c2VjcmV0LXZhbHVl") && !r.stdout.contains("c2VjcmV0LXZhbHVl"))
        #expect(!FileManager.default.fileExists(atPath: root + "/cache/helm-reads"))
    }

    @Test func aWrongHelmSettingIsATypedErrorWithItsLine() throws {
        let root = TemporaryDirectories.make("pattern-helm-reads")
        defer { TemporaryDirectories.remove(root) }
        writeRepo(root, helm: "{lookup: always}")
        let r = CLI.run(["render", "s", "-C", root])
        #expect(r.status != 0)
        #expect(r.stderr.contains("overlay.yaml:7:"), "\(r.stderr)")
        #expect(r.stderr.contains("off, live, replay"))
        #expect(r.stderr.contains("fix:"))
    }
}
