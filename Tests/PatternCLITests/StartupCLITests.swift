import Testing
import Glibc
import TestSupport
import PatternCore

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

    /// The binary links FoundationEssentials only: Foundation would bring ICU's data and
    /// thousands of conformance records the runtime scans on first casts (see
    /// Docs/benchmarks.md). A debug build loads the libraries it links, so the loader shows it.
    @Test func theBinaryDoesNotLoadFoundationOrICU() {
        let r = CLI.run(["version"], env: ["LD_DEBUG": "files"])
        #expect(r.status == 0)
        #expect(r.stderr.contains("libyaml"), "the loader trace is there (libyaml is linked)")
        for library in ["libFoundation.so", "libFoundationInternationalization", "lib_FoundationICU", "libicu"] {
            #expect(!r.stderr.contains(library), "\(library) was loaded")
        }
    }

    /// Content hashes (generator name suffixes here) come from swift-crypto, compiled in:
    /// libcrypto (OpenSSL, 4.7 MB and 21,000 relocations, about 2 ms of every start) is opened
    /// only for signature checks and Sprig's key functions.
    @Test func aRenderThatHashesDoesNotLoadLibcrypto() {
        let r = CLI.run(["render", "Tests/Fixtures/kustomize/generators/overlay"], env: ["LD_DEBUG": "files"])
        #expect(r.status == 0, "\(r.stderr.suffix(400))")
        #expect(r.stdout.contains("kind: ConfigMap"))
        #expect(r.stderr.contains("libyaml"), "the loader trace is there (libyaml is linked)")
        #expect(!r.stderr.contains("libcrypto.so"), "libcrypto was loaded for a render")
        #expect(!r.stderr.contains("libcrypt.so"), "libcrypt was loaded for a render")
    }

    @Test func renderOfALocalDirectoryDoesNotLoadLibcurl() {
        let r = CLI.run(["render", "Tests/Fixtures/kustomize/labels"], env: ["LD_DEBUG": "files"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("kind: "))
        #expect(!r.stderr.contains("libcurl.so"), "libcurl was loaded for a local render")
    }
}

/// A missing libcrypto fails the one template function that needs it, with the loader's reason
/// and a fix, and nothing is printed; it is never a crash (PATTERN_LIBCRYPTO points at a file
/// that is not there, as on a host without OpenSSL 3).
@Suite struct MissingLibcryptoCLITests {
    @Test func aTemplateThatMakesAKeyNamesTheMissingLibrary() throws {
        let dir = TemporaryDirectories.make("pattern-nocrypto")
        defer { TemporaryDirectories.remove(dir) }
        try FileSystem.write(dir + "/Chart.yaml", Array("apiVersion: v2\nname: keys\nversion: 0.1.0\n".utf8))
        mkdir(dir + "/templates", 0o755)
        try FileSystem.write(dir + "/templates/secret.yaml", Array("""
        apiVersion: v1
        kind: Secret
        metadata: {name: k}
        stringData:
          key: {{ genPrivateKey "ecdsa" | quote }}

        """.utf8))
        let loaded = CLI.run(["render", dir, "--allow-nondeterministic"])
        #expect(loaded.status == 0, "\(loaded.stderr)")
        #expect(loaded.stdout.contains("BEGIN EC PRIVATE KEY"))
        let missing = CLI.run(["render", dir, "--allow-nondeterministic"], env: ["PATTERN_LIBCRYPTO": dir + "/no-such-libcrypto.so.3"])
        #expect(missing.status == 1, "exit \(missing.status): \(missing.stderr)")
        #expect(missing.stdout.isEmpty)
        #expect(missing.stderr.contains("cannot load \(dir)/no-such-libcrypto.so.3"), "\(missing.stderr)")
        #expect(missing.stderr.contains("fix: install OpenSSL 3's libcrypto"), "\(missing.stderr)")
        #expect(missing.stderr.contains("or set PATTERN_LIBCRYPTO to the path of libcrypto.so.3\n"), "the message is whole: \(missing.stderr)")
    }
}

/// A missing or unloadable libcurl is a typed error with a fix, never a crash: the transport
/// refuses each request with the loader's reason (PATTERN_LIBCURL points it at a file that is
/// not there, as on a host without libcurl4).
@Suite struct MissingLibcurlCLITests {
    @Test func clusterCommandReportsAMissingLibcurlInsteadOfCrashing() throws {
        let dir = TemporaryDirectories.make("pattern-nocurl")
        defer { TemporaryDirectories.remove(dir) }
        let kubeconfig = """
        apiVersion: v1
        kind: Config
        clusters: [{name: c, cluster: {server: "https://127.0.0.1:9"}}]
        users: [{name: u, user: {token: not-a-secret}}]
        contexts: [{name: test, context: {cluster: c, user: u}}]
        current-context: test
        """
        try FileSystem.write(dir + "/config", Array(kubeconfig.utf8), mode: 0o600)
        let r = CLI.run(["diff", "dev", "--kubeconfig", dir + "/config", "--context", "test", "--allow-other-context"],
                        env: ["PATTERN_LIBCURL": dir + "/no-such-libcurl.so.4"])
        // A crash (precondition) ends the shell's child by signal and leaves no message.
        #expect(r.status == 2 || r.status == 3, "exit \(r.status): \(r.stderr)")
        #expect(r.stderr.contains("cannot load \(dir)/no-such-libcurl.so.4"), "\(r.stderr)")
        #expect(r.stderr.contains("install libcurl4"), "\(r.stderr)")
        #expect(!r.stderr.contains("not-a-secret"))
    }
}
