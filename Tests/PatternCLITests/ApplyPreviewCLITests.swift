import Testing
import TestSupport
import PatternCLI
import PatternCore
import KubeTestServer
#if canImport(Glibc)
import Glibc
#endif

/// Preview and confirm: the change table before any write, `Continue? [yN]` at a terminal
/// (played by a `Terminal` stand-in, and by a real pseudo-terminal through script(1)).
@Suite(.serialized) struct ApplyPreviewCLITests {
    let server: TestAPIServer
    let dir: String
    var kubeconfig: String { dir + "/config" }

    init() throws {
        var o = TestAPIServerOptions()
        o.simulateControllers = true
        server = try TestAPIServer.start(o)
        dir = TemporaryDirectories.make("pattern-cli-preview")
        let fd = open(dir + "/config", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let text = server.kubeconfig()
        _ = text.withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }

    var clusterArgs: [String] { ["--kubeconfig", kubeconfig, "--context", "test", "--allow-other-context", "--no-wait"] }

    func atTerminal(_ args: [String], answer: String?, asked: Asked, wait: Bool = false) async -> CLI.Result {
        let t = Terminal(isInteractive: true, readLine: { asked.count += 1; return answer })
        let cluster = wait ? clusterArgs.filter { $0 != "--no-wait" } : clusterArgs
        return await Terminal.$override.withValue(t) { await CLI.runInProcess(args + cluster) }
    }

    final class Asked: @unchecked Sendable { var count = 0 }

    @Test func noAtTheTerminalWritesNothing() async {
        defer { server.stop(); TemporaryDirectories.remove(dir) }
        let asked = Asked()
        let r = await atTerminal(["apply", "dev"], answer: "n", asked: asked, wait: true)
        #expect(r.status == 1)
        #expect(asked.count == 1)
        #expect(r.stderr.contains("Continue? [yN]: "))
        #expect(r.stderr.contains("stopped: nothing was written"))
        #expect(r.stdout.contains("NAMESPACE"), "\(r.stdout)")
        let row = r.stdout.split(separator: "\n").first { $0.hasPrefix("hello-world ") && $0.contains(" Deployment.apps ") }
        #expect(row?.split(separator: " ").map(String.init) == ["hello-world", "Deployment.apps", "hello-world", "create", "4", "rollout"], "\(r.stdout)")
        #expect(server.requestLog.writes.isEmpty)
    }

    @Test func yesAtTheTerminalAppliesAndNoChangesAsksNothing() async {
        defer { server.stop(); TemporaryDirectories.remove(dir) }
        let asked = Asked()
        let r = await atTerminal(["apply", "dev"], answer: " Y ", asked: asked)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(asked.count == 1)
        #expect(r.stdout.contains("created"))
        #expect(!server.requestLog.writes.isEmpty)
        // Everything matches now: the table says so and nobody is asked.
        let again = await atTerminal(["apply", "dev"], answer: "n", asked: asked)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(asked.count == 1)
        #expect(again.stdout.contains("Op: 0 create, 0 update, 0 prune,"))
        #expect(!again.stdout.contains("NAMESPACE"))
        // The ledger names the Kubernetes identity (SelfSubjectReview) and the CLI, not $USER@host.
        let h = await CLI.runInProcess(["history", "dev", "-o", "json", "--kubeconfig", kubeconfig, "--context", "test", "--allow-other-context"])
        let doc = try? JSONParser.parse(h.stdout)
        let client = doc?["entries"]?.array?.first?["client"]
        #expect(client?["user"] == "system:admin", "\(h.stdout)\(h.stderr)")
        #expect(client?["host"] == "")
        #expect(client?["tool"] == "pattern")
    }

    @Test func yesFlagDoesNotAskAndDiffPrintsFieldDiffsFirst() async {
        defer { server.stop(); TemporaryDirectories.remove(dir) }
        let asked = Asked()
        let r = await atTerminal(["apply", "dev", "-y", "--diff"], answer: "n", asked: asked)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(asked.count == 0)
        let diffAt = r.stdout.range(of: "+++ desired/")?.lowerBound
        let tableAt = r.stdout.range(of: "NAMESPACE")?.lowerBound
        #expect(diffAt != nil && tableAt != nil && diffAt! < tableAt!)
    }

    @Test func aRealPseudoTerminalIsAsked() {
        defer { server.stop(); TemporaryDirectories.remove(dir) }
        // script(1) runs pattern on a pseudo-terminal and feeds it "n".
        var command = "'\(CLI.binary)' apply dev --color=never"
        for a in clusterArgs { command += " '\(a)'" }
        let r = CLI.runShell("printf 'n\\n' | script -qec \"\(command)\" /dev/null")
        #expect(r.stdout.contains("Continue? [yN]"), "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("stopped: nothing was written"))
        #expect(server.requestLog.writes.isEmpty)
    }
}
