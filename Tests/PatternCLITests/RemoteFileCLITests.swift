import Testing
import TestSupport
import PatternCore

/// Issue 13: plain `https://…/file.yaml` Kustomize resources, downloaded by the real `pattern`
/// binary from a loopback HTTP server into the source cache, pinned by `#sha256=`, replayed
/// offline; in a site's component (through the resolver every compiling command uses) and in
/// `pattern render <dir>`.
@Suite(.serialized) struct RemoteFileCLITests {
    static let body = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: remote\ndata:\n  a: \"1\"\n"

    /// A repository whose component `app` is a kustomization naming `entry`.
    func repo(_ tmp: TemporaryDirectory, _ entry: String, siteExtra: String = "") throws -> String {
        let dir = tmp.sub("repo-\(Int.random(in: 0..<1_000_000))")
        let files = [
            "patterns/p/pattern.yaml": "apiVersion: pattern.dev/v1alpha1\nkind: Pattern\nmetadata: {name: p}\nspec:\n  components:\n  - {name: app, path: components/app}\n",
            "patterns/p/components/app/kustomization.yaml": "resources:\n- \(entry)\nnamePrefix: p-\nnamespace: web\n",
            "overlays/s/overlay.yaml": "apiVersion: pattern.dev/v1alpha1\nkind: Site\nmetadata: {name: s}\nspec:\n  pattern: {path: patterns/p}\n" + siteExtra,
        ]
        for (path, text) in files {
            try FileSystem.makeDirectories(dir + "/" + path.split(separator: "/").dropLast().joined(separator: "/"))
            try FileSystem.write(dir + "/" + path, Array(text.utf8))
        }
        return dir
    }

    /// A scratch directory and a loopback server with `body` at the returned URL.
    func served(_ name: String) throws -> (TemporaryDirectory, ChartRepoServer, String) {
        let server = try ChartRepoServer()
        server.put("/charts/cm.yaml", Array(Self.body.utf8))
        return (TemporaryDirectory(name), server, server.url + "/cm.yaml")
    }

    @Test func siteComponentDownloadsAPinnedFileAndReplaysItOffline() throws {
        let (tmp, server, url) = try served("remote-file")
        defer { server.stop() }
        let pinned = try repo(tmp, url + "#sha256=" + SHA256.hex(Self.body))
        let cache = ["--cache-dir", tmp.sub("cache")]

        let r = CLI.run(["render", "s", "--repo", pinned] + cache)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("name: p-remote"))
        #expect(server.requests == ["/charts/cm.yaml"], "the #sha256= fragment is not sent")
        let v = CLI.run(["validate", "s", "--repo", pinned] + cache)
        #expect(v.status == 0, "\(v.stderr)")

        // Unpinned: refused at the entry, with a fix; the overlay may allow it explicitly.
        let unpinned = try repo(tmp, url)
        let u = CLI.run(["render", "s", "--repo", unpinned] + cache)
        #expect(u.status == 1)
        #expect(u.stderr.contains("patterns/p/components/app/kustomization.yaml:2:3"), "\(u.stderr)")
        #expect(u.stderr.contains("is not pinned"))
        #expect(u.stderr.contains("fix: pin it by content: `\(url)#sha256=<sha256sum of the file>`"), "\(u.stderr)")
        let allowed = try repo(tmp, url, siteExtra: "  kustomize: {allowUnpinnedRemotes: true}\n")
        let a = CLI.run(["render", "s", "--repo", allowed] + cache)
        #expect(a.status == 0, "\(a.stderr)")
        #expect(a.stdout == r.stdout)

        // The server goes away: both render from the cache offline, with no request made.
        server.stop()
        let before = server.requests.count
        let off = CLI.run(["render", "s", "--repo", pinned, "--offline"] + cache)
        #expect(off.status == 0, "\(off.stderr)")
        #expect(off.stdout == r.stdout)
        let offUnpinned = CLI.run(["render", "s", "--repo", allowed, "--offline"] + cache)
        #expect(offUnpinned.stdout == r.stdout, "\(offUnpinned.stderr)")
        #expect(server.requests.count == before)
        // A pin never downloaded cannot be satisfied offline.
        let other = try repo(tmp, url + "#sha256=" + String(repeating: "0", count: 64))
        let miss = CLI.run(["render", "s", "--repo", other, "--offline"] + cache)
        #expect(miss.status == 1)
        #expect(miss.stderr.contains("is not in the cache and the network is off"), "\(miss.stderr)")
    }

    @Test func renderDirectoryChecksThePinAndASizeLimit() throws {
        let (tmp, server, url) = try served("remote-file-dir")
        defer { server.stop() }
        let dir = tmp.sub("k")
        try FileSystem.makeDirectories(dir)
        let wrong = String(repeating: "a", count: 64)
        try FileSystem.write(dir + "/kustomization.yaml", Array("resources:\n- \(url)#sha256=\(wrong)\n".utf8))
        let r = CLI.run(["render", dir, "--cache-dir", tmp.sub("cache")])
        #expect(r.status == 1)
        #expect(r.stderr.contains("kustomization.yaml:2:3"), "\(r.stderr)")
        #expect(r.stderr.contains("not the pinned \(wrong)"), "\(r.stderr)")
        #expect(r.stderr.contains("fix: "))

        // A missing libcurl is a typed error here too (HTTPFetch), not a crash.
        try FileSystem.write(dir + "/kustomization.yaml", Array("resources:\n- \(url)#sha256=\(SHA256.hex(Self.body))\n".utf8))
        let nocurl = CLI.run(["render", dir, "--cache-dir", tmp.sub("cache2")], env: ["PATTERN_LIBCURL": tmp.sub("none.so")])
        #expect(nocurl.status == 1, "\(nocurl.stderr)")
        #expect(nocurl.stderr.contains("cannot load \(tmp.sub("none.so"))"), "\(nocurl.stderr)")
        #expect(nocurl.stderr.contains("install libcurl4"))

        // A body over the YAML size limit is cut off, not buffered.
        server.put("/charts/big.yaml", [UInt8](repeating: UInt8(ascii: "#"), count: (32 << 20) + 1))
        try FileSystem.write(dir + "/kustomization.yaml", Array("resources:\n- \(server.url)/big.yaml\n".utf8))
        let big = CLI.run(["render", dir, "--cache-dir", tmp.sub("cache"), "--allow-unpinned-remotes"])
        #expect(big.status == 1)
        #expect(big.stderr.contains("larger than the limit"), "\(big.stderr)")
    }
}
