import Foundation
import Testing
import TestSupport
import PatternCore
import KubeTestServer

/// A chart component from a chart repository, end to end through the binary: index.yaml and
/// the archive served on loopback, the archive checked and cached, then rendered offline.
@Suite struct ChartRepositoryCLITests {
    func shell(_ script: String, in dir: String) throws {
        let o = try runTool("/bin/sh", ["-c", script], environment: ["PATH": "/usr/bin:/bin", "LANG": "C"], in: dir)
        #expect(o.succeeded, "\(script)\n\(o.stderrText)")
    }

    @Test func aChartFromARepositoryRendersAndReplaysOffline() throws {
        let base = TemporaryDirectories.make("chartrepo-cli")
        defer { TemporaryDirectories.remove(base) }
        try shell("""
            set -e
            mkdir -p build/web/templates
            printf 'apiVersion: v2\\nname: web\\nversion: 1.4.2\\n' > build/web/Chart.yaml
            printf 'replicas: 1\\n' > build/web/values.yaml
            printf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: web-{{ .Release.Name }}}\\ndata: {replicas: "{{ .Values.replicas }}", version: "{{ .Chart.Version }}"}\\n' > build/web/templates/cm.yaml
            tar -C build -czf web-1.4.2.tgz web
            """, in: base)
        let tgz = [UInt8](try #require(FileManager.default.contents(atPath: base + "/web-1.4.2.tgz")))
        let index = "apiVersion: v1\nentries:\n  web:\n  - {name: web, version: 1.4.2, urls: [web-1.4.2.tgz], digest: \(SHA256.hex(tgz))}\n  - {name: web, version: 2.0.0, urls: [web-2.0.0.tgz], digest: \(SHA256.hex(tgz))}\n"
        let server = HTTPServer { req, w in
            switch req.path {
            case "/charts/index.yaml": w.send(status: 200, contentType: "text/yaml", body: Array(index.utf8))
            case "/charts/web-1.4.2.tgz": w.send(status: 200, contentType: "application/gzip", body: tgz)
            default: w.send(status: 404, contentType: "text/plain", body: Array("no".utf8))
            }
        }
        try server.start(port: 0)
        let files: [String: String] = [
            "patterns/p/pattern.yaml": """
                apiVersion: pattern.dev/v1alpha1
                kind: Pattern
                metadata: {name: p}
                spec:
                  components:
                  - name: web
                    chart: {repo: "http://127.0.0.1:\(server.port)/charts", name: web, version: "~1.4", releaseName: site, namespace: apps, values: {replicas: 3}}
                """,
            "overlays/s/overlay.yaml": "apiVersion: pattern.dev/v1alpha1\nkind: Site\nmetadata: {name: s}\nspec:\n  pattern: {path: patterns/p}\n",
        ]
        for (path, text) in files {
            let full = base + "/repo/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: false, encoding: .utf8)
        }
        let r = CLI.run(["render", "s", "-C", base + "/repo", "--cache-dir", base + "/cache"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("name: web-site") && r.stdout.contains("replicas: \"3\"") && r.stdout.contains("version: 1.4.2"), "\(r.stdout)")
        server.stop()

        // The repository is gone: --offline renders the same chart from the cache.
        let offline = CLI.run(["render", "s", "-C", base + "/repo", "--cache-dir", base + "/cache", "--offline"])
        #expect(offline.status == 0, "\(offline.stderr)")
        #expect(offline.stdout.contains("name: web-site"))
        #expect(offline.stderr.contains("USING STALE CHART") && offline.stderr.contains("patterns/p/pattern.yaml:"), "the cached chart is used loudly: \(offline.stderr)")
        // Without a cache there is nothing to render from: a located error, exit 1.
        let none = CLI.run(["render", "s", "-C", base + "/repo", "--cache-dir", base + "/empty-cache", "--offline"])
        #expect(none.status != 0)
        #expect(none.stderr.contains("patterns/p/pattern.yaml:") && none.stderr.contains("component 'web'"), "\(none.stderr)")
    }
}
