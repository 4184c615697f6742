import Foundation
import Testing
@testable import PatternSource
import PatternCore
import KubeTestServer
import TestSupport

@Suite(.serialized) struct OCIRegistryTests {
    let env = SourceEnvironment(["OCI_PW": "registry-secret-731", "WRONG_PW": "wrong-password-55"])

    func resolver(_ tmp: TemporaryDirectory, _ cache: String = "cache", offline: Bool = false, requireFresh: Bool = false) -> ChartSourceResolver {
        ChartSourceResolver(cache: SourceCache(directory: tmp.sub(cache)), requireFresh: requireFresh, offline: offline, environment: env)
    }

    @Test func anExactVersionResolvesItsTagThroughTheTokenFlowAndTheLayerIsCachedByDigest() throws {
        let tmp = TempDir()
        let reg = try OCIRegistryServer()
        reg.auth = .token(user: "deploy")
        let tgz = try chartArchive(tmp, name: "web", version: "1.2.3+build.7")
        // `+` is not allowed in tags: Helm pushes 1.2.3+build.7 as 1.2.3_build.7.
        let pushed = reg.push("charts/web", tag: "1.2.3_build.7", chart: tgz)
        reg.redirectBlobs = true
        let creds = ChartCredentials(username: "deploy", passwordEnv: "OCI_PW")
        let r = try resolver(tmp).resolve(ChartReference(oci: reg.url("charts/web"), version: "1.2.3+build.7", credentials: creds, plainHTTP: true))
        #expect(r.name == "web" && r.version == "1.2.3+build.7")
        #expect(r.digest == pushed.layer && r.manifestDigest == pushed.manifest)
        #expect(r.readArchive() == tgz)
        #expect(r.archivePath == tmp.sub("cache/charts/blobs/sha256/") + pushed.layer.dropFirst(7) + ".tgz")
        let log = reg.requests
        #expect(log.contains("GET /v2/charts/web/manifests/1.2.3_build.7 auth=-"), "anonymous first: \(log)")
        #expect(log.contains { $0.hasPrefix("GET /token?service=test-registry&scope=repository%3Acharts%2Fweb%3Apull auth=Basic") }, "\(log)")
        #expect(log.contains("GET /v2/charts/web/manifests/1.2.3_build.7 auth=Bearer"), "\(log)")
        #expect(!log.contains { $0.contains("tags/list") }, "an exact version needs no tag list: \(log)")
        // The blob redirect to storage on another host:port carries no credentials.
        #expect(reg.storageRequests == ["/storage/\(pushed.layer) auth=-"], "\(reg.storageRequests)")

        // Seen before: no network at all.
        let before = reg.requests.count
        let again = try resolver(tmp).resolve(ChartReference(oci: reg.url("charts/web"), version: "1.2.3+build.7", credentials: creds, plainHTTP: true))
        #expect(again.digest == r.digest && reg.requests.count == before)
    }

    @Test func aConstraintPicksTheHighestMatchingTagAcrossPages() throws {
        let tmp = TempDir()
        let reg = try OCIRegistryServer()
        reg.auth = .token(user: nil)   // anonymous pulls through the token flow, like ghcr.io
        reg.pageSize = 2
        var layers: [String: String] = [:]
        for v in ["0.9.0", "0.9.3", "0.10.0", "1.0.0-rc.1", "latest", "0.9.4_meta"] {
            layers[v] = reg.push("team/charts/web", tag: v, chart: try chartArchive(tmp, name: "web", version: v.replacingOccurrences(of: "_", with: "+"))).layer
        }
        let r = try resolver(tmp).resolve(ChartReference(oci: reg.url("team/charts/web"), version: "0.9.*", plainHTTP: true))
        #expect(r.version == "0.9.4+meta" && r.digest == layers["0.9.4_meta"], "\(r.version)")
        // 6 tags in pages of 2, followed through the Link headers exactly: the first page
        // (after the anonymous 401 and the token), then `last=` of each page, and no fourth.
        let pages = reg.requests.filter { $0.contains("tags/list") }
        #expect(pages == ["GET /v2/team/charts/web/tags/list auth=-",
                          "GET /v2/team/charts/web/tags/list auth=Bearer",
                          "GET /v2/team/charts/web/tags/list?n=2&last=0.9.0 auth=Bearer",
                          "GET /v2/team/charts/web/tags/list?n=2&last=0.9.4_meta auth=Bearer"], "\(reg.requests)")
        #expect(reg.servedTagPages == [["0.10.0", "0.9.0"], ["0.9.3", "0.9.4_meta"], ["1.0.0-rc.1", "latest"]])
        #expect(try resolver(tmp, "c2").resolve(ChartReference(oci: reg.url("team/charts/web"), plainHTTP: true)).version == "0.10.0", "no constraint: highest stable")
        #expect(try resolver(tmp, "c3").resolve(ChartReference(oci: reg.url("team/charts/web"), version: "~1.0.0-0", plainHTTP: true)).version == "1.0.0-rc.1")
        let none = #expect(throws: SourceError.self) {
            try resolver(tmp, "c4").resolve(ChartReference(oci: reg.url("team/charts/web"), version: "^3", plainHTTP: true))
        }
        // The client's collected tags, all three pages in page order (`_` as the registry
        // stores `+`): a page dropped or read twice would change this list.
        #expect(none?.kind == .refNotFound, "\(String(describing: none))")
        #expect(none?.message.hasSuffix("(tags: 0.10.0, 0.9.0, 0.9.3, 0.9.4_meta, 1.0.0-rc.1, latest)") == true, "\(String(describing: none))")
        let missing = #expect(throws: SourceError.self) {
            try resolver(tmp, "c5").resolve(ChartReference(oci: reg.url("team/charts/nope"), version: "1.0.0", plainHTTP: true))
        }
        #expect(missing?.kind == .refNotFound, "\(String(describing: missing))")
    }

    @Test func aPinnedDigestMustMatchAndAMismatchCachesNothing() throws {
        let tmp = TempDir()
        let reg = try OCIRegistryServer()
        let tgz = try chartArchive(tmp, name: "web", version: "2.0.0")
        let pushed = reg.push("charts/web", tag: "2.0.0", chart: tgz)
        let wrong = "sha256:" + String(repeating: "ab", count: 32)
        let e = #expect(throws: SourceError.self) {
            try resolver(tmp).resolve(ChartReference(oci: reg.url("charts/web"), version: "2.0.0", digest: wrong, plainHTTP: true))
        }
        #expect(e?.kind == .integrity && e?.message.contains(pushed.manifest) == true && e?.message.contains("pinned") == true, "\(String(describing: e))")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: tmp.sub("cache/charts/blobs/sha256"))) ?? []).isEmpty, "nothing cached")

        // Pinned by digest alone: pulled by digest, version from the manifest's annotation.
        let r = try resolver(tmp).resolve(ChartReference(oci: reg.url("charts/web"), digest: pushed.manifest, plainHTTP: true))
        #expect(r.version == "2.0.0" && r.digest == pushed.layer)
        #expect(reg.requests.contains("GET /v2/charts/web/manifests/\(pushed.manifest) auth=-"))
        // A pinned, cached manifest needs no network.
        reg.stop()
        let cached = try resolver(tmp).resolve(ChartReference(oci: reg.url("charts/web"), digest: pushed.manifest, plainHTTP: true))
        #expect(cached.digest == pushed.layer && !cached.stale)
    }

    @Test func aTamperedBlobIsRefusedAndNothingIsCached() throws {
        let tmp = TempDir()
        let reg = try OCIRegistryServer()
        let tgz = try chartArchive(tmp, name: "web", version: "1.0.0")
        let pushed = reg.push("charts/web", tag: "1.0.0", chart: tgz)
        reg.tamperedBlobs[pushed.layer] = try chartArchive(tmp, name: "web", version: "1.0.0", marker: "-evil")
        let e = #expect(throws: SourceError.self) {
            try resolver(tmp).resolve(ChartReference(oci: reg.url("charts/web"), version: "1.0.0", plainHTTP: true))
        }
        #expect(e?.kind == .integrity && e?.message.contains("does not match its descriptor") == true, "\(String(describing: e))")
        #expect(!FileManager.default.fileExists(atPath: tmp.sub("cache/charts/blobs/sha256/\(pushed.layer.dropFirst(7)).tgz")))
        #expect(!FileManager.default.fileExists(atPath: tmp.sub("cache/charts/repos")) ||
                ((try? FileManager.default.subpathsOfDirectory(atPath: tmp.sub("cache/charts/repos"))) ?? []).allSatisfy { !$0.hasSuffix("oci-tags") })
    }

    @Test func credentialsAreRequiredAndNeverShown() throws {
        let tmp = TempDir()
        let reg = try OCIRegistryServer()
        reg.auth = .token(user: "deploy")
        reg.push("charts/web", tag: "1.0.0", chart: try chartArchive(tmp, name: "web", version: "1.0.0"))
        let anon = #expect(throws: SourceError.self) {
            try resolver(tmp).resolve(ChartReference(oci: reg.url("charts/web"), version: "1.0.0", plainHTTP: true))
        }
        #expect(anon?.kind == .authentication && anon?.message.contains("401") == true && anon?.fix?.contains("credentials") == true, "\(String(describing: anon))")
        let wrong = #expect(throws: SourceError.self) {
            try resolver(tmp).resolve(ChartReference(oci: reg.url("charts/web"), version: "1.0.0",
                                                     credentials: ChartCredentials(username: "deploy", passwordEnv: "WRONG_PW"), plainHTTP: true))
        }
        #expect(wrong?.kind == .authentication && wrong.map { !$0.description.contains("wrong-password-55") } == true, "\(String(describing: wrong))")

        // Basic-auth registries.
        reg.auth = .basic("deploy:registry-secret-731")
        let r = try resolver(tmp).resolve(ChartReference(oci: reg.url("charts/web"), version: "1.0.0",
                                                         credentials: ChartCredentials(username: "deploy", passwordEnv: "OCI_PW"), plainHTTP: true))
        #expect(r.version == "1.0.0")
        #expect(reg.requests.contains("GET /v2/charts/web/manifests/1.0.0 auth=Basic"))

        // A token that the registry rejects is never echoed.
        reg.auth = .token(user: "deploy")
        let bad = #expect(throws: SourceError.self) {
            try ChartSourceResolver(cache: SourceCache(directory: tmp.sub("c2")), environment: SourceEnvironment(["T": "bogus-token-4242"]))
                .resolve(ChartReference(oci: reg.url("charts/web"), version: "1.0.0", credentials: ChartCredentials(tokenEnv: "T"), plainHTTP: true))
        }
        #expect(bad?.kind == .authentication && bad.map { !$0.description.contains("bogus-token-4242") } == true, "\(String(describing: bad))")
    }

    @Test func offlineAndOutagesReplayTheLastGoodVersionAndARepushedTagIsRefused() throws {
        let tmp = TempDir()
        let reg = try OCIRegistryServer()
        let v1 = try chartArchive(tmp, name: "web", version: "3.1.0")
        reg.push("charts/web", tag: "3.1.0", chart: v1)
        let online = try resolver(tmp).resolve(ChartReference(oci: reg.url("charts/web"), version: "~3.1", plainHTTP: true))
        #expect(online.version == "3.1.0" && !online.stale)

        // The tag is re-pushed with other content: refused, cache unchanged.
        let v1b = try chartArchive(tmp, name: "web", version: "3.1.0", marker: "-again")
        reg.push("charts/web", tag: "3.1.0", chart: v1b)
        let e = #expect(throws: SourceError.self) {
            try resolver(tmp).resolve(ChartReference(oci: reg.url("charts/web"), version: "~3.1", plainHTTP: true))
        }
        #expect(e?.kind == .integrity && e?.message.contains("immutable") == true, "\(String(describing: e))")
        #expect(!FileManager.default.fileExists(atPath: tmp.sub("cache/charts/blobs/sha256/\(SHA256.hex(v1b)).tgz")))

        let url = reg.url("charts/web")
        reg.stop()
        let offline = try resolver(tmp, offline: true).resolve(ChartReference(oci: url, version: "~3.1", plainHTTP: true))
        #expect(offline.stale && offline.archivePath == online.archivePath)
        #expect(offline.warnings.contains { $0.message.contains("USING STALE CHART: offline mode") })
        let outage = try resolver(tmp).resolve(ChartReference(oci: url, version: "~3.1", plainHTTP: true))
        #expect(outage.stale && outage.version == "3.1.0")
        #expect(throws: SourceError.self) { try resolver(tmp, requireFresh: true).resolve(ChartReference(oci: url, version: "~3.1", plainHTTP: true)) }
        let never = #expect(throws: SourceError.self) { try resolver(tmp, offline: true).resolve(ChartReference(oci: url, version: "4.x", plainHTTP: true)) }
        #expect(never?.kind == .noUsableSource)
    }

    @Test func badReferencesAreTypedErrors() throws {
        let tmp = TempDir()
        let r = resolver(tmp, offline: true)
        for bad in ["oci://host", "oci://host/Charts/Web", "oci://host/charts/web:1.0.0", "oci://host/charts/web@sha256:00",
                    "oci://user:pw@host/charts/web", "oci://host/charts/../web"] {
            let e = #expect(throws: SourceError.self) { try r.resolve(ChartReference(oci: bad, version: "1.0.0")) }
            #expect(e?.kind == .invalidSource && e?.fix != nil && e.map { !$0.description.contains("pw@") } == true, "\(bad): \(String(describing: e))")
        }
        let mixed = #expect(throws: SourceError.self) {
            try r.resolve(ChartReference(repo: "oci://host/charts/web", mirrors: ["https://charts.example.com"], name: "web"))
        }
        #expect(mixed?.kind == .invalidSource)
        #expect(OCISession.parseChallenge("Bearer realm=\"https://a/token\",service=\"reg\",scope=\"repository:x/y:pull,push\"")?.1 ==
                ["realm": "https://a/token", "service": "reg", "scope": "repository:x/y:pull,push"])
        #expect(ChartSourceResolver.nextLink("</v2/x/tags/list?n=2&last=b>; rel=\"next\"") == "/v2/x/tags/list?n=2&last=b")
        #expect(ChartSourceResolver.pickTag(["1.0.0", "1.1.0_x", "2.0.0-rc1", "v"], constraint: nil)?.version == "1.1.0+x")
    }
}
