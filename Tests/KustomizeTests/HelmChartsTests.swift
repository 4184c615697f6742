import Testing
import PatternCore
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
}
