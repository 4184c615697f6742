import Foundation
import Testing
@testable import PatternSource
import PatternCore

/// Tests against a real `git daemon` on 127.0.0.1 (ephemeral port).
@Suite(.serialized) struct RemoteSourceTests {
    /// A bare repository under `<tmp>/srv/pattern.git` with one commit, served by git daemon.
    func servedRepo(_ tmp: TempDir) throws -> (WorkRepo, GitDaemon) {
        let work = try WorkRepo(at: tmp.sub("work"), files: ["pattern.yaml": "name: demo\n"])
        try FileManager.default.createDirectory(atPath: tmp.sub("srv"), withIntermediateDirectories: true)
        try git(["clone", "-q", "--bare", work.path, tmp.sub("srv/pattern.git")], in: tmp.path)
        try git(["remote", "add", "srv", tmp.sub("srv/pattern.git")], in: work.path)
        return (work, try GitDaemon(basePath: tmp.sub("srv")))
    }

    @Test func fetchesOverGitProtocolAndUpdatesIncrementally() throws {
        let tmp = TempDir()
        let (work, daemon) = try servedRepo(tmp)
        defer { daemon.stop() }
        let resolver = SourceResolver(cache: SourceCache(directory: tmp.sub("cache")))
        let url = daemon.url("pattern.git")
        let r1 = try resolver.resolve(GitSource(url: url, ref: "main"))
        #expect(r1.commit == (try work.head()))
        #expect(r1.url == url)
        #expect(try readString(r1.tree, "pattern.yaml") == "name: demo\n")

        // A no-op fetch transfers nothing: no new pack or loose objects in the cache.
        let repoDir = try resolver.cache.repositoryPath(for: url)
        func objectFiles() throws -> [String] {
            try FileManager.default.subpathsOfDirectory(atPath: repoDir + "/objects").filter { !$0.hasSuffix("/") }.sorted()
        }
        let before = try objectFiles()
        let noop = try resolver.resolve(GitSource(url: url, ref: "main"))
        #expect(noop.commit == r1.commit)
        #expect(try objectFiles() == before)

        let c2 = try work.commit(["pattern.yaml": "name: demo2\n"], message: "two")
        try git(["push", "-q", "srv", "main"], in: work.path)
        let r2 = try resolver.resolve(GitSource(url: url, ref: "main"))
        #expect(r2.commit == c2)
        #expect(try readString(r2.tree, "pattern.yaml") == "name: demo2\n")
        // The default branch (no ref) follows the remote's HEAD.
        let r3 = try resolver.resolve(GitSource(url: url))
        #expect(r3.commit == c2)
    }

    @Test func deadPrimaryFallsBackToMirrorWithWarning() throws {
        let tmp = TempDir()
        let (work, daemon) = try servedRepo(tmp)
        defer { daemon.stop() }
        let dead = deadURL("pattern.git")
        let r = try SourceResolver(cache: SourceCache(directory: tmp.sub("cache")))
            .resolve(GitSource(url: dead, mirrors: [daemon.url("pattern.git")], ref: "main"))
        #expect(r.commit == (try work.head()))
        #expect(r.stale == false)
        #expect(r.url == daemon.url("pattern.git"))
        #expect(r.warnings.contains { $0.message.contains("source URL 1 of 2 failed") && $0.message.contains(dead) })
        #expect(r.warnings.contains { $0.message.contains("used mirror") })
    }

    @Test func allURLsDeadUsesLastGoodFromWarmCacheAndMarksStale() throws {
        let tmp = TempDir()
        let (work, daemon) = try servedRepo(tmp)
        let cache = SourceCache(directory: tmp.sub("cache"))
        let url = daemon.url("pattern.git")
        let mirror = deadURL("mirror.git")
        let fresh = try SourceResolver(cache: cache).resolve(GitSource(url: url, mirrors: [mirror], ref: "main"))
        #expect(fresh.stale == false)
        daemon.stop()

        let stale = try SourceResolver(cache: cache).resolve(GitSource(url: url, mirrors: [mirror], ref: "main"))
        #expect(stale.stale)
        #expect(stale.commit == (try work.head()))
        #expect(stale.provenance.hasSuffix("(stale)"))
        #expect(stale.warnings.contains { $0.message.contains("USING STALE SOURCE") })
        #expect(try readString(stale.tree, "pattern.yaml") == "name: demo\n")

        // Offline mode never touches the network and uses the same last-good commit.
        let offline = try SourceResolver(cache: cache, offline: true).resolve(GitSource(url: url, ref: "main"))
        #expect(offline.stale && offline.commit == stale.commit)

        // Last-good is per ref: another ref has no cached commit.
        let other = #expect(throws: SourceError.self) {
            try SourceResolver(cache: cache).resolve(GitSource(url: url, ref: "release"))
        }
        #expect(other?.kind == .noUsableSource)

        // requireFresh turns the stale fallback into an error.
        let e = #expect(throws: SourceError.self) {
            try SourceResolver(cache: cache, requireFresh: true).resolve(GitSource(url: url, mirrors: [mirror], ref: "main"))
        }
        #expect(e?.kind == .noUsableSource)
        #expect(e?.message.contains("fresh commit is required") == true)
    }

    @Test func allURLsDeadWithColdCacheIsAClearError() throws {
        let tmp = TempDir()
        let e = #expect(throws: SourceError.self) {
            try SourceResolver(cache: SourceCache(directory: tmp.sub("cache")))
                .resolve(GitSource(url: deadURL("a.git"), mirrors: [deadURL("b.git")], ref: "main"))
        }
        #expect(e?.kind == .noUsableSource)
        #expect(e?.message.contains("no cached commit") == true)
        #expect(e?.fix != nil)
    }

    @Test func credentialsNeverAppearInErrorsOrResults() throws {
        let tmp = TempDir()
        let (work, daemon) = try servedRepo(tmp)
        defer { daemon.stop() }
        let env = SourceEnvironment(["PATTERN_TEST_TOKEN": "tok-SUPERSECRET-123"])
        // Userinfo password on a dead http URL, token from env on a dead https URL,
        // then a working mirror: every message and the result must be free of secrets.
        let port = freeLoopbackPort()
        let source = GitSource(
            url: "http://alice:pw-HUNTER2-xyz@127.0.0.1:\(port)/p.git",
            mirrors: ["https://tok-URLTOKEN-999@127.0.0.1:\(port)/p.git", daemon.url("pattern.git")],
            ref: "main", credentials: GitCredentials(tokenEnv: "PATTERN_TEST_TOKEN"))
        let r = try SourceResolver(cache: SourceCache(directory: tmp.sub("cache")), environment: env).resolve(source)
        #expect(r.commit == (try work.head()))
        var texts = r.warnings.map(\.description) + [r.provenance, r.url ?? "", r.tree.displayName]
        #expect(r.warnings.count >= 2)

        // All dead: the error text, and everything written to the cache, are clean too.
        let dead = GitSource(url: "http://alice:pw-HUNTER2-xyz@127.0.0.1:\(port)/p.git",
                             mirrors: ["https://tok-URLTOKEN-999@127.0.0.1:\(port)/p.git"],
                             ref: "main", credentials: GitCredentials(tokenEnv: "PATTERN_TEST_TOKEN"))
        let stale = try SourceResolver(cache: SourceCache(directory: tmp.sub("cache")), environment: env).resolve(dead)
        #expect(stale.stale)
        texts += stale.warnings.map(\.description) + [stale.provenance, stale.url ?? "", stale.tree.displayName]
        let e = #expect(throws: SourceError.self) {
            try SourceResolver(cache: SourceCache(directory: tmp.sub("cache")), requireFresh: true, environment: env).resolve(dead)
        }
        texts.append(e?.description ?? "")
        texts.append(String(describing: e))
        #expect(e?.description.contains("http://***@127.0.0.1") == true)
        let cacheFiles = try FileManager.default.subpathsOfDirectory(atPath: tmp.sub("cache"))
        for f in cacheFiles {
            if let d = FileManager.default.contents(atPath: tmp.sub("cache") + "/" + f) {
                texts.append(String(decoding: d, as: UTF8.self))
            }
            texts.append(f)
        }
        for t in texts {
            for secret in ["pw-HUNTER2-xyz", "tok-URLTOKEN-999", "tok-SUPERSECRET-123"] {
                #expect(!t.contains(secret), "secret leaked in: \(t)")
            }
        }
    }

    @Test func missingTokenVariableIsAnError() throws {
        let tmp = TempDir()
        let e = #expect(throws: SourceError.self) {
            try SourceResolver(cache: SourceCache(directory: tmp.sub("cache")), requireFresh: true, environment: SourceEnvironment([:]))
                .resolve(GitSource(url: deadURL(), credentials: GitCredentials(tokenEnv: "PATTERN_TEST_UNSET_VAR")))
        }
        #expect(e?.kind == .authentication)
        #expect(e?.message.contains("PATTERN_TEST_UNSET_VAR") == true)
    }
}

@Suite struct CABundleTests {
    /// The CA location is a variadic process-wide libgit2 option set through the C shim;
    /// setting it and restoring the default across init/shutdown cycles must be safe.
    @Test func caBundleOptionAcrossInitCycles() throws {
        let tmp = TempDir()
        let work = try WorkRepo(at: tmp.sub("work"))
        let bundle = "/etc/ssl/certs/ca-certificates.crt"
        try #require(FileManager.default.fileExists(atPath: bundle))
        for _ in 0..<3 {
            let r = try SourceResolver(cache: SourceCache(directory: tmp.sub("cache")))
                .resolve(GitSource(url: work.path, credentials: GitCredentials(caBundle: bundle)))
            #expect(r.commit == (try work.head()))
        }
    }
}

@Suite struct SSHTests {
    @Test func sshKeyMustExistAndUnreachableSSHIsReported() throws {
        let tmp = TempDir()
        let port = freeLoopbackPort()
        let missing = #expect(throws: SourceError.self) {
            try SourceResolver(cache: SourceCache(directory: tmp.sub("cache")))
                .resolve(GitSource(url: "ssh://git@127.0.0.1:\(port)/p.git", credentials: GitCredentials(sshKey: tmp.sub("nokey"))))
        }
        #expect(missing?.kind == .authentication)
        try writeFile(tmp.sub("id_test"), "not really a key\n")
        let e = #expect(throws: SourceError.self) {
            try SourceResolver(cache: SourceCache(directory: tmp.sub("cache")))
                .resolve(GitSource(url: "git@127.0.0.1:p.git", mirrors: ["ssh://deploy:pw-SSHSECRET@127.0.0.1:\(port)/p.git"],
                                   credentials: GitCredentials(sshKey: tmp.sub("id_test"))))
        }
        #expect(e?.kind == .noUsableSource)
        #expect(e?.message.contains("git@127.0.0.1:p.git") == true)
        #expect(e?.message.contains("ssh://deploy:***@127.0.0.1") == true || e?.message.contains("ssh://deploy@127.0.0.1") == true)
        #expect(e.map { !$0.description.contains("SSHSECRET") } == true)
    }
}

@Suite struct RedactionTests {
    @Test func urlsAndSecretsAreRedacted() throws {
        let u = try GitURL("https://user:p%40ss@Git.Example.com/org/repo.git/")
        #expect(u.redacted == "https://***@git.example.com/org/repo.git/")
        #expect(u.transportURL == "https://git.example.com/org/repo.git/")
        #expect(u.normalized == "https://git.example.com/org/repo")
        #expect(u.password == "p@ss")
        let s = try GitURL("git@github.com:org/repo.git")
        #expect(s.scheme == .ssh && s.username == "git" && s.redacted == "git@github.com:org/repo.git")
        let ssh = try GitURL("ssh://deploy:pw@host/repo")
        #expect(ssh.redacted == "ssh://deploy@host/repo")
        #expect(Redactor.redactURLs(in: "failed 'https://tok@h/x' and ssh://u:p@h/y") == "failed 'https://***@h/x' and ssh://u:***@h/y")
        #expect(Redactor(secrets: ["s3cr3t"]).scrub("bad token s3cr3t here") == "bad token *** here")
        #expect(throws: SourceError.self) { try GitURL("ftp://x/y") }
    }
}
