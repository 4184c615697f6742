import Testing
import TestSupport
import PatternCore
@testable import PatternCLI

/// `pattern render <kustomize-dir>` with no options skips ArgumentParser (the start-up fast
/// path in `PatternMain`); it must behave exactly as the parsed command does.
@Suite struct RenderFastPathCLITests {
    static let fixture = "Tests/Fixtures/kustomize/annotation-text"

    @Test func onlyTheOptionFreeFormOfAKustomizeDirectoryTakesTheFastPath() {
        #expect(RenderCommand.plainKustomizeDirectory(["render", Self.fixture]) == Self.fixture)
        #expect(RenderCommand.plainKustomizeDirectory(["render", Self.fixture, "-o", "json"]) == nil)
        #expect(RenderCommand.plainKustomizeDirectory(["render", "--help"]) == nil)
        #expect(RenderCommand.plainKustomizeDirectory(["render", "--all"]) == nil)
        #expect(RenderCommand.plainKustomizeDirectory(["validate", Self.fixture]) == nil)
        #expect(RenderCommand.plainKustomizeDirectory(["render", "Tests/Fixtures/kustomize"]) == nil, "no kustomization there")
        #expect(RenderCommand.plainKustomizeDirectory(["render", "Tests/Fixtures/helm/shop"]) == nil, "a chart is parsed")
    }

    @Test func fastPathPrintsWhatTheParsedCommandAndKubectlPrint() async throws {
        let fast = await CLI.runInProcess(["render", Self.fixture])
        let parsed = await CLI.runInProcess(["render", Self.fixture, "-o", "yaml"])
        #expect(fast.status == 0 && parsed.status == 0, "\(fast.stderr) \(parsed.stderr)")
        #expect(fast.stdout == parsed.stdout)
        let expected = try LocalTree(root: RepositoryPaths.root + "/" + Self.fixture).read(try TreePath("expected.yaml"))
        #expect(fast.stdout == String(decoding: expected, as: UTF8.self), "kubectl's output (expected.yaml)")
    }

    @Test func fastPathReportsErrorsAsTheParsedCommandDoes() async {
        let dir = "Tests/Fixtures/kustomize/errors/missing-resource"
        let fast = await CLI.runInProcess(["render", dir])
        let parsed = await CLI.runInProcess(["render", dir, "-o", "yaml"])
        #expect(fast.status == 1 && parsed.status == 1)
        #expect(fast.stdout.isEmpty)
        #expect(fast.stderr == parsed.stderr)
        #expect(fast.stderr.contains("fix:"), "\(fast.stderr)")
    }
}
