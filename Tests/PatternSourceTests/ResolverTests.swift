import Foundation
import Testing
@testable import PatternSource
import PatternCore

@Suite struct LocalResolverTests {
    @Test func localPathAndFileURLShareCacheAndReadTree() throws {
        let tmp = TempDir()
        let work = try WorkRepo(at: tmp.sub("upstream"), files: [
            "patterns/hub/pattern.yaml": "name: hub\n",
            "patterns/hub/components/ns.yaml": "kind: Namespace\n",
            "README.md": "top\n",
        ])
        let head = try work.head()
        let resolver = SourceResolver(cache: SourceCache(directory: tmp.sub("cache")))

        let r1 = try resolver.resolve(.git(GitSource(url: work.path, ref: "main", path: "patterns/hub")))
        #expect(r1.commit == head)
        #expect(r1.stale == false)
        #expect(r1.warnings.isEmpty)
        #expect(try readString(r1.tree, "pattern.yaml") == "name: hub\n")
        #expect(try r1.tree.list(TreePath("components")).map(\.name) == ["ns.yaml"])
        #expect(r1.tree.entryKind(try TreePath("README.md")) == nil) // rooted at the path
        #expect(r1.provenance == FS.realPath(work.path)! + "@" + head)

        let r2 = try resolver.resolve(.git(GitSource(url: "file://" + work.path, ref: nil)))
        #expect(r2.commit == head)
        #expect(try readString(r2.tree, "README.md") == "top\n")
        let repos = try FileManager.default.contentsOfDirectory(atPath: tmp.sub("cache/repos")).filter { $0.hasSuffix(".git") }
        #expect(repos.count == 1)
    }

    @Test func tagAndCommitRefsAndNewCommitsAreFetched() throws {
        let tmp = TempDir()
        let work = try WorkRepo(at: tmp.sub("upstream"), files: ["a.yaml": "v: 1\n"])
        let first = try work.head()
        try git(["tag", "v1"], in: work.path)
        let second = try work.commit(["a.yaml": "v: 2\n"], message: "two")
        let resolver = SourceResolver(cache: SourceCache(directory: tmp.sub("cache")))

        let tagged = try resolver.resolve(GitSource(url: work.path, ref: "v1"))
        #expect(tagged.commit == first)
        #expect(try readString(tagged.tree, "a.yaml") == "v: 1\n")
        let branch = try resolver.resolve(GitSource(url: work.path, ref: "main"))
        #expect(branch.commit == second)
        let pinned = try resolver.resolve(GitSource(url: work.path, ref: first))
        #expect(pinned.commit == first)
        #expect(try readString(pinned.tree, "a.yaml") == "v: 1\n")

        let third = try work.commit(["a.yaml": "v: 3\n"], message: "three")
        let again = try resolver.resolve(GitSource(url: work.path, ref: "main"))
        #expect(again.commit == third)
        #expect(try readString(again.tree, "a.yaml") == "v: 3\n")

        // A pinned commit already in the cache needs no network: works with the remote gone.
        try FileManager.default.removeItem(atPath: work.path)
        let offlinePinned = try SourceResolver(cache: SourceCache(directory: tmp.sub("cache")), requireFresh: true)
            .resolve(GitSource(url: tmp.sub("upstream"), ref: second))
        #expect(offlinePinned.commit == second)
        #expect(offlinePinned.stale == false)
    }

    @Test func unknownRefAndMissingPathAreClearErrors() throws {
        let tmp = TempDir()
        let work = try WorkRepo(at: tmp.sub("upstream"))
        let resolver = SourceResolver(cache: SourceCache(directory: tmp.sub("cache")), requireFresh: true)
        let e1 = #expect(throws: SourceError.self) { try resolver.resolve(GitSource(url: work.path, ref: "nope")) }
        #expect(e1?.message.contains("'nope' does not exist") == true)
        #expect(e1?.kind == .refNotFound)
        let e2 = #expect(throws: SourceError.self) { try resolver.resolve(GitSource(url: work.path, ref: "main", path: "missing/dir")) }
        #expect(e2?.kind == .pathNotFound)
        let e3 = #expect(throws: SourceError.self) { try resolver.resolve(GitSource(url: work.path, path: "../x")) }
        #expect(e3?.kind == .pathEscapes)
    }

    @Test func symlinksInsideAreFollowedAndEscapesRejected() throws {
        let tmp = TempDir()
        let work = try WorkRepo(at: tmp.sub("upstream"), files: ["base/values.yaml": "a: 1\n", "site/x.yaml": "x\n"])
        try FileManager.default.createSymbolicLink(atPath: work.path + "/site/values.yaml", withDestinationPath: "../base/values.yaml")
        try FileManager.default.createSymbolicLink(atPath: work.path + "/site/passwd", withDestinationPath: "../../../../../etc/passwd")
        try FileManager.default.createSymbolicLink(atPath: work.path + "/site/abs", withDestinationPath: "/etc/passwd")
        try FileManager.default.createSymbolicLink(atPath: work.path + "/site/basedir", withDestinationPath: "../base")
        try work.commit([:], message: "links")
        let r = try SourceResolver(cache: SourceCache(directory: tmp.sub("cache"))).resolve(GitSource(url: work.path))
        let tree = r.tree
        #expect(tree.entryKind(try TreePath("site/values.yaml")) == .symlink)
        #expect(try tree.readLink(try TreePath("site/values.yaml")) == "../base/values.yaml")
        #expect(try readString(tree, "site/values.yaml") == "a: 1\n")
        #expect(try readString(tree, "site/basedir/values.yaml") == "a: 1\n")
        #expect(throws: TreePathError.self) { try tree.resolve(try TreePath("site/passwd")) }
        #expect(throws: TreePathError.self) { try tree.resolve(try TreePath("site/abs")) }
        // Rooted at "site", even a link to a sibling directory leaves the tree.
        let rooted = try SourceResolver(cache: SourceCache(directory: tmp.sub("cache"))).resolve(GitSource(url: work.path, path: "site"))
        #expect(throws: TreePathError.self) { try rooted.tree.resolve(try TreePath("values.yaml")) }
        // No checkout happened: the tree reads straight from the object database.
        #expect(r.tree is GitTree)
    }

    @Test func concurrentResolvesOnOneCacheAreSafe() async throws {
        let tmp = TempDir()
        let work = try WorkRepo(at: tmp.sub("upstream"), files: ["f.yaml": "x\n"])
        let head = try work.head()
        let cache = SourceCache(directory: tmp.sub("cache"))
        let path = work.path
        let commits = try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<6 {
                group.addTask { try SourceResolver(cache: cache).resolve(GitSource(url: path)).commit }
            }
            var out: [String?] = []
            for try await c in group { out.append(c) }
            return out
        }
        #expect(commits.allSatisfy { $0 == head })
    }

    @Test func gitTreeReadsFromThreads() async throws {
        let tmp = TempDir()
        var files: [String: String] = [:]
        for i in 0..<50 { files["d\(i % 5)/f\(i).yaml"] = "n: \(i)\n" }
        let work = try WorkRepo(at: tmp.sub("upstream"), files: files)
        let tree = try SourceResolver(cache: SourceCache(directory: tmp.sub("cache"))).resolve(GitSource(url: work.path)).tree
        let ok = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<50 {
                group.addTask { (try? readString(tree, "d\(i % 5)/f\(i).yaml")) == "n: \(i)\n" }
            }
            var all = true
            for await b in group { all = all && b }
            return all
        }
        #expect(ok)
    }

    @Test func localDirectorySource() throws {
        let tmp = TempDir()
        try writeFile(tmp.sub("dir/a.yaml"), "a\n")
        let r = try SourceResolver(cache: SourceCache(directory: tmp.sub("cache"))).resolve(.directory(tmp.sub("dir")))
        #expect(r.commit == nil)
        #expect(try readString(r.tree, "a.yaml") == "a\n")
    }

    @Test func sourceFromConfigValue() throws {
        var o = Object()
        o["url"] = .string("https://git.example.com/p.git")
        o["mirrors"] = .array([.string("git://127.0.0.1/p.git")])
        o["ref"] = .string("v1")
        o["path"] = .string("patterns/hub")
        var c = Object(); c["tokenEnv"] = .string("TOKEN")
        o["credentials"] = .object(c)
        let s = try GitSource(value: .object(o))
        #expect(s.urls == ["https://git.example.com/p.git", "git://127.0.0.1/p.git"])
        #expect(s.ref == "v1" && s.path == "patterns/hub" && s.credentials.tokenEnv == "TOKEN")
    }
}

@Suite struct CacheLockTests {
    @Test func aHeldLockMakesOthersWaitAndTimeOut() throws {
        let tmp = TempDir()
        let work = try WorkRepo(at: tmp.sub("upstream"))
        let cache = SourceCache(directory: tmp.sub("cache"))
        _ = try SourceResolver(cache: cache).resolve(GitSource(url: work.path))
        let url = try GitURL(work.path)
        // Another "process" holds the repository's lock (flock locks are per open file, so a
        // second open in this process conflicts just like another process would).
        let held = try FileLock(path: cache.lockPath(url))
        #expect(throws: SourceError.self) { _ = try FileLock(path: cache.lockPath(url), timeout: 0.2) }
        held.unlock()
        let again = try FileLock(path: cache.lockPath(url), timeout: 0.2)
        again.unlock()
    }

    @Test func localPathsKeepTheirGitSuffixInTheCacheKey() throws {
        #expect(try GitURL("/srv/p").normalized != (try GitURL("/srv/p.git")).normalized)
        #expect(try GitURL("https://h/o/p").normalized == (try GitURL("https://H/o/p.git/")).normalized)
    }
}
