import Foundation
import Testing
@testable import PatternSource
import PatternCore
#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP server that accepts connections (the kernel completes the handshake from
/// the listen backlog) and never sends a byte: a mirror that hangs.
final class SilentServer {
    let fd: Int32
    let port: UInt16
    init() {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) } }
        listen(s, 16)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) } }
        fd = s
        port = UInt16(bigEndian: addr.sin_port)
    }
    deinit { close(fd) }
}

/// Issue 12, sources: rewritten history, moved tags, lagging and silent mirrors, refs that
/// are gone, local paths, CA bundles.
@Suite struct SourceTrustTests {
    /// A work repository with two commits on main and tag v1 on the first; a bare copy
    /// served by git daemon as the mirror.
    func setUp(_ tmp: TempDir) throws -> (work: WorkRepo, first: String, second: String, daemon: GitDaemon) {
        let work = try WorkRepo(at: tmp.sub("work"), files: ["p/a.yaml": "a: 1\n"])
        let first = try work.head()
        try git(["tag", "v1"], in: work.path)
        let second = try work.commit(["p/a.yaml": "a: 2\n"], message: "second")
        try FileManager.default.createDirectory(atPath: tmp.sub("srv"), withIntermediateDirectories: true)
        try git(["clone", "-q", "--bare", work.path, tmp.sub("srv/mirror.git")], in: tmp.path)
        return (work, first, second, try GitDaemon(basePath: tmp.sub("srv")))
    }

    /// Rewrites main in the mirror: a commit on top of `first` that is not `second`.
    func rewriteMirror(_ tmp: TempDir, first: String, moveTag: Bool = false) throws -> String {
        try git(["clone", "-q", tmp.sub("srv/mirror.git"), tmp.sub("evil")], in: tmp.path)
        try git(["reset", "-q", "--hard", first], in: tmp.sub("evil"))
        try writeFile(tmp.sub("evil/p/a.yaml"), "a: evil\n")
        try git(["commit", "-qam", "tampered"], in: tmp.sub("evil"))
        let evil = try git(["rev-parse", "HEAD"], in: tmp.sub("evil"))
        try git(["push", "-q", "--force", "origin", "HEAD:main"], in: tmp.sub("evil"))
        if moveTag {
            try git(["tag", "-f", "v1"], in: tmp.sub("evil"))
            try git(["push", "-q", "--force", "origin", "v1"], in: tmp.sub("evil"))
        }
        return evil
    }

    func cacheRef(_ cache: SourceCache, _ url: String, _ ref: String) throws -> String {
        try git(["rev-parse", ref], in: try cache.repositoryPath(for: url))
    }

    @Test func aMirrorServingRewrittenHistoryIsRefusedAndTheCacheIsUntouched() throws {
        let tmp = TempDir()
        let (work, first, second, daemon) = try setUp(tmp)
        let cache = SourceCache(directory: tmp.sub("cache"))
        let resolver = SourceResolver(cache: cache)
        let primary = "file://" + work.path
        let ok = try resolver.resolve(GitSource(url: primary, mirrors: [daemon.url("mirror.git")], ref: "main"))
        #expect(ok.commit == second)

        let evil = try rewriteMirror(tmp, first: first)
        // The primary is down; the mirror lies.
        try FileManager.default.moveItem(atPath: work.path, toPath: tmp.sub("work-gone"))
        let e = #expect(throws: SourceError.self) {
            try resolver.resolve(GitSource(url: primary, mirrors: [daemon.url("mirror.git")], ref: "main"))
        }
        #expect(e?.kind == .historyRewritten)
        #expect(e?.message.contains(daemon.url("mirror.git")) == true, "names the URL that lied: \(e?.message ?? "")")
        #expect(e?.message.contains(evil) == true)
        #expect(e?.fix?.contains("allowForcePush") == true)
        // Cache refs and the last-good pointer are as they were.
        #expect(try cacheRef(cache, primary, "refs/heads/main") == second)
        let refs = try git(["for-each-ref", "--format=%(objectname) %(refname)"], in: try cache.repositoryPath(for: primary))
        #expect(!refs.contains(evil), "\(refs)")
        #expect(!refs.contains("refs/pattern/incoming"))
        // A render now falls back to nothing silently: the same error again, every time.
        #expect(throws: SourceError.self) { try resolver.resolve(GitSource(url: primary, mirrors: [daemon.url("mirror.git")], ref: "main")) }

        // A deliberate force-push is accepted when the site allows it.
        let forced = try resolver.resolve(GitSource(url: primary, mirrors: [daemon.url("mirror.git")], ref: "main", allowForcePush: true))
        #expect(forced.commit == evil)
    }

    @Test func aMovedTagIsRefused() throws {
        let tmp = TempDir()
        let (work, first, _, daemon) = try setUp(tmp)
        let cache = SourceCache(directory: tmp.sub("cache"))
        let resolver = SourceResolver(cache: cache)
        let url = daemon.url("mirror.git")
        #expect(try resolver.resolve(GitSource(url: url, ref: "v1")).commit == first)
        _ = work
        let evil = try rewriteMirror(tmp, first: first, moveTag: true)
        let e = #expect(throws: SourceError.self) { try resolver.resolve(GitSource(url: url, ref: "v1")) }
        #expect(e?.kind == .historyRewritten)
        #expect(e?.message.contains("moved tag 'v1'") == true, "\(e?.message ?? "")")
        #expect(try cacheRef(cache, url, "refs/tags/v1") == first)
        #expect(!(try git(["for-each-ref"], in: try cache.repositoryPath(for: url))).contains(evil))
    }

    @Test func aMirrorThatIsBehindIsNotUsedToGoBackwards() throws {
        let tmp = TempDir()
        let (work, _, _, daemon) = try setUp(tmp)
        let cache = SourceCache(directory: tmp.sub("cache"))
        let resolver = SourceResolver(cache: cache)
        let primary = "file://" + work.path
        let third = try work.commit(["p/a.yaml": "a: 3\n"], message: "third")  // the mirror does not have it
        #expect(try resolver.resolve(GitSource(url: primary, mirrors: [daemon.url("mirror.git")], ref: "main")).commit == third)
        try FileManager.default.moveItem(atPath: work.path, toPath: tmp.sub("work-gone"))
        let r = try resolver.resolve(GitSource(url: primary, mirrors: [daemon.url("mirror.git")], ref: "main"))
        #expect(r.commit == third)
        #expect(r.stale)
        #expect(r.warnings.contains { $0.message.contains("ancestor of the last good commit") })
    }

    @Test func aSilentMirrorTimesOutAndTheNextURLIsUsed() throws {
        let tmp = TempDir()
        let (_, _, second, daemon) = try setUp(tmp)
        let silent = SilentServer()
        let resolver = SourceResolver(cache: SourceCache(directory: tmp.sub("cache")),
                                      deadlines: NetworkDeadlines(connectTimeout: 2, lowSpeedTime: 1))
        let r = try resolver.resolve(GitSource(url: "git://127.0.0.1:\(silent.port)/mirror.git",
                                               mirrors: ["http://127.0.0.1:\(silent.port)/mirror.git", daemon.url("mirror.git")],
                                               ref: "main"))
        #expect(r.commit == second)
        #expect(!r.stale)
        let failed = r.warnings.filter { $0.message.contains("failed") && $0.message.contains("127.0.0.1:\(silent.port)") }
        #expect(failed.count == 2, "\(r.warnings)")
        #expect(failed.allSatisfy { $0.message.contains("deadline") }, "\(failed)")
    }

    @Test func aRefThatIsGoneIsAnErrorNotAStaleFallback() throws {
        let tmp = TempDir()
        let (work, _, _, _) = try setUp(tmp)
        let resolver = SourceResolver(cache: SourceCache(directory: tmp.sub("cache")))
        try git(["checkout", "-q", "-b", "feature"], in: work.path)
        _ = try resolver.resolve(GitSource(url: work.path, ref: "feature"))
        try git(["checkout", "-q", "main"], in: work.path)
        try git(["branch", "-q", "-D", "feature"], in: work.path)
        let e = #expect(throws: SourceError.self) { try resolver.resolve(GitSource(url: work.path, ref: "feature")) }
        #expect(e?.kind == .refNotFound)
        #expect(e?.message.contains("does not exist") == true)
    }

    @Test func aMissingLocalPathSaysSo() throws {
        let tmp = TempDir()
        let r = try? SourceResolver(cache: SourceCache(directory: tmp.sub("cache"))).resolve(GitSource(url: tmp.sub("nope"), mirrors: [tmp.sub("nope2")]))
        #expect(r == nil)
        let e = #expect(throws: SourceError.self) {
            try SourceResolver(cache: SourceCache(directory: tmp.sub("cache")), requireFresh: true).resolve(GitSource(url: tmp.sub("nope")))
        }
        #expect(e?.message.contains("local repository '\(tmp.sub("nope"))' does not exist") == true, "\(e?.message ?? "")")
        #expect(e?.message.contains("unsupported URL protocol") == false)
    }

    @Test func aMissingOrNonPEMCABundleIsAnError() throws {
        let tmp = TempDir()
        let work = try WorkRepo(at: tmp.sub("work"))
        try writeFile(tmp.sub("bad.pem"), "not a certificate\n")
        for bundle in [tmp.sub("missing.pem"), tmp.sub("bad.pem")] {
            let e = #expect(throws: SourceError.self) {
                try SourceResolver(cache: SourceCache(directory: tmp.sub("cache")), requireFresh: true)
                    .resolve(GitSource(url: work.path, credentials: GitCredentials(caBundle: bundle)))
            }
            #expect(e?.message.contains("cannot read CA bundle '\(bundle)'") == true, "\(e?.message ?? "")")
        }
    }
}
