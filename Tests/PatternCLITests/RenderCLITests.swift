import Testing
import PatternCore

@Suite struct RenderCLITests {
    @Test func usageErrorsExitWithTwo() {
        let r = CLI.run(["render"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("give a site"))
        #expect(CLI.run(["render", "hub", "--bogus"]).status == 2)
    }

    @Test func unknownSiteIsAValidationErrorWithAHint() {
        let r = CLI.run(["render", "edge-e"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("no overlay named 'edge-e'"))
        #expect(r.stderr.contains("did you mean 'edge-eu'"))
        #expect(r.stdout.isEmpty)
    }

    @Test func helpTeaches() {
        let r = CLI.run(["render", "--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("apply order"))
        #expect(r.stdout.contains("Examples"))
    }
}
