import Testing
import TestSupport
import PatternCore
#if canImport(Glibc)
import Glibc
#endif

/// Shell completion offers site names and kubeconfig contexts, not only flags: the generated
/// scripts call `pattern ---completion <command> -- <argument> …`, answered here.
@Suite struct CompletionCLITests {
    @Test func sitesAndContextsAreCompleted() throws {
        let sites = CLI.run(["---completion", "tree", "--", "positional@0", "2", "1", "pattern", "tree", "h"])
        #expect(sites.status == 0)
        #expect(sites.stdout.split(separator: "\n") == ["hub"])
        let all = CLI.run(["---completion", "rbac", "--", "positional@0", "2", "0", "pattern", "rbac", ""])
        #expect(Set(all.stdout.split(separator: "\n")).isSuperset(of: ["dev", "hub", "edge-eu", "edge-us"]))
        #expect(!all.stdout.contains("edge\n"))   // a Group overlay is not a site

        let dir = TemporaryDirectories.make("pattern-completion")
        defer { TemporaryDirectories.remove(dir) }
        let kc = """
            apiVersion: v1
            kind: Config
            contexts:
            - {name: kind-dev, context: {cluster: c, user: u}}
            - {name: prod-eu, context: {cluster: c, user: u}}
            clusters:
            - {name: c, cluster: {server: "https://127.0.0.1:1"}}
            users:
            - {name: u, user: {token: x}}

            """
        let fd = open(dir + "/kc", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = kc.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        let ctx = CLI.run(["---completion", "get", "--", "--context", "4", "1", "pattern", "get", "--kubeconfig", dir + "/kc", "--context", "p"])
        #expect(ctx.stdout.split(separator: "\n") == ["prod-eu"])
    }
}
