import Foundation
import Testing
@testable import PatternSource
import PatternCore

@Suite struct ForkTests {
    /// Upstream work repo + a fork of it with one local commit.
    func makeFork(_ tmp: TempDir) throws -> (WorkRepo, String) {
        let up = try WorkRepo(at: tmp.sub("upstream"), files: [
            "patterns/hub/values.yaml": "replicas: 1\nimage: v1\n",
            "patterns/hub/ns.yaml": "kind: Namespace\n",
        ])
        let fork = tmp.sub("fork")
        let created = try Fork.create(upstream: up.path, into: fork)
        #expect(created.branch == "main")
        #expect(created.upstreamRef == "main")
        #expect(try git(["remote"], in: fork) == "upstream")
        #expect(try git(["config", "pattern.upstreamRef"], in: fork) == "main")
        #expect(try git(["config", "pattern.upstream"], in: fork) == FS.realPath(up.path))
        try writeFile(fork + "/overlays/site-a/values.yaml", "site: a\n")
        try git(["add", "-A"], in: fork)
        try git(["commit", "-q", "-m", "site a"], in: fork)
        return (up, fork)
    }

    @Test func nonConflictingUpstreamChangeMergesAndKeepsLocalEdits() throws {
        let tmp = TempDir()
        let (up, fork) = try makeFork(tmp)
        let upstreamCommit = try up.commit(["patterns/hub/ns.yaml": "kind: Namespace\nname: hub\n"], message: "upstream change")

        let dry = try Fork.update(directory: fork, dryRun: true)
        #expect(dry.outcome == .wouldMerge)
        #expect(dry.upstreamChanges.map(\.description) == ["modified: patterns/hub/ns.yaml"])
        #expect(dry.localChanges.map(\.path) == ["overlays/site-a/values.yaml"])
        #expect(dry.conflicts.isEmpty)
        #expect(try readText(fork + "/patterns/hub/ns.yaml") == "kind: Namespace\n") // untouched

        let r = try Fork.update(directory: fork)
        guard case .merged(let commit) = r.outcome else { Issue.record("expected merge, got \(r.outcome)"); return }
        #expect(try git(["rev-parse", "HEAD"], in: fork) == commit)
        #expect(try git(["rev-parse", "HEAD^2"], in: fork) == upstreamCommit)
        #expect(try git(["log", "-1", "--format=%B"], in: fork).contains("Upstream-Commit: \(upstreamCommit)"))
        #expect(try readText(fork + "/patterns/hub/ns.yaml") == "kind: Namespace\nname: hub\n")
        #expect(try readText(fork + "/overlays/site-a/values.yaml") == "site: a\n")
        #expect(try git(["status", "--porcelain"], in: fork) == "")

        let again = try Fork.update(directory: fork)
        #expect(again.outcome == .upToDate)
    }

    @Test func conflictingUpstreamChangeLeavesAGitMergeToFinish() throws {
        let tmp = TempDir()
        let (up, fork) = try makeFork(tmp)
        try writeFile(fork + "/patterns/hub/values.yaml", "replicas: 3\nimage: v1\n")
        try git(["commit", "-q", "-am", "local replicas"], in: fork)
        let upstreamCommit = try up.commit(["patterns/hub/values.yaml": "replicas: 2\nimage: v1\n",
                                            "patterns/hub/new.yaml": "kind: ConfigMap\n"], message: "upstream replicas")

        let dry = try Fork.update(directory: fork, dryRun: true)
        #expect(dry.outcome == .wouldConflict)
        #expect(dry.conflicts == ["patterns/hub/values.yaml"])
        #expect(!FileManager.default.fileExists(atPath: fork + "/.git/MERGE_HEAD"))

        let r = try Fork.update(directory: fork)
        #expect(r.outcome == .conflicted)
        #expect(r.conflicts == ["patterns/hub/values.yaml"])
        #expect(try readText(fork + "/.git/MERGE_HEAD").hasPrefix(upstreamCommit))
        let text = try readText(fork + "/patterns/hub/values.yaml")
        #expect(text.contains("<<<<<<<") && text.contains("replicas: 3") && text.contains("replicas: 2") && text.contains(">>>>>>>"))
        #expect(try readText(fork + "/patterns/hub/new.yaml") == "kind: ConfigMap\n")
        #expect(try git(["diff", "--name-only", "--diff-filter=U"], in: fork) == "patterns/hub/values.yaml")
        // A second update refuses while the merge is unfinished.
        let e = #expect(throws: SourceError.self) { try Fork.update(directory: fork) }
        #expect(e?.kind == .repositoryState)

        // Finish with plain git.
        try writeFile(fork + "/patterns/hub/values.yaml", "replicas: 3\nimage: v1\n")
        try git(["add", "patterns/hub/values.yaml"], in: fork)
        try git(["commit", "-q", "--no-edit"], in: fork)
        #expect(try git(["rev-parse", "HEAD^2"], in: fork) == upstreamCommit)
        #expect(try git(["log", "-1", "--format=%B"], in: fork).contains("Upstream-Commit: \(upstreamCommit)"))
        #expect(try Fork.update(directory: fork).outcome == .upToDate)
    }

    @Test func forkAtTagAndUpdateToNewerTag() throws {
        let tmp = TempDir()
        let up = try WorkRepo(at: tmp.sub("upstream"), files: ["a.yaml": "v: 1\n"])
        try git(["tag", "v1"], in: up.path)
        try up.commit(["a.yaml": "v: 2\n"], message: "two")
        try git(["tag", "v2"], in: up.path)
        let fork = tmp.sub("fork")
        let created = try Fork.create(upstream: "file://" + up.path, into: fork, ref: "v1")
        #expect(created.upstreamRef == "v1")
        #expect(try readText(fork + "/a.yaml") == "v: 1\n")
        let r = try Fork.update(directory: fork, ref: "v2")
        // No local commits: a fast-forward, no merge commit; the new ref is remembered.
        guard case .fastForwarded(let commit) = r.outcome else { Issue.record("expected fast-forward, got \(r.outcome)"); return }
        #expect(try git(["rev-parse", "HEAD"], in: fork) == commit)
        #expect(try git(["rev-parse", "v2^{commit}"], in: fork) == commit)
        #expect(try readText(fork + "/a.yaml") == "v: 2\n")
        #expect(try git(["config", "pattern.upstreamRef"], in: fork) == "v2")
        #expect(try git(["status", "--porcelain"], in: fork) == "")
        #expect(try Fork.update(directory: fork).outcome == .upToDate)
    }

    @Test func untrackedFilesUpstreamWouldOverwriteStopTheUpdate() throws {
        let tmp = TempDir()
        let (up, fork) = try makeFork(tmp)
        try up.commit(["patterns/hub/new.yaml": "kind: ConfigMap\n"], message: "upstream adds a file")
        try writeFile(fork + "/patterns/hub/new.yaml", "my untracked notes\n")
        let dry = try Fork.update(directory: fork, dryRun: true)
        #expect(dry.outcome == .wouldConflict)
        #expect(dry.warnings.contains { $0.contains("patterns/hub/new.yaml") })
        let head = try git(["rev-parse", "HEAD"], in: fork)
        let e = #expect(throws: SourceError.self) { try Fork.update(directory: fork) }
        #expect(e?.message.contains("untracked working tree files would be overwritten") == true)
        #expect(e?.message.contains("patterns/hub/new.yaml") == true)
        #expect(try git(["rev-parse", "HEAD"], in: fork) == head, "no merge commit")
        #expect(try readText(fork + "/patterns/hub/new.yaml") == "my untracked notes\n")
        // Once the file is moved away, the update takes upstream's file.
        try FileManager.default.removeItem(atPath: fork + "/patterns/hub/new.yaml")
        guard case .merged = try Fork.update(directory: fork).outcome else { Issue.record("expected merge"); return }
        #expect(try readText(fork + "/patterns/hub/new.yaml") == "kind: ConfigMap\n")
    }

    @Test func ffOnlyRefusesWhenTheForkHasCommits() throws {
        let tmp = TempDir()
        let (up, fork) = try makeFork(tmp)
        try up.commit(["patterns/hub/ns.yaml": "x\n"], message: "c")
        let head = try git(["rev-parse", "HEAD"], in: fork)
        let e = #expect(throws: SourceError.self) { try Fork.update(directory: fork, ffOnly: true) }
        #expect(e?.message.contains("cannot fast-forward") == true)
        #expect(try git(["rev-parse", "HEAD"], in: fork) == head)
    }

    @Test func aFailedForkLeavesNothingBehind() throws {
        let tmp = TempDir()
        let up = try WorkRepo(at: tmp.sub("upstream"))
        let e = #expect(throws: SourceError.self) { try Fork.create(upstream: up.path, into: tmp.sub("f"), ref: "no-such-ref") }
        #expect(e?.kind == .refNotFound)
        #expect(!FileManager.default.fileExists(atPath: tmp.sub("f")))
        // An existing empty directory stays, empty.
        try FileManager.default.createDirectory(atPath: tmp.sub("empty"), withIntermediateDirectories: true)
        #expect(throws: SourceError.self) { try Fork.create(upstream: up.path, into: tmp.sub("empty"), ref: "no-such-ref") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.sub("empty")).isEmpty)
    }

    @Test func dirtyWorkingTreeIsRefused() throws {
        let tmp = TempDir()
        let (up, fork) = try makeFork(tmp)
        try up.commit(["patterns/hub/ns.yaml": "changed\n"], message: "c")
        try writeFile(fork + "/patterns/hub/ns.yaml", "local uncommitted\n")
        let e = #expect(throws: SourceError.self) { try Fork.update(directory: fork) }
        #expect(e?.message.contains("patterns/hub/ns.yaml") == true)
        #expect(try readText(fork + "/patterns/hub/ns.yaml") == "local uncommitted\n")
    }

    @Test func forkIntoNonEmptyDirectoryAndBadURLFail() throws {
        let tmp = TempDir()
        let up = try WorkRepo(at: tmp.sub("upstream"))
        try writeFile(tmp.sub("busy/file"), "x")
        #expect(throws: SourceError.self) { try Fork.create(upstream: up.path, into: tmp.sub("busy")) }
        let e = #expect(throws: SourceError.self) {
            try Fork.create(upstream: "https://me:hunter2pw@127.0.0.1:\(freeLoopbackPort())/x.git", into: tmp.sub("f2"))
        }
        #expect(e.map { !$0.description.contains("hunter2pw") } == true)
    }
}

@Suite struct HydratorTests {
    @Test func hydratingTwiceCommitsOnlyOnChange() throws {
        let tmp = TempDir()
        let repo = tmp.sub("hydrated.git")
        let h = Hydrator(repository: repo, branch: "rendered")
        let files: [String: [UInt8]] = [
            "hub/namespace.yaml": Array("kind: Namespace\n".utf8),
            "hub/apps/deploy.yaml": Array("kind: Deployment\n".utf8),
            "edge-1/namespace.yaml": Array("kind: Namespace\n".utf8),
        ]
        let prov = Hydrator.Provenance(sourceURL: "https://tok@git.example.com/p.git", sourceCommit: String(repeating: "a", count: 40),
                                       renderedRevision: "sha256:1234")
        let r1 = try h.commit(files: files, provenance: prov)
        #expect(r1.changed && r1.previous == nil)
        #expect(try git(["ls-tree", "-r", "--name-only", "rendered"], in: repo).split(separator: "\n") ==
                ["edge-1/namespace.yaml", "hub/apps/deploy.yaml", "hub/namespace.yaml"])
        let msg = try git(["log", "-1", "--format=%B", "rendered"], in: repo)
        #expect(msg.contains("Source-Commit: " + String(repeating: "a", count: 40)))
        #expect(msg.contains("Rendered-Revision: sha256:1234"))
        #expect(!msg.contains("tok@"))

        let r2 = try h.commit(sites: ["hub": ["namespace.yaml": Array("kind: Namespace\n".utf8),
                                              "apps/deploy.yaml": Array("kind: Deployment\n".utf8)],
                                      "edge-1": ["namespace.yaml": Array("kind: Namespace\n".utf8)]], provenance: prov)
        #expect(r2.commit == nil)
        #expect(r2.previous == r1.commit)
        #expect(try git(["rev-list", "--count", "rendered"], in: repo) == "1")

        // Removing a site's file and changing another: complete replacement, one new commit.
        var next = files
        next["edge-1/namespace.yaml"] = nil
        next["hub/namespace.yaml"] = Array("kind: Namespace\nmetadata: {}\n".utf8)
        let r3 = try h.commit(files: next, provenance: Hydrator.Provenance(renderedRevision: "sha256:5678"))
        #expect(r3.changed && r3.previous == r1.commit)
        #expect(try git(["ls-tree", "-r", "--name-only", "rendered"], in: repo).split(separator: "\n") ==
                ["hub/apps/deploy.yaml", "hub/namespace.yaml"])
        #expect(try git(["show", "rendered:hub/namespace.yaml"], in: repo) == "kind: Namespace\nmetadata: {}")
    }

    @Test func refusesEscapingPathsAndCheckedOutBranch() throws {
        let tmp = TempDir()
        let work = try WorkRepo(at: tmp.sub("work"))
        let prov = Hydrator.Provenance(renderedRevision: "r")
        #expect(throws: SourceError.self) { try Hydrator(repository: work.path, branch: "main").commit(files: ["a": [1]], provenance: prov) }
        #expect(throws: SourceError.self) { try Hydrator(repository: work.path, branch: "out").commit(files: ["../a": [1]], provenance: prov) }
        #expect(throws: SourceError.self) { try Hydrator(repository: work.path, branch: "out").commit(files: [".git/config": [1]], provenance: prov) }
        let ok = try Hydrator(repository: work.path, branch: "out").commit(files: ["site/a.yaml": [65]], provenance: prov)
        #expect(ok.changed)
        #expect(try git(["status", "--porcelain"], in: work.path) == "")
    }
}
