import Testing
import TestSupport

/// `--help` fits 80 columns when piped (no line longer than 80, usage lines included).
@Suite struct HelpCLITests {
    @Test(arguments: [[], ["get"], ["status"], ["reconcile"], ["suspend"], ["resume"], ["events"], ["rbac"], ["tree"],
                      ["graph"], ["version"], ["validate"], ["fork"], ["update"], ["controller"],
                      ["render"], ["diff"], ["apply"], ["drift"], ["history"], ["values"], ["facts"], ["rollback"],
                      ["cluster", "check"], ["source", "fetch"]])
    func helpFitsEightyColumns(_ command: [String]) {
        let r = CLI.run(command + ["--help"], env: ["COLUMNS": "80"])
        #expect(r.status == 0)
        let long = r.stdout.split(separator: "\n").filter { $0.count > 80 }
        #expect(long.isEmpty, "\(command): \(long)")
    }
}
