import Testing
import PatternCore
@testable import Kustomize

/// Remote `resources:`/`components:` entries: parsed as Kustomize's repospec.go parses them,
/// fetched through a `RemoteBaseLoader`, refused when unpinned.
@Suite struct RemoteBaseTests {
    func spec(_ s: String) throws -> RemoteSpec { try RemoteSpec(parsing: s) }

    @Test func parsesLikeKustomizeRepoSpec() throws {
        // (entry, clone URL, path, ref) — expectations from Kustomize's repospec behaviour.
        let cases: [(String, String, String, String)] = [
            ("github.com/acme/bases//app?ref=v1.2.3", "https://github.com/acme/bases", "app", "v1.2.3"),
            ("http://github.com/someorg/somerepo/somedir", "https://github.com/someorg/somerepo", "somedir", ""),
            ("git@github.com:someorg/somerepo/somedir", "git@github.com:someorg/somerepo", "somedir", ""),
            ("git@github.com/someorg/somerepo/somepath", "git@github.com:someorg/somerepo", "somepath", ""),
            ("ssh://git@github.com/org/repo//examples/dev?ref=v1.0.6", "git@github.com:org/repo", "examples/dev", "v1.0.6"),
            ("https://github.com/org/repo.git//deploy?ref=abc", "https://github.com/org/repo.git", "deploy", "abc"),
            ("git::https://git.example.com/org/repo.git//deploy?ref=v2", "https://git.example.com/org/repo.git", "deploy", "v2"),
            ("https://git-codecommit.us-east-2.amazonaws.com/someorg/somerepo/somedir?ref=b", "https://git-codecommit.us-east-2.amazonaws.com/someorg/somerepo", "somedir", "b"),
            ("git@gitlab2.sqtools.ru:infra/kubernetes/thanos-base.git?ref=v0.1.0", "git@gitlab2.sqtools.ru:infra/kubernetes/thanos-base.git", "", "v0.1.0"),
            ("ssh://git@bitbucket.org/company/project.git//path?ref=branch", "ssh://git@bitbucket.org/company/project.git", "path", "branch"),
            ("https://itfs.mycompany.com/collection/project/_git/somerepos/somedir?version=v1.0.0", "https://itfs.mycompany.com/collection/project/_git/somerepos", "somedir", "v1.0.0"),
            ("https://example.org/path/to/repo//examples/multibases/dev", "https://example.org/path/to/repo", "examples/multibases/dev", ""),
            ("https://authority/org/repo?ref=group/version", "https://authority/org/repo", "", "group/version"),
            ("file:///a/b/c/someRepo?ref=someBranch", "file:///a/b/c/someRepo", "", "someBranch"),
            ("ssh://git@ssh.github.com:443/YOUR-USERNAME/YOUR-REPOSITORY.git", "ssh://git@ssh.github.com:443/YOUR-USERNAME/YOUR-REPOSITORY.git", "", ""),
            ("https://x.example/org/repo//p?ref=a%2Fb&timeout=1m30s&submodules=false", "https://x.example/org/repo", "p", "a/b"),
        ]
        for (entry, url, path, ref) in cases {
            let s = try spec(entry)
            #expect(s.cloneURL == url, "\(entry)")
            #expect(s.path == path, "\(entry)")
            #expect(s.ref == ref, "\(entry)")
        }
        let q = try spec("https://x.example/org/repo//p?ref=a&timeout=1m30s&submodules=false")
        #expect(q.timeoutSeconds == 90 && q.submodules == false)
        #expect(try spec("https://x.example/org/repo?timeout=5").timeoutSeconds == 5)
        #expect(throws: RemoteSpec.ParseError.self) { try RemoteSpec(parsing: "https://x.example/org/repo//../../etc") }
        #expect(throws: RemoteSpec.ParseError.self) { try RemoteSpec(parsing: "gopher://x.example/org/repo") }
        #expect(throws: RemoteSpec.ParseError.self) { try RemoteSpec(parsing: "/abs/path") }
    }

    /// Serves one repository from memory, recording what was asked.
    struct FakeLoader: RemoteBaseLoader {
        var repos: [String: MemoryTree]
        var pinnedRefs: Set<String> = ["v1.0.0"]
        func load(_ spec: RemoteSpec) throws(RemoteBaseError) -> RemoteBase {
            guard let t = repos[spec.cloneURL] else { throw RemoteBaseError("cannot reach \(spec.cloneURL)", fix: "check the URL") }
            return RemoteBase(tree: t, commit: String(repeating: "a", count: 40), pinned: pinnedRefs.contains(spec.ref) || spec.refIsCommit)
        }
    }

    static let base: [String: String] = [
        "app/kustomization.yaml": "resources:\n- deploy.yaml\nnamePrefix: app-\nconfigMapGenerator:\n- name: cfg\n  literals: [a=b]\n",
        "app/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx\n        envFrom:\n        - configMapRef:\n            name: cfg\n",
        "comp/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncommonLabels:\n  c: x\n",
    ]

    func render(_ objects: [Value]) -> String { YAMLEmitter(options: .init(sortKeys: true)).emitStream(objects) }

    @Test func remoteBaseRendersLikeTheSameTreeLocally() throws {
        let overlay = "namespace: prod\nimages:\n- name: nginx\n  newTag: \"2\"\n"
        var local = RemoteBaseTests.base
        local["overlay/kustomization.yaml"] = "resources:\n- ../app\ncomponents:\n- ../comp\n" + overlay
        let expected = try KustomizeBuilder(tree: MemoryTree(files: local)).build(try TreePath("overlay"))

        let loader = FakeLoader(repos: ["https://github.com/acme/bases": MemoryTree(files: RemoteBaseTests.base)])
        let tree = MemoryTree(files: ["kustomization.yaml": "resources:\n- github.com/acme/bases//app?ref=v1.0.0\ncomponents:\n- https://github.com/acme/bases//comp?ref=v1.0.0\n" + overlay])
        let got = try KustomizeBuilder(tree: tree, remote: RemotePolicy(loader: loader)).build(.root)
        #expect(render(got) == render(expected))
        #expect(render(got).contains("name: app-cfg-"))
    }

    func failure(_ b: KustomizeBuilder) -> [Diagnostic] {
        do throws(Diagnostics) { _ = try b.build(.root); Issue.record("expected failure"); return [] } catch { return error.items }
    }

    @Test func unpinnedRemoteIsRefusedUnlessAllowed() throws {
        let loader = FakeLoader(repos: ["https://github.com/acme/bases": MemoryTree(files: RemoteBaseTests.base)])
        for (entry, why) in [("github.com/acme/bases//app", "has no `ref=`"), ("github.com/acme/bases//app?ref=main", "names branch 'main'")] {
            let tree = MemoryTree(files: ["kustomization.yaml": "resources:\n- \(entry)\n"])
            let d = failure(KustomizeBuilder(tree: tree, remote: RemotePolicy(loader: loader)))
            #expect(d.first?.message.contains("is not pinned: it \(why)") == true, "\(d)")
            #expect(d.first?.location?.description == "kustomization.yaml:2:3")
            #expect(d.first?.fix?.contains("aaaaaaaa") == true)
            #expect(try KustomizeBuilder(tree: tree, remote: RemotePolicy(loader: loader, allowUnpinned: true)).build(.root).count == 2)
        }
        // A full commit id is a pin.
        let commit = "resources:\n- github.com/acme/bases//app?ref=\(String(repeating: "b", count: 40))\n"
        #expect(try KustomizeBuilder(tree: MemoryTree(files: ["kustomization.yaml": commit]), remote: RemotePolicy(loader: loader)).build(.root).count == 2)
    }

    @Test func remoteErrorsAreLocated() {
        let tree = MemoryTree(files: ["kustomization.yaml": "resources:\n- github.com/acme/bases//app?ref=v1.0.0\n- https://example.com/x/deploy.yaml\n"])
        let off = failure(KustomizeBuilder(tree: tree))
        #expect(off.count == 2)
        #expect(off[0].message.contains("is not fetched in this build"))
        #expect(off[1].message.contains("plain HTTP(S) file"))
        #expect(off[1].location?.description == "kustomization.yaml:3:3")
        let missing = failure(KustomizeBuilder(tree: tree, remote: RemotePolicy(loader: FakeLoader(repos: [:]))))
        #expect(missing.first?.message.contains("cannot reach https://github.com/acme/bases") == true)
        let noDir = MemoryTree(files: ["kustomization.yaml": "resources:\n- github.com/acme/bases//nope?ref=v1.0.0\n"])
        let loader = FakeLoader(repos: ["https://github.com/acme/bases": MemoryTree(files: RemoteBaseTests.base)])
        #expect(failure(KustomizeBuilder(tree: noDir, remote: RemotePolicy(loader: loader))).first?.message.contains("is not a directory") == true)
    }

    @Test func remoteCycleIsDetected() {
        let repo = MemoryTree(files: ["a/kustomization.yaml": "resources:\n- github.com/acme/loop//a?ref=v1.0.0\n"])
        let loader = FakeLoader(repos: ["https://github.com/acme/loop": repo])
        let tree = MemoryTree(files: ["kustomization.yaml": "resources:\n- github.com/acme/loop//a?ref=v1.0.0\n"])
        let d = failure(KustomizeBuilder(tree: tree, remote: RemotePolicy(loader: loader)))
        #expect(d.first?.message.contains("includes itself") == true)
    }
}
