import Testing
import TestSupport
import PatternCore
#if canImport(Glibc)
import Glibc
#endif

/// Sites whose pattern lives in another git repository, and hydration, through the real binary.
@Suite struct GitPatternCLITests {
    func sh(_ script: String) -> Int32 {
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(script), nil]
        defer { for a in argv { free(a) } }
        guard posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ) == 0 else { return -1 }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return (status >> 8) & 0xff
    }

    func tempDir() -> String { TemporaryDirectories.make("pattern-gitcli") }

    /// An upstream pattern repository (the bundled example's pattern) and a site repository
    /// whose overlay points at it by file:// URL.
    func makeRepos() -> (upstream: String, site: String, cache: String) {
        let base = tempDir()
        let upstream = base + "/upstream", site = base + "/site", cache = base + "/cache"
        let git = "git -c user.email=t@example.com -c user.name=t"
        #expect(sh("""
            set -e
            mkdir -p \(upstream) \(site)/overlays/remote
            cp -r '\(CLI.repoRoot)/patterns' \(upstream)/
            cd \(upstream) && git init -q -b main && git add -A && \(git) commit -qm 'pattern v1'
            cat > \(site)/overlays/remote/overlay.yaml <<'YAML'
            apiVersion: pattern.dev/v1alpha1
            kind: Site
            metadata: {name: remote}
            spec:
              pattern:
                git: {url: "file://\(upstream)", ref: main, path: patterns/multicloud-platform}
              cluster: {name: r1}
              values: {clusterDomain: apps.r1.example.com}
              components: {disable: [telemetry-operator]}
            YAML
            cd \(site) && git init -q -b main && git add -A && \(git) commit -qm site
            """) == 0)
        return (upstream, site, cache)
    }

    @Test func rendersAPatternFromGitWithProvenance() throws {
        let (upstream, site, cache) = makeRepos()
        let r = CLI.run(["render", "remote", "-C", site, "--cache-dir", cache])
        #expect(r.status == 0, "\(r.stderr)")
        let head = try String(decoding: LocalTree(root: upstream).read(TreePath(".git/refs/heads/main")), as: UTF8.self)
            .split(separator: "\n").first.map(String.init) ?? ""
        #expect(head.count == 40)
        #expect(r.stdout.contains("pattern.dev/source-commit: \(head)"))
        #expect(r.stdout.contains("kind: Deployment"))

        // The upstream moves on; the next render follows the branch.
        #expect(sh("cd \(upstream) && sed -i 's/replicas: 1$/replicas: 4/' patterns/multicloud-platform/pattern.yaml && git -c user.email=t@e -c user.name=t commit -qam v2") == 0)
        let r2 = CLI.run(["render", "remote", "-C", site, "--cache-dir", cache])
        #expect(r2.status == 0)
        #expect(!r2.stdout.contains("pattern.dev/source-commit: \(head)"))
        #expect(r2.stdout.contains("replicas: 4"))

        // The upstream disappears: the last good commit is used, loudly; --require-fresh refuses.
        #expect(sh("mv \(upstream) \(upstream)-gone") == 0)
        let stale = CLI.run(["render", "remote", "-C", site, "--cache-dir", cache])
        #expect(stale.status == 0, "\(stale.stderr)")
        #expect(stale.stderr.contains("stale"))
        #expect(stale.stdout.contains("replicas: 4"))
        let fresh = CLI.run(["render", "remote", "-C", site, "--cache-dir", cache, "--require-fresh"])
        #expect(fresh.status == 1)
        #expect(fresh.stdout.isEmpty)
    }

    @Test func gitPatternWithoutReachableURLOrCacheIsAClearError() {
        let (upstream, site, cache) = makeRepos()
        #expect(sh("rm -rf \(upstream)") == 0)
        let r = CLI.run(["render", "remote", "-C", site, "--cache-dir", cache])
        #expect(r.status == 1)
        #expect(r.stderr.contains("overlays/remote/overlay.yaml"))
        #expect(r.stdout.isEmpty)
    }

    @Test func hydrationCommitsOnceAndThenNothing() {
        let (_, site, cache) = makeRepos()
        let first = CLI.run(["render", "--all", "-C", site, "--cache-dir", cache, "--commit-to", "rendered"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("committed"))
        let second = CLI.run(["render", "--all", "-C", site, "--cache-dir", cache, "--commit-to", "rendered"])
        #expect(second.status == 0)
        #expect(second.stderr.contains("nothing committed"))
        #expect(sh("cd \(site) && test $(git rev-list --count rendered) -eq 1 && git show rendered:remote/hello-world/deployment.apps-hello-world.yaml | grep -q 'name: hello-world'") == 0)
    }
}
