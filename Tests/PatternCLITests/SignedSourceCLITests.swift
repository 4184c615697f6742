import Testing
import TestSupport
import PatternCore

/// A site whose pattern source requires a signed commit (`pattern.git.verify`) is never
/// rendered when libcrypto cannot be loaded to check the signature: the commit is refused with
/// the loader's reason and both fixes, not accepted and not reported as a bad signature
/// (PATTERN_LIBCRYPTO points the loader at a file that is not there, as on a host without
/// OpenSSL 3; the loader reads it once, on the process's first libcrypto call, so this runs
/// the binary rather than the command in-process).
@Suite struct SignedSourceWithoutLibcryptoCLITests {
    @Test func aVerifiedSourceIsRefusedWithTheLoaderProblemAndItsFix() throws {
        let base = TemporaryDirectories.make("pattern-signed-nocrypto")
        defer { TemporaryDirectories.remove(base) }
        let upstream = base + "/upstream", site = base + "/site", key = base + "/release"
        // An upstream pattern repository whose commit is SSH-signed (ssh-keygen, git commit -S),
        // and a site that requires that signature with the key in overlays/signed/allowed_signers.
        let git = "git -c user.email=t@example.com -c user.name=t -c gpg.format=ssh -c user.signingkey=\(key)"
        let setup = CLI.runShell("""
            set -e
            ssh-keygen -q -t ed25519 -N '' -C release@example.com -f \(key)
            mkdir -p \(upstream) \(site)/overlays/signed
            cp -r '\(CLI.repoRoot)/patterns' \(upstream)/
            cd \(upstream) && git init -q -b main && git add -A && \(git) commit -S -qm 'pattern v1'
            cp \(key).pub \(site)/overlays/signed/allowed_signers
            cat > \(site)/overlays/signed/overlay.yaml <<'YAML'
            apiVersion: pattern.dev/v1alpha1
            kind: Site
            metadata: {name: signed}
            spec:
              pattern:
                git:
                  url: "file://\(upstream)"
                  ref: main
                  path: patterns/multicloud-platform
                  verify: {sshKeysFile: allowed_signers}
              cluster: {name: s1}
              values: {clusterDomain: apps.s1.example.com}
              components: {disable: [telemetry-operator]}
            YAML
            cd \(site) && git init -q -b main && git add -A && \(git) commit -qm site
            """, cwd: base)
        try #require(setup.status == 0, "setup failed: \(setup.stderr)")
        let commit = try String(decoding: LocalTree(root: upstream).read(TreePath(".git/refs/heads/main")), as: UTF8.self)
            .split(separator: "\n").first.map(String.init) ?? ""
        #expect(commit.count == 40)

        // With libcrypto the signature verifies and the site renders: the refusal below is the loader's.
        let loaded = CLI.run(["render", "signed", "-C", site, "--cache-dir", base + "/cache"])
        #expect(loaded.status == 0, "exit \(loaded.status): \(loaded.stderr)")
        #expect(loaded.stdout.contains("pattern.dev/source-commit: \(commit)"))

        let missing = base + "/no-such-libcrypto.so.3"
        // A cache that already holds the verified commit, and an empty one (a first fetch).
        for cache in [base + "/cache", base + "/fresh-cache"] {
            let r = CLI.run(["render", "signed", "-C", site, "--cache-dir", cache], env: ["PATTERN_LIBCRYPTO": missing])
            #expect(r.status == 1, "exit \(r.status): \(r.stderr)")
            #expect(r.stdout.isEmpty, "rendered although the signature was not checked: \(r.stdout.prefix(200))")
            // At the overlay's pattern source, naming the commit, the loader's reason and both fixes.
            #expect(r.stderr.hasPrefix("overlays/signed/overlay.yaml:"), "\(r.stderr)")
            #expect(r.stderr.contains("cannot check the signature of commit \(commit) from file://\(upstream)"), "\(r.stderr)")
            #expect(r.stderr.contains("cannot load \(missing)"), "\(r.stderr)")
            #expect(r.stderr.contains("install OpenSSL 3's libcrypto"), "\(r.stderr)")
            #expect(r.stderr.contains("or set PATTERN_LIBCRYPTO to the path of libcrypto.so.3"), "\(r.stderr)")
            #expect(r.stderr.contains("the commit is not deployed until its signature can be checked; make libcrypto loadable"), "\(r.stderr)")
            #expect(!r.stderr.contains("does not verify"), "a loader problem reported as a bad signature: \(r.stderr)")
        }
    }
}
