import Testing
import TestSupport
import PatternCore

/// libgit2 is opened with dlopen on the first libgit2 call (CGit2/load.c), as libcurl is: commands
/// that never touch a git repository do not load it and its ~13 shared libraries at start, and a
/// host without it gets a typed error with a fix instead of a loader failure before `main`.
@Suite struct LibgitStartupCLITests {
    @Test func versionAndALocalRenderDoNotLoadLibgit2() {
        // LD_DEBUG=files makes the dynamic loader name every library it opens on stderr.
        let v = CLI.run(["version"], env: ["LD_DEBUG": "files"])
        #expect(v.status == 0)
        #expect(v.stderr.contains("libyaml"), "the loader trace is there (libyaml is linked)")
        #expect(!v.stderr.contains("libgit2.so"), "libgit2 was loaded at start")
        let r = CLI.run(["render", "Tests/Fixtures/kustomize/labels"], env: ["LD_DEBUG": "files"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("kind: "))
        #expect(!r.stderr.contains("libgit2.so"), "libgit2 was loaded for a local render")
    }

    @Test func aGitCommandLoadsLibgit2OnFirstUse() throws {
        let dir = TemporaryDirectory("libgit-lazy")
        defer { dir.remove() }
        let repo = try Self.repository(in: dir.path)
        let r = CLI.run(["source", "fetch", repo, "--cache-dir", dir.path + "/cache"], env: ["LD_DEBUG": "files"])
        #expect(r.status == 0, "\(r.stderr.suffix(2000))")
        #expect(r.stderr.contains("libgit2.so"), "the fetch ran without loading libgit2?")
        #expect(r.stdout.contains(try git(["rev-parse", "HEAD"], in: repo)))
    }

    @Test func aMissingLibgit2IsATypedErrorWithAFix() throws {
        let dir = TemporaryDirectory("libgit-missing")
        defer { dir.remove() }
        let repo = try Self.repository(in: dir.path)
        let r = CLI.run(["source", "fetch", repo, "--cache-dir", dir.path + "/cache"],
                        env: ["PATTERN_LIBGIT2": dir.path + "/no-such-libgit2.so"])
        // A crash ends the shell's child by signal (status > 128) and leaves no message.
        #expect(r.status == 1, "exit \(r.status): \(r.stderr)")
        #expect(r.stderr.contains("cannot load \(dir.path)/no-such-libgit2.so"), "\(r.stderr)")
        #expect(r.stderr.contains("fix: install libgit2"), "\(r.stderr)")
    }

    /// A one-commit repository in `dir`/upstream.
    static func repository(in dir: String) throws -> String {
        let upstream = dir + "/upstream"
        try FileSystem.makeDirectories(upstream)
        try git(["init", "-q", "-b", "main"], in: upstream)
        try FileSystem.write(upstream + "/README.md", Array("hello\n".utf8))
        try git(["add", "."], in: upstream)
        try git(["commit", "-q", "-m", "first"], in: upstream)
        return upstream
    }
}
