import Foundation
import Testing
import TestSupport
import PatternCore
import PatternCompile
import PatternSource
import PatternController

/// Validated Patterns' clustergroup chart from a chart repository
/// (`main.multiSourceConfig.clusterGroupChartVersion` + `helmRepoUrl`) through
/// `GitPatternResolver`'s chart cache, as the CLI and the controller render it.
@Suite(.serialized) struct ClusterGroupChartTests {
    @Test func theClustergroupChartComesFromTheChartRepositoryThroughTheCache() throws {
        let tmp = TemporaryDirectory("vp-cg-chart")
        defer { tmp.remove() }
        let fixture = RepositoryPaths.fixtures + "/validated-patterns/vp-demo"
        // The fixture's own clustergroup chart, packaged as version 0.9.3 of a chart repository.
        var files: [String: String] = [:]
        let chartDir = fixture + "/common/clustergroup"
        for rel in try FileManager.default.subpathsOfDirectory(atPath: chartDir) {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: chartDir + "/" + rel, isDirectory: &isDir), !isDir.boolValue {
                files[rel] = try String(contentsOfFile: chartDir + "/" + rel, encoding: .utf8)
            }
        }
        files["Chart.yaml"] = "apiVersion: v2\nname: clustergroup\nversion: 0.9.3\n"
        let server = try ChartRepoServer()
        defer { server.stop() }
        server.put("/charts/clustergroup-0.9.3.tgz", try chartArchive(tmp, name: "clustergroup", version: "0.9.3", files: files))
        server.put("/charts/index.yaml", chartIndex("clustergroup", [("0.9.3", server.url + "/clustergroup-0.9.3.tgz", nil)]))

        let root = tmp.sub("repo")
        try FileManager.default.copyItem(atPath: fixture, toPath: root)
        try FileManager.default.removeItem(atPath: root + "/common")
        let global = try String(contentsOfFile: root + "/values-global.yaml", encoding: .utf8)
        try global.replacingOccurrences(of: "  multiSourceConfig:\n    enabled: false",
                                        with: "  multiSourceConfig:\n    enabled: true\n    helmRepoUrl: \(server.url)\n    clusterGroupChartVersion: \"0.9.*\"")
            .write(toFile: root + "/values-global.yaml", atomically: true, encoding: .utf8)

        let resolver = GitPatternResolver(resolver: SourceResolver(cache: SourceCache(directory: tmp.sub("cache"))))
        let site = try SiteCompiler(workspace: Workspace(tree: LocalTree(root: root), layout: resolver.validatedPatternsLayout),
                                    resolver: resolver).compile(site: "hub")
        #expect(site.objects.contains { $0.object.kindName == "Subscription" })
        #expect(site.objects.contains { $0.object.kindName == "Application" && $0.object.metadataName == "config-demo" })
        #expect(server.requests.contains("/charts/clustergroup-0.9.3.tgz"))
    }
}
