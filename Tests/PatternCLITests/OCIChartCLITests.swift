import Foundation
import Testing
import TestSupport
import PatternCore
import KubeTestServer

/// A chart component from an OCI registry, end to end through the binary: the registry's
/// token flow, the manifest and chart layer checked and cached, then rendered offline.
@Suite struct OCIChartCLITests {
    @Test func anOCIChartComponentRendersAndReplaysOffline() throws {
        let tmp = TemporaryDirectory("oci-cli")
        defer { tmp.remove() }
        let registry = try OCIRegistryServer()
        registry.auth = .token(user: nil)
        let tgz = try chartArchive(tmp, name: "web", version: "1.4.2", files: [
            "values.yaml": "replicas: 1\n",
            "templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web-{{ .Release.Name }}}\ndata: {replicas: \"{{ .Values.replicas }}\", version: \"{{ .Chart.Version }}\"}\n",
        ])
        let pushed = registry.push("acme/charts/web", tag: "1.4.2", chart: tgz)
        registry.push("acme/charts/web", tag: "2.0.0", chart: tgz)
        let files: [String: String] = [
            "patterns/p/pattern.yaml": """
                apiVersion: pattern.dev/v1alpha1
                kind: Pattern
                metadata: {name: p}
                spec:
                  components:
                  - name: web
                    chart: {oci: "\(registry.url("acme/charts/web"))", version: "~1.4", plainHTTP: true, releaseName: site, namespace: apps, values: {replicas: 3}}
                """,
            "overlays/s/overlay.yaml": "apiVersion: pattern.dev/v1alpha1\nkind: Site\nmetadata: {name: s}\nspec:\n  pattern: {path: patterns/p}\n",
        ]
        for (path, text) in files {
            let full = tmp.path + "/repo/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: false, encoding: .utf8)
        }
        let r = CLI.run(["render", "s", "-C", tmp.path + "/repo", "--cache-dir", tmp.path + "/cache"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("name: web-site") && r.stdout.contains("replicas: \"3\"") && r.stdout.contains("version: 1.4.2"), "\(r.stdout)")
        #expect(registry.requests.contains("GET /v2/acme/charts/web/blobs/\(pushed.layer) auth=Bearer"), "\(registry.requests)")
        registry.stop()

        let offline = CLI.run(["render", "s", "-C", tmp.path + "/repo", "--cache-dir", tmp.path + "/cache", "--offline"])
        #expect(offline.status == 0, "\(offline.stderr)")
        #expect(offline.stdout.contains("name: web-site"))
        #expect(offline.stderr.contains("USING STALE CHART") && offline.stderr.contains("patterns/p/pattern.yaml:"), "\(offline.stderr)")

        // A tag in the URL is a located error with a fix.
        try files["patterns/p/pattern.yaml"]!.replacingOccurrences(of: "acme/charts/web\"", with: "acme/charts/web:1.4.2\"")
            .write(toFile: tmp.path + "/repo/patterns/p/pattern.yaml", atomically: false, encoding: .utf8)
        let bad = CLI.run(["render", "s", "-C", tmp.path + "/repo", "--cache-dir", tmp.path + "/cache", "--offline"])
        #expect(bad.status != 0 && bad.stderr.contains("patterns/p/pattern.yaml:") && bad.stderr.contains("chart.version"), "\(bad.stderr)")
    }
}
