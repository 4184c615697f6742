import Foundation
import Testing
@testable import PatternSource
import PatternCore
#if canImport(Glibc)
import Glibc
#endif

/// Runs `exe` with `args` and a fixed environment; returns standard output.
@discardableResult
func run(_ exe: String, _ args: [String], in dir: String, input: String? = nil) throws -> String {
    let o = try runTool(exe, args, environment: ["PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C", "HOME": dir],
                        in: dir, input: Array((input ?? "").utf8))
    guard o.succeeded else {
        throw CommandFailed(description: "\(exe) \(args.joined(separator: " ")) failed: \(String(decoding: o.stderr, as: UTF8.self))")
    }
    return String(decoding: o.stdout, as: UTF8.self)
}

/// A signing identity made in the test: an SSH key (`ssh-keygen`) or an OpenPGP key (`gpg`).
struct Signer {
    /// `git -c` settings that make `git commit -S` sign with this key.
    var gitConfig: [String]
    /// What goes in `CommitVerification`.
    var verification: CommitVerification
    /// The fingerprint pattern prints for it.
    var fingerprint: String

    static func ssh(_ type: String, bits: String? = nil, in dir: String, name: String) throws -> Signer {
        let key = dir + "/" + name
        try run("/usr/bin/ssh-keygen", ["-q", "-t", type] + (bits.map { ["-b", $0] } ?? []) + ["-N", "", "-C", name, "-f", key], in: dir)
        let pub = try readText(key + ".pub")
        let fp = try run("/usr/bin/ssh-keygen", ["-l", "-E", "sha256", "-f", key + ".pub"], in: dir).split(separator: " ")[1]
        return Signer(gitConfig: ["-c", "gpg.format=ssh", "-c", "user.signingkey=\(key)"],
                      verification: CommitVerification(sshKeys: [pub]), fingerprint: String(fp))
    }

    /// `algo`: `ed25519` or `rsa2048`. The key lives in its own GnuPG home; git signs through
    /// a wrapper that points gpg at it.
    static func gpg(_ algo: String, in dir: String, name: String) throws -> Signer {
        let home = dir + "/" + name + "-gnupg"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let gpg = ["--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
        try run("/usr/bin/gpg", gpg + ["--quick-gen-key", "\(name) <\(name)@example.com>", algo, "sign", "1d"], in: dir)
        let listing = try run("/usr/bin/gpg", ["--homedir", home, "--batch", "--with-colons", "--list-keys"], in: dir)
        let fpr = try #require(listing.split(separator: "\n").first { $0.hasPrefix("fpr:") }?.split(separator: ":", omittingEmptySubsequences: false)[9])
        let armored = try run("/usr/bin/gpg", ["--homedir", home, "--batch", "--armor", "--export", String(fpr)], in: dir)
        let wrapper = dir + "/" + name + "-gpg.sh"
        try writeFile(wrapper, "#!/bin/sh\nexec /usr/bin/gpg \(gpg.map { "'\($0)'" }.joined(separator: " ")) \"$@\"\n")
        chmod(wrapper, 0o755)
        return Signer(gitConfig: ["-c", "gpg.program=\(wrapper)", "-c", "user.signingkey=\(fpr)"],
                      verification: CommitVerification(gpgKeys: [armored]), fingerprint: String(fpr))
    }

    /// Stops the gpg-agent a GnuPG home started.
    static func stopAgents(in dir: String) {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where entry.hasSuffix("-gnupg") {
            _ = try? run("/usr/bin/gpgconf", ["--homedir", dir + "/" + entry, "--kill", "all"], in: dir)
        }
    }
}

extension WorkRepo {
    /// A commit signed by `signer` (nil: unsigned).
    @discardableResult
    func commit(_ files: [String: String], message: String, signedBy signer: Signer?) throws -> String {
        for (p, t) in files { try writeFile(path + "/" + p, t) }
        try git(["add", "-A"], in: path)
        try git((signer?.gitConfig ?? []) + ["commit", "-q"] + (signer == nil ? [] : ["-S"]) + ["-m", message], in: path)
        return try head()
    }
}

/// Issue 12: a source can require that its commit is signed by an allowed key (as Flux's
/// `verify`). Real keys from ssh-keygen and gpg, commits signed by git, served by git daemon.
@Suite(.serialized) struct SignatureTests {
    /// A work repository served over git:// from a bare copy that `publish` updates.
    final class Served {
        let tmp = TempDir()
        let work: WorkRepo
        let daemon: GitDaemon
        var url: String { daemon.url("p.git") }
        init() throws {
            work = try WorkRepo(at: tmp.sub("work"), files: ["p.yaml": "x: 1\n"])
            try FileManager.default.createDirectory(atPath: tmp.sub("srv"), withIntermediateDirectories: true)
            try git(["clone", "-q", "--bare", work.path, tmp.sub("srv/p.git")], in: tmp.path)
            daemon = try GitDaemon(basePath: tmp.sub("srv"))
        }
        func publish() throws { try git(["push", "-q", "-f", tmp.sub("srv/p.git"), "main"], in: work.path) }
        func resolver() -> SourceResolver { SourceResolver(cache: SourceCache(directory: tmp.sub("cache")), requireFresh: true) }
        func cachedMain() throws -> String {
            try git(["rev-parse", "refs/heads/main"], in: try SourceCache(directory: tmp.sub("cache")).repositoryPath(for: url))
        }
        deinit { daemon.stop(); Signer.stopAgents(in: tmp.path) }
    }

    @Test func sshSignedCommitsVerifyAndEverythingElseIsRefused() throws {
        let s = try Served()
        let ed = try Signer.ssh("ed25519", in: s.tmp.path, name: "ed")
        let other = try Signer.ssh("ed25519", in: s.tmp.path, name: "other")
        let good = try s.work.commit(["p.yaml": "x: 2\n"], message: "signed", signedBy: ed)
        try s.publish()

        let r = try s.resolver().resolve(GitSource(url: s.url, ref: "main", verify: ed.verification))
        #expect(r.commit == good)

        // Signed, but by a key that is not allowed: names the commit and the key seen.
        var e = #expect(throws: SourceError.self) {
            try s.resolver().resolve(GitSource(url: s.url, ref: "main", verify: other.verification))
        }
        #expect(e?.kind == .untrustedCommit)
        #expect(e?.message.contains(good) == true && e?.message.contains(ed.fingerprint) == true, "\(String(describing: e))")
        #expect(e?.fix != nil)

        // An unsigned commit on top: refused, and the cache's branch stays at the signed one.
        let unsigned = try s.work.commit(["p.yaml": "x: 3\n"], message: "unsigned", signedBy: nil)
        try s.publish()
        e = #expect(throws: SourceError.self) {
            try s.resolver().resolve(GitSource(url: s.url, ref: "main", verify: ed.verification))
        }
        #expect(e?.kind == .untrustedCommit)
        #expect(e?.message.contains("\(unsigned) from") == true && e?.message.contains("is not signed") == true, "\(String(describing: e))")
        #expect(try s.cachedMain() == good, "a refused commit must not move the cache")

        // Tampered: the signed commit's content changed after signing (same signature header).
        try git(["reset", "-q", "--hard", good], in: s.work.path)
        let raw = try git(["cat-file", "commit", good], in: s.work.path) + "\n"
        let forged = raw.replacingOccurrences(of: "\nsigned\n", with: "\nsigned (and quietly changed)\n")
        #expect(forged != raw)
        let forgedId = try run("/usr/bin/git", ["hash-object", "-t", "commit", "-w", "--stdin"], in: s.work.path, input: forged)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try git(["update-ref", "refs/heads/main", forgedId], in: s.work.path)
        try s.publish()
        e = #expect(throws: SourceError.self) {
            try SourceResolver(cache: SourceCache(directory: s.tmp.sub("cache2")), requireFresh: true)
                .resolve(GitSource(url: s.url, ref: "main", verify: ed.verification))
        }
        #expect(e?.kind == .untrustedCommit)
        #expect(e?.message.contains("does not verify") == true && e?.message.contains(forgedId) == true && e?.message.contains(ed.fingerprint) == true,
                "\(String(describing: e))")

        // Without `verify`, the same source is fine (the requirement is opt-in).
        #expect(try SourceResolver(cache: SourceCache(directory: s.tmp.sub("cache3"))).resolve(GitSource(url: s.url, ref: "main")).commit == forgedId)
    }

    @Test func ecdsaAndRSASSHKeysVerify() throws {
        let s = try Served()
        let ec = try Signer.ssh("ecdsa", bits: "256", in: s.tmp.path, name: "ec")
        let rsa = try Signer.ssh("rsa", bits: "2048", in: s.tmp.path, name: "rsa")
        let both = CommitVerification(sshKeys: ec.verification.sshKeys + rsa.verification.sshKeys)
        let c1 = try s.work.commit(["p.yaml": "x: 2\n"], message: "ecdsa", signedBy: ec)
        try s.publish()
        #expect(try s.resolver().resolve(GitSource(url: s.url, ref: "main", verify: both)).commit == c1)
        let c2 = try s.work.commit(["p.yaml": "x: 3\n"], message: "rsa", signedBy: rsa)
        try s.publish()
        #expect(try s.resolver().resolve(GitSource(url: s.url, ref: "main", verify: both)).commit == c2)
        // The RSA signature does not verify under the ECDSA key alone.
        let e = #expect(throws: SourceError.self) {
            try SourceResolver(cache: SourceCache(directory: s.tmp.sub("c-ec")), requireFresh: true)
                .resolve(GitSource(url: s.url, ref: "main", verify: ec.verification))
        }
        #expect(e?.message.contains(rsa.fingerprint) == true, "\(String(describing: e))")
    }

    @Test func gpgSignedCommitsVerifyWithEd25519AndRSAKeys() throws {
        let s = try Served()
        let ed = try Signer.gpg("ed25519", in: s.tmp.path, name: "edpgp")
        let rsa = try Signer.gpg("rsa2048", in: s.tmp.path, name: "rsapgp")
        let c1 = try s.work.commit(["p.yaml": "x: 2\n"], message: "gpg ed25519", signedBy: ed)
        try s.publish()
        #expect(try s.resolver().resolve(GitSource(url: s.url, ref: "main", verify: ed.verification)).commit == c1)

        // Signed by the RSA key, only the Ed25519 key allowed: refused, naming the RSA fingerprint.
        let c2 = try s.work.commit(["p.yaml": "x: 3\n"], message: "gpg rsa", signedBy: rsa)
        try s.publish()
        let e = #expect(throws: SourceError.self) {
            try s.resolver().resolve(GitSource(url: s.url, ref: "main", verify: ed.verification))
        }
        #expect(e?.kind == .untrustedCommit)
        #expect(e?.message.contains(c2) == true && e?.message.contains(rsa.fingerprint) == true, "\(String(describing: e))")
        #expect(try s.cachedMain() == c1)
        let both = CommitVerification(gpgKeys: ed.verification.gpgKeys + rsa.verification.gpgKeys)
        #expect(try s.resolver().resolve(GitSource(url: s.url, ref: "main", verify: both)).commit == c2)

        // Tampered OpenPGP-signed commit.
        let raw = try git(["cat-file", "commit", c2], in: s.work.path) + "\n"
        let forged = raw.replacingOccurrences(of: "\ngpg rsa\n", with: "\ngpg rsa, edited\n")
        let forgedId = try run("/usr/bin/git", ["hash-object", "-t", "commit", "-w", "--stdin"], in: s.work.path, input: forged)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try git(["update-ref", "refs/heads/main", forgedId], in: s.work.path)
        try s.publish()
        let t = #expect(throws: SourceError.self) {
            try SourceResolver(cache: SourceCache(directory: s.tmp.sub("c-t")), requireFresh: true)
                .resolve(GitSource(url: s.url, ref: "main", verify: both))
        }
        #expect(t?.message.contains("does not verify") == true && t?.message.contains(rsa.fingerprint) == true, "\(String(describing: t))")
    }

    @Test func pinnedAndOfflineCommitsAreVerifiedToo() throws {
        let s = try Served()
        let ed = try Signer.ssh("ed25519", in: s.tmp.path, name: "ed")
        let unsigned = try s.work.head()
        try s.publish()
        // Cached without verification, then required: the pinned (no network) path checks too.
        _ = try s.resolver().resolve(GitSource(url: s.url, ref: "main"))
        let e = #expect(throws: SourceError.self) {
            try SourceResolver(cache: SourceCache(directory: s.tmp.sub("cache")), offline: true)
                .resolve(GitSource(url: s.url, ref: unsigned, verify: ed.verification))
        }
        #expect(e?.kind == .untrustedCommit)
        let stale = #expect(throws: SourceError.self) {
            try SourceResolver(cache: SourceCache(directory: s.tmp.sub("cache")), offline: true)
                .resolve(GitSource(url: s.url, ref: "main", verify: ed.verification))
        }
        #expect(stale?.kind == .untrustedCommit)
    }

    @Test func verifyConfigIsTypeCheckedAndKeysMustParse() throws {
        let tmp = TempDir()
        #expect(throws: SourceError.self) { try CommitVerification(value: ["sshKeys": "ssh-ed25519 AAAA"]) }
        #expect(throws: SourceError.self) { try CommitVerification(value: ["sshKeys": ["not a key"]]) }
        #expect(throws: SourceError.self) { try CommitVerification(value: ["gpgKeys": ["-----BEGIN PGP PUBLIC KEY BLOCK-----\n!!!\n-----END PGP PUBLIC KEY BLOCK-----"]]) }
        #expect(throws: SourceError.self) { try CommitVerification(value: ["sshKey": ["x"]]) }
        #expect(throws: SourceError.self) { try CommitVerification(value: .object(Object())) }
        let ed = try Signer.ssh("ed25519", in: tmp.path, name: "ed")
        try writeFile(tmp.sub("keys/allowed"), "# release signers\n" + ed.verification.sshKeys[0])
        let v = try CommitVerification(value: ["sshKeysFile": "keys/allowed"], baseDirectory: tmp.path)
        #expect(try v.keys().map(\.fingerprint) == [ed.fingerprint])
    }
}
