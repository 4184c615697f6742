import Foundation
import Testing
@testable import PatternSource
import PatternCore
import KubeTestServer
import TestSupport

@Suite(.serialized) struct ChartRepositoryTests {
    @Test func constraintsPickTheHighestMatchingVersionAndTheArchiveIsCachedByDigest() throws {
        let tmp = TempDir()
        let repo = try ChartRepoServer()
        var entries: [(String, String, String?)] = []
        for v in ["0.9.0", "0.9.3", "0.10.0", "1.0.0-rc.1"] {
            let tgz = try chartArchive(tmp, name: "web", version: v)
            repo.put("/charts/web-\(v).tgz", tgz)
            // One absolute URL, the rest relative to the index.
            entries.append((v, v == "0.10.0" ? "\(repo.url)/web-\(v).tgz" : "web-\(v).tgz", SHA256.hex(tgz)))
        }
        repo.put("/charts/index.yaml", chartIndex("web", entries))
        let resolver = ChartSourceResolver(cache: SourceCache(directory: tmp.sub("cache")), requireFresh: true)

        let r1 = try resolver.resolve(ChartReference(repo: repo.url, name: "web", version: "0.9.*"))
        #expect(r1.version == "0.9.3")
        #expect(r1.digest == "sha256:" + entries[1].2!)
        #expect(r1.archivePath.hasPrefix(tmp.sub("cache/charts/blobs/sha256/")))
        #expect(SHA256.hex([UInt8](try #require(FileManager.default.contents(atPath: r1.archivePath)))) == entries[1].2!)
        #expect(try resolver.resolve(ChartReference(repo: repo.url, name: "web")).version == "0.10.0", "no constraint: highest stable")
        #expect(try resolver.resolve(ChartReference(repo: repo.url, name: "web", version: ">=0.9 <0.10")).version == "0.9.3")
        #expect(try resolver.resolve(ChartReference(repo: repo.url, name: "web", version: "~1.0.0-0")).version == "1.0.0-rc.1")

        // Unknown chart and unsatisfiable constraint: the repository answered, no fallback.
        #expect(throws: SourceError.self) { try resolver.resolve(ChartReference(repo: repo.url, name: "nope")) }
        let e = #expect(throws: SourceError.self) { try resolver.resolve(ChartReference(repo: repo.url, name: "web", version: "^3")) }
        #expect(e?.kind == .refNotFound && e?.message.contains("available: 0.9.0") == true, "\(String(describing: e))")
    }

    @Test func aDigestMismatchIsRefusedAndNothingIsCached() throws {
        let tmp = TempDir()
        let repo = try ChartRepoServer()
        let tgz = try chartArchive(tmp, name: "web", version: "1.0.0")
        let tampered = try chartArchive(tmp, name: "web", version: "1.0.0", marker: "-evil")
        repo.put("/charts/web-1.0.0.tgz", tampered)
        repo.put("/charts/index.yaml", chartIndex("web", [("1.0.0", "web-1.0.0.tgz", SHA256.hex(tgz))]))
        let cache = SourceCache(directory: tmp.sub("cache"))
        let e = #expect(throws: SourceError.self) {
            try ChartSourceResolver(cache: cache).resolve(ChartReference(repo: repo.url, name: "web", version: "1.0.0"))
        }
        #expect(e?.kind == .integrity)
        #expect(e?.message.contains("does not match its digest") == true && e?.message.contains(SHA256.hex(tgz)) == true, "\(String(describing: e))")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: tmp.sub("cache/charts/blobs/sha256"))) ?? []).isEmpty, "nothing cached")
        // A pinned digest that the index contradicts is refused too.
        repo.put("/charts/web-1.0.0.tgz", tgz)
        let p = #expect(throws: SourceError.self) {
            try ChartSourceResolver(cache: cache).resolve(ChartReference(repo: repo.url, name: "web", version: "1.0.0", digest: "sha256:" + String(repeating: "0", count: 64)))
        }
        #expect(p?.kind == .integrity)
    }

    @Test func aRepublishedVersionIsRefusedAndThePinnedVersionNeedsNoNetwork() throws {
        let tmp = TempDir()
        let repo = try ChartRepoServer()
        let v1 = try chartArchive(tmp, name: "web", version: "1.2.0")
        repo.put("/charts/web-1.2.0.tgz", v1)
        repo.put("/charts/index.yaml", chartIndex("web", [("1.2.0", "web-1.2.0.tgz", SHA256.hex(v1))]))
        let cache = SourceCache(directory: tmp.sub("cache"))
        let first = try ChartSourceResolver(cache: cache).resolve(ChartReference(repo: repo.url, name: "web", version: "1.x"))
        #expect(first.version == "1.2.0")

        // Exact version already cached: no request at all (versions are immutable).
        let before = repo.requests.count
        let pinned = try ChartSourceResolver(cache: cache).resolve(ChartReference(repo: repo.url, name: "web", version: "1.2.0"))
        #expect(pinned.digest == first.digest && !pinned.stale)
        #expect(repo.requests.count == before)

        // The repository republishes 1.2.0 with other content: refused, cache unchanged.
        let v1b = try chartArchive(tmp, name: "web", version: "1.2.0", marker: "-again")
        repo.put("/charts/web-1.2.0.tgz", v1b)
        repo.put("/charts/index.yaml", chartIndex("web", [("1.2.0", "web-1.2.0.tgz", SHA256.hex(v1b))]))
        let e = #expect(throws: SourceError.self) {
            try ChartSourceResolver(cache: cache).resolve(ChartReference(repo: repo.url, name: "web", version: "1.x"))
        }
        #expect(e?.kind == .integrity && e?.message.contains("immutable") == true, "\(String(describing: e))")
        #expect(!FileManager.default.fileExists(atPath: tmp.sub("cache/charts/blobs/sha256/\(SHA256.hex(v1b)).tgz")))
    }

    @Test func offlineAndOutagesReplayTheLastGoodVersion() throws {
        let tmp = TempDir()
        let repo = try ChartRepoServer()
        let tgz = try chartArchive(tmp, name: "web", version: "2.0.1")
        repo.put("/charts/web-2.0.1.tgz", tgz)
        repo.put("/charts/index.yaml", chartIndex("web", [("2.0.1", "web-2.0.1.tgz", SHA256.hex(tgz))]))
        let cache = SourceCache(directory: tmp.sub("cache"))
        let ref = ChartReference(repo: repo.url, name: "web", version: "~2.0")
        let online = try ChartSourceResolver(cache: cache).resolve(ref)
        let url = repo.url
        repo.stop()

        let offline = try ChartSourceResolver(cache: cache, offline: true).resolve(ChartReference(repo: url, name: "web", version: "~2.0"))
        #expect(offline.archivePath == online.archivePath && offline.stale)
        #expect(offline.warnings.contains { $0.message.contains("USING STALE CHART: offline mode") })

        let outage = try ChartSourceResolver(cache: cache).resolve(ChartReference(repo: url, name: "web", version: "~2.0"))
        #expect(outage.stale && outage.version == "2.0.1")
        #expect(throws: SourceError.self) { try ChartSourceResolver(cache: cache, requireFresh: true).resolve(ChartReference(repo: url, name: "web", version: "~2.0")) }
        // Never seen: nothing to replay.
        let none = #expect(throws: SourceError.self) { try ChartSourceResolver(cache: cache, offline: true).resolve(ChartReference(repo: url, name: "web", version: "3.x")) }
        #expect(none?.kind == .noUsableSource)
    }

    @Test func authenticationWithBasicAndBearerCredentials() throws {
        let tmp = TempDir()
        let repo = try ChartRepoServer()
        let tgz = try chartArchive(tmp, name: "web", version: "1.0.0")
        repo.put("/charts/web-1.0.0.tgz", tgz)
        repo.put("/charts/index.yaml", chartIndex("web", [("1.0.0", "web-1.0.0.tgz", SHA256.hex(tgz))]))
        repo.basicAuth = "deploy:PW-charts-991"
        let env = SourceEnvironment(["CHART_PW": "PW-charts-991", "CHART_TOKEN": "TOKEN-charts-552"])

        let anon = #expect(throws: SourceError.self) {
            try ChartSourceResolver(cache: SourceCache(directory: tmp.sub("c0")), requireFresh: true, environment: env)
                .resolve(ChartReference(repo: repo.url, name: "web"))
        }
        #expect(anon?.message.contains("401") == true, "\(String(describing: anon))")

        let basic = ChartCredentials(username: "deploy", passwordEnv: "CHART_PW")
        let r = try ChartSourceResolver(cache: SourceCache(directory: tmp.sub("c1")), requireFresh: true, environment: env)
            .resolve(ChartReference(repo: repo.url, name: "web", credentials: basic))
        #expect(r.version == "1.0.0")

        repo.basicAuth = nil
        repo.bearer = "TOKEN-charts-552"
        let b = try ChartSourceResolver(cache: SourceCache(directory: tmp.sub("c2")), requireFresh: true, environment: env)
            .resolve(ChartReference(repo: repo.url, name: "web", credentials: ChartCredentials(tokenEnv: "CHART_TOKEN")))
        #expect(b.version == "1.0.0")
        let wrong = #expect(throws: SourceError.self) {
            try ChartSourceResolver(cache: SourceCache(directory: tmp.sub("c3")), requireFresh: true, environment: SourceEnvironment(["CHART_TOKEN": "nope-token-1"]))
                .resolve(ChartReference(repo: repo.url, name: "web", credentials: ChartCredentials(tokenEnv: "CHART_TOKEN")))
        }
        #expect(wrong.map { !$0.description.contains("nope-token-1") && $0.message.contains("401") } == true, "\(String(describing: wrong))")
    }

    @Test func badReferencesAreTypedErrors() throws {
        let tmp = TempDir()
        let r = ChartSourceResolver(cache: SourceCache(directory: tmp.sub("cache")), offline: true)
        #expect((#expect(throws: SourceError.self) { try r.resolve(ChartReference(repo: "ftp://x/charts", name: "web")) })?.kind == .invalidSource)
        #expect((#expect(throws: SourceError.self) { try r.resolve(ChartReference(repo: "https://x/charts", name: "../web")) })?.kind == .invalidSource)
        #expect((#expect(throws: SourceError.self) { try r.resolve(ChartReference(repo: "https://x/charts", name: "web", version: "not a version")) })?.kind == .invalidSource)
        #expect((#expect(throws: SourceError.self) { try r.resolve(ChartReference(repo: "https://x/charts", name: "web", digest: "sha256:12")) })?.kind == .invalidSource)
        #expect(ChartSourceResolver.resolveURL("a/b.tgz", against: "https://h/x/index.yaml") == "https://h/x/a/b.tgz")
        #expect(ChartSourceResolver.resolveURL("/c/b.tgz", against: "https://h/x/index.yaml") == "https://h/c/b.tgz")
        #expect(ChartSourceResolver.resolveURL("https://o/b.tgz", against: "https://h/x/index.yaml") == "https://o/b.tgz")
    }
}
