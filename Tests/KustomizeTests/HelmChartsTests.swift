import Testing
import PatternCore
import Helm
@testable import Kustomize

@Suite struct HelmChartsTests {
    static let root: String = {
        let parts = #filePath.split(separator: "/").dropLast(2)
        return "/" + parts.joined(separator: "/") + "/Fixtures/helm"
    }()

    @Test func helmChartsInflateWithValuesLayersThenTransformersApply() throws {
        let objects = try KustomizeBuilder(tree: LocalTree(root: Self.root)).build(try TreePath("kustomize"))
        let deploy = try #require(objects.first { $0.kindName == "Deployment" })
        // The chart's objects go through the kustomization's transformers like any resource.
        #expect(deploy.metadataName == "k-hello-greeter")
        #expect(deploy.metadataNamespace == "demo")
        #expect(deploy.labels["team"] == "web")
        #expect(deploy[path: ["spec", "replicas"]] == 3)                              // valuesFile
        let env = deploy[path: ["spec", "template", "spec", "containers"]]?.array?.first?["env"]
        #expect(env == [["name": "MSG", "value": "inline"], ["name": "COLOR", "value": "blue"]])  // valuesInline overrides; additionalValuesFiles last
        #expect(!objects.contains { $0.kindName == "Job" })                            // skipHooks
        #expect(objects.contains { $0.metadataName == "k-extra" })
    }

    @Test func missingChartIsAnErrorAtTheEntry() throws {
        let dir = try TreePath("kustomize")
        struct Overlay: SourceTree {
            let base: LocalTree
            var displayName: String { "overlay" }
            func entryKind(_ p: TreePath) -> TreeEntryKind? { p.string.hasPrefix("kustomize/charts") ? nil : base.entryKind(p) }
            func list(_ d: TreePath) throws -> [TreeEntry] { try base.list(d) }
            func read(_ p: TreePath) throws -> [UInt8] { try base.read(p) }
            func readLink(_ p: TreePath) throws -> String { try base.readLink(p) }
        }
        do {
            _ = try KustomizeBuilder(tree: Overlay(base: LocalTree(root: Self.root))).build(dir)
            Issue.record("expected an error")
        } catch {
            let d = try #require(error.items.first { $0.message.contains("chart 'greeter' not found") })
            #expect(d.location?.file == "kustomize/kustomization.yaml")
            #expect(d.location?.mark.line == 7)
        }
    }

    @Test func helmChartInflationGeneratorConfigsRenderThroughTheNativeEngine() throws {
        // `generators:` with builtin HelmChartInflationGenerator configurations (a file and an
        // inline one): chart fields and chartHome at the top level of each configuration.
        let objects = try KustomizeBuilder(tree: LocalTree(root: Self.root)).build(try TreePath("kustomize-generator"))
        let one = try #require(objects.first { $0.metadataName == "g-one-greeter" })
        #expect(one.kindName == "Deployment")
        #expect(one[path: ["spec", "replicas"]] == 4)
        let env = one[path: ["spec", "template", "spec", "containers"]]?.array?.first?["env"]
        #expect(env == [["name": "MSG", "value": "from-generator"], ["name": "COLOR", "value": "red"]])
        #expect(objects.contains { $0.metadataName == "g-one-hook" && $0.kindName == "Job" })   // hooks kept unless skipHooks
        let two = try #require(objects.first { $0.metadataName == "g-two-greeter" })
        #expect(two[path: ["spec", "replicas"]] == 1)                                          // the chart's own values.yaml
        #expect(!objects.contains { $0.metadataName == "g-two-hook" })                          // skipHooks
    }

    @Test func helmChartInflationGeneratorIsRefusedAsATransformer() throws {
        let dir = try TreePath("kustomize-generator-misplaced")
        do {
            _ = try KustomizeBuilder(tree: LocalTree(root: Self.root)).build(dir)
            Issue.record("expected an error")
        } catch {
            #expect(error.items.first?.message.contains("built-in plugin 'HelmChartInflationGenerator' is not supported in `transformers`") == true)
        }
    }

    /// A `helmCharts:` render's warnings (here an unknown hook and a subchart condition that is
    /// not a boolean) reach the build's `chartWarnings` sink, located at the chart's files as
    /// the objects show them; before, the generator dropped them.
    @Test func helmChartsRenderWarningsReachTheChartWarningsSink() throws {
        let tree = MemoryTree(files: [
            "app/kustomization.yaml": "helmCharts:\n- name: web\n  releaseName: r\n  valuesInline: {db: {enabled: \"yes please\"}}\n",
            "app/charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\ndependencies:\n- {name: db, version: 1.0.0, condition: db.enabled}\n",
            "app/charts/web/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n",
            "app/charts/web/templates/odd.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: odd, annotations: {helm.sh/hook: pre-frobnicate}}\n",
            "app/charts/web/charts/db/Chart.yaml": "apiVersion: v2\nname: db\nversion: 1.0.0\n",
            "app/charts/web/charts/db/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: db}\n",
        ])
        var remote = RemotePolicy.none
        let sink = ChartWarningSink()
        remote.chartWarnings = sink
        let objects = try KustomizeBuilder(tree: tree, remote: remote).build(try TreePath("app"))
        #expect(objects.contains { $0.metadataName == "web" } && !objects.contains { $0.metadataName == "odd" })
        let hook = try #require(sink.all.first { $0.message.contains("unknown hook") }, "\(sink.all)")
        #expect(hook.severity == .warning)
        #expect(hook.message == "helmCharts chart web: skipping unknown hook: \"pre-frobnicate\"")
        #expect(hook.location?.file == "app/charts/web/templates/odd.yaml")
        let condition = try #require(sink.all.first { $0.message.contains("condition path 'db.enabled'") }, "\(sink.all)")
        #expect(condition.location?.file == "app/charts/web/Chart.yaml" && condition.location?.mark.line == 5)
        // Without a sink the build is unchanged and still succeeds.
        #expect(try KustomizeBuilder(tree: tree).build(try TreePath("app")).count == objects.count)
    }
}
