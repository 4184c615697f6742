import Testing
import TestSupport

/// Process start: commands that make no HTTP request do not load libcurl and its ~33 shared
/// libraries (CCurl opens libcurl.so.4 with dlopen on the first libcurl call).
@Suite struct StartupCLITests {
    @Test func versionDoesNotLoadLibcurl() {
        // LD_DEBUG=files makes the dynamic loader name every library it opens on stderr.
        let r = CLI.run(["version"], env: ["LD_DEBUG": "files"])
        #expect(r.status == 0)
        #expect(r.stdout.hasPrefix("pattern "))
        #expect(r.stderr.contains("libyaml"), "the loader trace is there (libyaml is linked)")
        #expect(!r.stderr.contains("libcurl.so"), "libcurl was loaded at start")
    }

    @Test func renderOfALocalDirectoryDoesNotLoadLibcurl() {
        let r = CLI.run(["render", "Tests/Fixtures/kustomize/labels"], env: ["LD_DEBUG": "files"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("kind: "))
        #expect(!r.stderr.contains("libcurl.so"), "libcurl was loaded for a local render")
    }
}
