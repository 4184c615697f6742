import Testing
import PatternCore
@testable import Helm

@Suite struct LoaderTests {
    func load(_ name: String) throws -> Chart {
        try ChartLoader().load(tree: LocalTree(root: helmFixtures), path: try TreePath(name), display: name)
    }

    @Test func directoryChartWithHelmignoreSubchartsAndCRDs() throws {
        let c = try load("shop")
        #expect(c.metadata.name == "shop" && c.metadata.version == "1.2.3" && c.metadata.appVersion == "4.5")
        #expect(c.metadata.dependencies.map(\.name) == ["db", "cache", "common"])
        #expect(c.metadata.dependencies[1].alias == "redis")
        #expect(c.dependencies.map(\.name) == ["cache", "common", "db"])
        #expect(c.dependencies[1].metadata.isLibrary)
        // .helmignore: *.bak anywhere and the rooted /files/private.txt are not loaded.
        let names = c.files.map(\.name)
        #expect(names.contains("files/app.conf") && !names.contains("files/app.conf.bak") && !names.contains("files/private.txt"))
        #expect(names.contains(".helmignore"))   // as Helm: .helmignore itself is a chart file
        #expect(c.templates.map(\.name).contains("templates/tests/test-connection.yaml"))
        #expect(c.crdFiles.map(\.name) == ["crds/widgets.yaml"])
        #expect(c.schema?["required"] == ["replicaCount", "image"])
        #expect(c.dependencies[2].origin == "shop/charts/db")
    }

    @Test func v1ChartReadsRequirementsYAML() throws {
        let c = try load("legacy")
        #expect(c.metadata.apiVersion == "v1")
        #expect(c.metadata.dependencies.map(\.name) == ["sub"])
        #expect(c.values[path: ["sub", "on"]] == true)   // YAML 1.1 `yes`
    }

    @Test func chartYAMLErrorsNameTheFieldAndLine() {
        do {
            _ = try chart([file("Chart.yaml", "apiVersion: v3\nname: x\nversion: one\ntype: app\n")])
            Issue.record("expected errors")
        } catch let e as ChartError {
            let msgs = e.diagnostics.map(\.message)
            #expect(msgs.contains("chart.metadata.apiVersion \"v3\" is invalid"))
            #expect(msgs.contains("validation: chart.metadata.version \"one\" is invalid"))
            #expect(msgs.contains("chart.metadata.type must be application or library"))
            #expect(e.diagnostics.first { $0.message.contains("version") }?.location?.mark.line == 3)
        } catch { Issue.record("unexpected \(error)") }
        #expect(throws: ChartError.self) { try chart([file("values.yaml", "a: 1")]) }   // Chart.yaml missing
    }

    @Test func symlinkOutOfTheTreeIsRefused() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try dir.write("c/Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n")
        try dir.symlink("c/templates", to: "/etc")
        #expect(throws: ChartError.self) { try ChartLoader().load(tree: LocalTree(root: dir.path), path: try TreePath("c"), display: "c") }
    }
}
