import Testing
import TestSupport
import PatternCLI

/// `--color=auto|always|never` and `--no-color`: accepted by every command, anywhere before `--`.
@Suite struct ColorCLITests {
    @Test func colorAlwaysColoursDiagnosticsNeverAndAutoWhenPipedDoNot() async {
        let always = await CLI.runInProcess(["render", "no-such-site", "--color=always"])
        #expect(always.status == 1)
        #expect(always.stderr.contains("\u{1B}[31merror\u{1B}[0m"), "\(always.stderr)")
        let spaced = await CLI.runInProcess(["--color", "always", "render", "no-such-site"])
        #expect(spaced.stderr.contains("\u{1B}[31m"))
        // Captured output is not a terminal: auto means no colour; never and --no-color too.
        for args in [["render", "no-such-site"], ["render", "no-such-site", "--color=never"], ["render", "no-such-site", "--no-color"]] {
            let r = await CLI.runInProcess(args)
            #expect(r.status == 1)
            #expect(!r.stderr.contains("\u{1B}["), "\(args)")
            #expect(r.stderr.contains("error"))
        }
    }

    @Test func aBadColorValueIsAUsageError() async {
        let r = await CLI.runInProcess(["--color=sometimes", "version"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("auto, always or never"))
        let v = await CLI.runInProcess(["version", "--color=never"])
        #expect(v.status == 0)
    }
}
