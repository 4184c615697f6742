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

    @Test func theNamedSubcommandIsParsedAloneAndEverythingElseGoesThroughTheWholeTree() throws {
        let render = try #require(PatternMain.parseSubcommandDirectly(["render", "-C", "repo", "hub", "-o", "json"]) as? RenderCommand)
        #expect(render.target == "hub" && render.repoOptions.repo == "repo" && render.output == .json)
        #expect(PatternMain.parseSubcommandDirectly(["cluster", "check", "--context", "c"]) is ClusterCommand.Check)
        // Help, version, unknown commands and parse errors take the full parse (exact messages).
        for args in [["render", "--help"], ["render", "-h"], ["help", "render"], ["--version"], ["nosuch", "x"],
                     ["render", "hub", "--bogus"], ["render"], []] {
            #expect(PatternMain.parseSubcommandDirectly(args) == nil, "\(args)")
        }
    }

    @Test func aParseErrorReadsAsItDidThroughTheWholeTree() async {
        let r = await CLI.runInProcess(["render", "hub", "--bogus"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("Unknown option '--bogus'"), "\(r.stderr)")
        #expect(r.stderr.contains("pattern render"), "usage names the whole command: \(r.stderr)")
    }

    @Test func onlyTheOptionFreeFormOfASiteTakesTheSiteFastPath() throws {
        let basic = "Tests/Fixtures/compile/basic"
        let hub = try #require(RenderCommand.plainSite(["render", "hub"]))
        #expect(hub.repo == "." && hub.site == "hub")
        let a = try #require(RenderCommand.plainSite(["render", "-C", basic, "site-a"]))
        #expect(a.repo == basic && a.site == "site-a")
        #expect(RenderCommand.plainSite(["render", "--repo", basic, "site-a"])?.repo == basic)
        #expect(RenderCommand.plainSite(["render", "--repo=\(basic)", "site-b"])?.site == "site-b")
        for args in [["render", "hub", "-o", "json"], ["render", "-o", "json", "hub"], ["render", "--all"], ["render", "--help"],
                     ["render", Self.fixture], ["render", "Tests/Fixtures/helm/shop"], ["validate", "hub"], ["render", "-C", "", "hub"]] {
            #expect(RenderCommand.plainSite(args) == nil, "\(args)")
        }
    }

    @Test func siteFastPathPrintsWhatTheParsedCommandPrints() async {
        for (fastArgs, parsedArgs) in [(["render", "hub"], ["render", "hub", "-o", "yaml"]),
                                       (["render", "-C", "Tests/Fixtures/compile/basic", "site-a"],
                                        ["render", "-o", "yaml", "-C", "Tests/Fixtures/compile/basic", "site-a"])] {
            let fast = await CLI.runInProcess(fastArgs)
            let parsed = await CLI.runInProcess(parsedArgs)
            #expect(fast.status == 0 && parsed.status == 0, "\(fast.stderr) \(parsed.stderr)")
            #expect(fast.stdout.contains("kind: "))
            #expect(fast.stdout == parsed.stdout)
            #expect(fast.stderr == parsed.stderr)
        }
    }

    @Test func siteFastPathReportsErrorsAsTheParsedCommandDoes() async {
        let fast = await CLI.runInProcess(["render", "edge-e"])
        let parsed = await CLI.runInProcess(["render", "edge-e", "-o", "yaml"])
        #expect(fast.status == 1 && parsed.status == 1)
        #expect(fast.stdout.isEmpty)
        #expect(fast.stderr == parsed.stderr)
        #expect(fast.stderr.contains("did you mean 'edge-eu'"), "\(fast.stderr)")
    }
}
