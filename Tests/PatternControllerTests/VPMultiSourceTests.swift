import Foundation
import Testing
import TestSupport
import PatternCore
import PatternCompile
import PatternSource
import ValidatedPatterns
@testable import PatternController

/// A Validated Patterns `Pattern`'s `spec.multiSourceConfig` decides the clustergroup chart as
/// the operator decides it: from the chart repository at that version, through the chart cache,
/// even where values-global.yaml says `enabled: false` and the repository vendors the chart.
@Suite(.serialized) struct VPMultiSourceTests {
    static let fixture = RepositoryPaths.fixtures + "/validated-patterns/vp-demo"

    /// The fixture's clustergroup chart as version `version` of a chart repository, with one more
    /// template: a ConfigMap `from-chart-repository` that the vendored chart does not have.
    static func serveChart(_ tmp: TemporaryDirectory, version: String) throws -> ChartRepoServer {
        var files: [String: String] = [:]
        let chartDir = fixture + "/common/clustergroup"
        for rel in try FileManager.default.subpathsOfDirectory(atPath: chartDir) {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: chartDir + "/" + rel, isDirectory: &isDir), !isDir.boolValue {
                files[rel] = try String(contentsOfFile: chartDir + "/" + rel, encoding: .utf8)
            }
        }
        files["Chart.yaml"] = "apiVersion: v2\nname: clustergroup\nversion: \(version)\n"
        files["templates/marker.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-chart-repository, namespace: default}\ndata: {version: \"{{ .Chart.Version }}\"}\n"
        let server = try ChartRepoServer()
        server.put("/charts/clustergroup-\(version).tgz", try chartArchive(tmp, name: "clustergroup", version: version, files: files))
        server.put("/charts/index.yaml", chartIndex("clustergroup", [(version, server.url + "/clustergroup-\(version).tgz", nil)]))
        return server
    }

    static func pattern(_ multiSource: Value?) -> Value {
        var spec: Value = ["clusterGroupName": "hub", "gitSpec": ["targetRepo": "https://git.example.com/me/vp-demo.git"]]
        if let multiSource { spec["multiSourceConfig"] = multiSource }
        return ["apiVersion": "gitops.hybrid-cloud-patterns.io/v1alpha1", "kind": "Pattern",
                "metadata": ["name": "vp-demo", "namespace": "openshift-operators"], "spec": spec]
    }

    /// The hub of the fixture (values-global.yaml: `multiSourceConfig.enabled: false`, the chart
    /// vendored at common/clustergroup) rendered for the PatternSync the controller makes.
    static func render(_ pattern: Value, cache: String, offline: Bool = false) throws -> RenderedSite {
        let spec = try PatternSyncSpec(spec: try VPPattern.patternSync(for: pattern)["spec"]!)
        let resolver = GitPatternResolver(resolver: SourceResolver(cache: SourceCache(directory: cache), offline: offline))
        var layout = resolver.validatedPatternsLayout
        layout.multiSourceConfig = spec.multiSourceConfig
        return try SiteCompiler(workspace: Workspace(tree: LocalTree(root: fixture), layout: layout), resolver: resolver).compile(site: "hub")
    }

    @Test func thePatternsMultiSourceConfigTakesTheChartFromTheRepositoryThroughTheCache() throws {
        let tmp = TemporaryDirectory("vp-multisource")
        defer { tmp.remove() }
        let server = try Self.serveChart(tmp, version: "0.9.3")
        defer { server.stop() }
        let config: Value = ["enabled": true, "helmRepoUrl": .string(server.url), "clusterGroupChartVersion": "0.9.3"]

        // The mapping carries it onto the PatternSync, and the PatternSync decoder reads it back.
        let sync = try VPPattern.patternSync(for: Self.pattern(config))
        #expect(sync[path: ["spec", "validatedPatterns", "multiSourceConfig"]] == config)

        let site = try Self.render(Self.pattern(config), cache: tmp.sub("cache"))
        let marker = site.objects.first { $0.object.metadataName == "from-chart-repository" }
        #expect(marker?.object[path: ["data", "version"]]?.string == "0.9.3")
        #expect(site.objects.contains { $0.object.kindName == "Application" && $0.object.metadataName == "config-demo" })
        #expect(server.requests.contains("/charts/clustergroup-0.9.3.tgz"))

        // Through the cache: with the repository gone, an offline render gives the same objects.
        server.stop()
        let again = try Self.render(Self.pattern(config), cache: tmp.sub("cache"), offline: true)
        #expect(again.objects.map(\.key) == site.objects.map(\.key))

        // enabled: false is the vendored chart (no marker); the operator's other fields are ignored then.
        let vendored = try Self.render(Self.pattern(["enabled": false, "helmRepoUrl": .string(server.url)]), cache: tmp.sub("cache"))
        #expect(!vendored.objects.contains { $0.object.metadataName == "from-chart-repository" })
        #expect(vendored.objects.first?.file.hasPrefix("common/clustergroup/") == true)
    }

    @Test func anAbsentMultiSourceConfigTakesTheOperatorsDefaults() throws {
        let tmp = TemporaryDirectory("vp-multisource-defaults")
        defer { tmp.remove() }
        // The operator defaults enabled to true and the chart repository to charts.validatedpatterns.io;
        // the fixture's common/ has no operator-install (slimmed), so the version is 0.9.*.
        let sync = try VPPattern.patternSync(for: Self.pattern(nil))
        #expect(sync[path: ["spec", "validatedPatterns", "multiSourceConfig"]] == ["enabled": true])
        #expect(MultiSourceConfig(value: nil).chartSource(Workspace(tree: LocalTree(root: Self.fixture)))
                == .repository(url: "https://charts.validatedpatterns.io/", chart: "clustergroup", version: "0.9.*"))
        let full = tmp.sub("full")
        try FileManager.default.createDirectory(atPath: full + "/common/operator-install", withIntermediateDirectories: true)
        #expect(MultiSourceConfig(value: ["enabled": true]).chartSource(Workspace(tree: LocalTree(root: full)))
                == .repository(url: "https://charts.validatedpatterns.io/", chart: "clustergroup", version: "0.8.*"))
        #expect(MultiSourceConfig(value: ["clusterGroupGitRepoUrl": "https://git.example.com/clustergroup-chart.git"]).chartSource(Workspace(tree: LocalTree(root: full)))
                == .git(url: "https://git.example.com/clustergroup-chart.git", revision: "main", path: "."))
        // Offline and not cached: the error names the operator's default chart, not the vendored path.
        do {
            _ = try Self.render(Self.pattern(nil), cache: tmp.sub("cache"), offline: true)
            Issue.record("rendered without the chart")
        } catch let d as Diagnostics {
            #expect(d.items.contains { $0.message.contains("clustergroup 0.9.* from https://charts.validatedpatterns.io/") }, "\(d.items)")
        }
        // A PatternSync whose multiSourceConfig is not an object is refused, naming the field.
        #expect(throws: SpecError.self) {
            _ = try PatternSyncSpec(spec: ["site": "hub", "source": ["path": "/x"], "validatedPatterns": ["multiSourceConfig": "yes"]])
        }
    }

    /// The controller renders a PatternSync's `validatedPatterns.multiSourceConfig`: it fetches the
    /// chart from the repository (the vendored chart would never ask the chart server).
    @Test func theReconcilerUsesThePatternSyncsMultiSourceConfig() async throws {
        let tmp = TemporaryDirectory("vp-multisource-ctl")
        defer { tmp.remove() }
        let server = try Self.serveChart(tmp, version: "0.9.4")
        defer { server.stop() }
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        try await cluster.createSync("vp", url: "unused", site: "hub", extra: [
            "source": ["path": .string(Self.fixture)],
            "validatedPatterns": ["multiSourceConfig": ["helmRepoUrl": .string(server.url), "clusterGroupChartVersion": "0.9.4"]],
        ])
        // The CRD keeps the field (a structural schema would drop an unknown one).
        #expect(await cluster.sync("vp")?[path: ["spec", "validatedPatterns", "multiSourceConfig", "clusterGroupChartVersion"]]?.string == "0.9.4")
        let running = RunningController(try cluster.controller(identity: "vp-multisource"))
        let fetched = await eventually(15) { server.requests.contains("/charts/clustergroup-0.9.4.tgz") }
        await running.stop()
        #expect(fetched, "\(server.requests)")
    }

    /// A repository whose values-global.yaml sets no `main.git` (as Validated Patterns
    /// repositories ship) gets `global.repoURL`/`targetRevision` from the PatternSync's git
    /// source, as the operator passes its Pattern's `gitSpec`.
    @Test func globalRepoURLComesFromTheSourceWhenValuesGlobalHasNone() throws {
        let tmp = TemporaryDirectory("vp-source-url")
        defer { tmp.remove() }
        let root = tmp.sub("repo")
        try FileManager.default.copyItem(atPath: Self.fixture, toPath: root)
        try "global: {pattern: vp-demo}\nmain:\n  clusterGroupName: hub\n  multiSourceConfig: {enabled: false}\n"
            .write(toFile: root + "/values-global.yaml", atomically: true, encoding: .utf8)
        func render(ref: String?) throws -> Value? {
            try ControllerRender.compileNow(tree: LocalTree(root: root), site: "hub", cache: SourceCache(directory: tmp.sub("cache")), treeProvenance: nil,
                                            repositoryURLs: ["https://git.example.com/me/vp-demo.git"], releases: .install, recorder: nil, sourceRef: ref)
                .objects.first { $0.key.kind == "Application" && $0.key.name == "config-demo" }?.object
        }
        let app = try #require(try render(ref: "release-1"))
        #expect(app[path: ["spec", "source", "repoURL"]]?.string == "https://git.example.com/me/vp-demo.git")
        #expect(app[path: ["spec", "source", "targetRevision"]]?.string == "release-1")
        // HEAD (the remote's default branch) leaves the chart's own default.
        let head = try #require(try render(ref: "HEAD"))
        #expect(head[path: ["spec", "source", "targetRevision"]]?.string == "main")
    }
}
