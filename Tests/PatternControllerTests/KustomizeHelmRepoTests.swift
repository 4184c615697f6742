import Foundation
import Testing
import TestSupport
import PatternCore
import PatternCompile
import PatternSource
import PatternController
import Kustomize

/// Kustomize `helmCharts:` entries with `repo:` (an https chart repository or `oci://`),
/// pulled through the source cache (`RemotePolicy.sourceCache` → `CachedRemoteChartLoader`),
/// pinned by an exact version as remote bases are by a tag.
@Suite(.serialized) struct KustomizeHelmRepoTests {
    func write(_ dir: String, _ rel: String, _ text: String) throws {
        let path = dir + "/" + rel
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    func chart(_ tmp: TemporaryDirectory, _ version: String) throws -> [UInt8] {
        try chartArchive(tmp, name: "podinfo", version: version, files: [
            "values.yaml": "greeting: default\n",
            "templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}-podinfo}\ndata: {version: \"{{ .Chart.Version }}\", greeting: {{ .Values.greeting | quote }}, ns: {{ .Release.Namespace }}}\n",
        ])
    }

    func kustomization(_ dir: String, repo: String, version: String?) throws {
        try write(dir, "kustomization.yaml", """
            namePrefix: k-
            helmCharts:
            - name: podinfo
              repo: \(repo)
            \(version.map { "  version: \"\($0)\"\n" } ?? "")  releaseName: web
              namespace: shop
              valuesInline:
                greeting: from-kustomize
            """)
    }

    func build(_ dir: String, cache: String, offline: Bool = false, allowUnpinned: Bool = false) throws(Diagnostics) -> [Value] {
        try KustomizeRender.build(directory: dir, remote: .sourceCache(SourceResolver(cache: SourceCache(directory: cache), offline: offline),
                                                                       allowUnpinned: allowUnpinned))
    }

    @Test func aChartRepositoryChartIsPulledByItsExactVersionAndReplayedOffline() throws {
        let tmp = TemporaryDirectory("kh-repo")
        defer { tmp.remove() }
        let server = try ChartRepoServer()
        defer { server.stop() }
        server.put("/charts/podinfo-1.2.0.tgz", try chart(tmp, "1.2.0"))
        server.put("/charts/podinfo-1.3.0.tgz", try chart(tmp, "1.3.0"))
        server.put("/charts/index.yaml", chartIndex("podinfo", [("1.2.0", server.url + "/podinfo-1.2.0.tgz", nil),
                                                                ("1.3.0", server.url + "/podinfo-1.3.0.tgz", nil)]))
        let dir = tmp.sub("k")
        try kustomization(dir, repo: server.url, version: "1.2.0")
        let objects = try build(dir, cache: tmp.sub("cache"))
        #expect(objects.count == 1)
        let cm = try #require(objects.first)
        #expect(cm.metadataName == "k-web-podinfo")                               // releaseName, then namePrefix
        #expect(cm["data"]?["version"]?.string == "1.2.0")                         // the pinned version, not the newest
        #expect(cm["data"]?["greeting"]?.string == "from-kustomize")               // valuesInline
        #expect(cm["data"]?["ns"]?.string == "shop")
        #expect(server.requests.contains("/charts/podinfo-1.2.0.tgz") && !server.requests.contains("/charts/podinfo-1.3.0.tgz"))

        // The repository is gone: the cached archive serves offline, byte for byte.
        server.stop()
        let again = try build(dir, cache: tmp.sub("cache"), offline: true)
        #expect(again == objects)
    }

    @Test func anOCIChartOnALoopbackRegistryIsPulledOverPlainHTTP() throws {
        let tmp = TemporaryDirectory("kh-oci")
        defer { tmp.remove() }
        let registry = try OCIRegistryServer()
        defer { registry.stop() }
        registry.push("charts/podinfo", tag: "1.3.0", chart: try chart(tmp, "1.3.0"))
        let dir = tmp.sub("k")
        // Kustomize appends the name to an oci:// repo: oci://host/charts/podinfo.
        try kustomization(dir, repo: registry.url("charts"), version: "1.3.0")
        let objects = try build(dir, cache: tmp.sub("cache"))
        #expect(objects.first?["data"]?["version"]?.string == "1.3.0")
        #expect(registry.requests.contains("GET /v2/charts/podinfo/manifests/1.3.0 auth=-"), "\(registry.requests)")
    }

    @Test func aRangeOrNoVersionIsNotAPinUnlessUnpinnedRemotesAreAllowed() throws {
        let tmp = TemporaryDirectory("kh-pin")
        defer { tmp.remove() }
        let server = try ChartRepoServer()
        defer { server.stop() }
        server.put("/charts/podinfo-1.2.0.tgz", try chart(tmp, "1.2.0"))
        server.put("/charts/podinfo-1.3.0.tgz", try chart(tmp, "1.3.0"))
        server.put("/charts/index.yaml", chartIndex("podinfo", [("1.2.0", server.url + "/podinfo-1.2.0.tgz", nil),
                                                                ("1.3.0", server.url + "/podinfo-1.3.0.tgz", nil)]))
        let dir = tmp.sub("k")
        for version in ["~1.2", "1.2", nil] as [String?] {
            try kustomization(dir, repo: server.url, version: version)
            do {
                _ = try build(dir, cache: tmp.sub("cache"))
                Issue.record("version \(version ?? "none") was accepted as a pin")
            } catch {
                let d = try #require(error.items.first)
                #expect(d.message.contains("is not pinned"), "\(d.message)")
                #expect(d.location?.file.hasSuffix("kustomization.yaml") == true && d.location?.mark.line == 3, "\(String(describing: d.location))")
                #expect(d.fix?.contains("exact chart version") == true)
            }
        }
        #expect(!server.requests.contains { $0.hasSuffix(".tgz") }, "nothing is downloaded for a refused entry: \(server.requests)")
        try kustomization(dir, repo: server.url, version: "~1.2")
        #expect(try build(dir, cache: tmp.sub("cache"), allowUnpinned: true).first?["data"]?["version"]?.string == "1.2.0")
        try kustomization(dir, repo: server.url, version: nil)
        #expect(try build(dir, cache: tmp.sub("cache"), allowUnpinned: true).first?["data"]?["version"]?.string == "1.3.0")
    }

    @Test func aVendoredCopyUnderChartHomeWinsAndNeedsNoRepository() throws {
        let tmp = TemporaryDirectory("kh-vendored")
        defer { tmp.remove() }
        let dir = tmp.sub("k")
        // Where `kustomize --enable-helm` leaves a pulled chart: charts/<name>-<version>/<name>.
        try write(dir, "charts/podinfo-1.2.0/podinfo/Chart.yaml", "apiVersion: v2\nname: podinfo\nversion: 1.2.0\n")
        try write(dir, "charts/podinfo-1.2.0/podinfo/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: vendored}\n")
        try kustomization(dir, repo: "https://127.0.0.1:1/unreachable", version: "1.2.0")
        let objects = try build(dir, cache: tmp.sub("cache"), offline: true)
        #expect(objects.map(\.metadataName) == ["k-vendored"])
    }

    @Test func withoutAChartLoaderARepoEntryIsATypedErrorWithAFix() throws {
        let tmp = TemporaryDirectory("kh-none")
        defer { tmp.remove() }
        let dir = tmp.sub("k")
        try kustomization(dir, repo: "oci://registry.example.com/charts", version: "1.2.0")
        do {
            _ = try KustomizeRender.build(directory: dir)
            Issue.record("expected an error")
        } catch {
            let d = try #require(error.items.first)
            #expect(d.message.contains("does not download charts"), "\(d.message)")
            #expect(d.fix?.contains("vendor the chart") == true)
        }
        try kustomization(dir, repo: "git@github.com:org/charts", version: "1.2.0")
        do {
            _ = try build(dir, cache: tmp.sub("cache"))
            Issue.record("expected an error")
        } catch {
            #expect(error.items.first?.message.contains("is not an https:// chart repository or an oci:// registry") == true, "\(error)")
        }
    }
}
