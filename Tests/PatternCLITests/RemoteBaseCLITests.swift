import Testing
import TestSupport
import PatternCore
import PatternCompile
import PatternSource
import PatternCLI
import Kustomize
import Glibc
import PatternController

/// Remote Kustomize bases fetched from a real `git daemon` on loopback through the git source
/// cache: the render equals the render of the same tree checked out locally; branches are
/// refused unless allowed; a tag pin keeps working offline.
@Suite(.serialized) struct RemoteBaseCLITests {
    func sh(_ script: String) throws -> String {
        let out = TemporaryDirectories.make("remote-sh") + "/out"
        let rc = system("(\(script)) > '\(out)' 2>&1")
        let text = (try? String(decoding: LocalTree(root: "/").read(TreePath(String(out.dropFirst()))), as: UTF8.self)) ?? ""
        if rc != 0 { throw CommandFailed(description: "\(script): \(text)") }
        return text
    }

    /// A bare repository `bases.git` with `app/` (tag v1.0.0, branch main), served by
    /// `git daemon` on a free loopback port; returns (work checkout, served dir, port, pid file).
    func serve(_ root: String) throws -> (work: String, port: Int, pidFile: String) {
        let work = root + "/work"
        try _ = sh("""
            mkdir -p '\(work)/app' '\(root)/srv' && cd '\(work)' && git init -q -b main &&
            printf 'resources:\\n- deploy.yaml\\nnamePrefix: app-\\nconfigMapGenerator:\\n- name: cfg\\n  literals: [a=b]\\n' > app/kustomization.yaml &&
            printf 'apiVersion: apps/v1\\nkind: Deployment\\nmetadata:\\n  name: web\\nspec:\\n  template:\\n    spec:\\n      containers:\\n      - name: web\\n        image: nginx\\n        envFrom:\\n        - configMapRef:\\n            name: cfg\\n' > app/deploy.yaml &&
            git add -A && git -c user.email=t@t -c user.name=t commit -q -m base && git tag v1.0.0 &&
            git clone -q --bare '\(work)' '\(root)/srv/bases.git'
            """)
        let pidFile = root + "/daemon.pid"
        return (work, try GitDaemonProcess.start(basePath: root + "/srv", pidFile: pidFile, probe: "bases.git"), pidFile)
    }

    func stop(_ pidFile: String) { GitDaemonProcess.stop(pidFile: pidFile) }

    func render(_ objects: [Value]) -> String { YAMLEmitter(options: .init(sortKeys: true)).emitStream(objects) }

    @Test func remoteBaseFromGitDaemonRendersLikeTheLocalTree() throws {
        let root = TemporaryDirectories.make("remote-base")
        let (work, port, pidFile) = try serve(root)
        defer { stop(pidFile) }
        let overlay = "namespace: prod\nimages:\n- name: nginx\n  newTag: \"2\"\n"
        try _ = sh("mkdir -p '\(root)/site' '\(root)/local' && cp -r '\(work)/app' '\(root)/local/app' && mkdir -p '\(root)/local/overlay'")
        try _ = sh("printf 'resources:\\n- ../app\\n\(overlay.replacingNewlines)' > '\(root)/local/overlay/kustomization.yaml'")
        let expected = try KustomizeRender.build(directory: root + "/local/overlay")

        let cache = SourceCache(directory: root + "/cache")
        func loader(offline: Bool) -> GitRemoteBaseLoader {
            GitRemoteBaseLoader(resolver: SourceResolver(cache: cache, offline: offline),
                                rewrites: [("https://git.example.com/", "git://127.0.0.1:\(port)/")])
        }
        func site(_ entry: String) throws -> String {
            try _ = sh("printf 'resources:\\n- \(entry)\\n\(overlay.replacingNewlines)' > '\(root)/site/kustomization.yaml'")
            return root + "/site"
        }
        let pinned = try site("https://git.example.com/bases.git//app?ref=v1.0.0")
        let got = try KustomizeRender.build(directory: pinned, remote: RemotePolicy(loader: loader(offline: false)))
        #expect(render(got) == render(expected))
        #expect(render(got).contains("name: app-cfg-"))

        // A branch is not a pin.
        let branch = try site("https://git.example.com/bases.git//app?ref=main")
        do throws(Diagnostics) {
            _ = try KustomizeRender.build(directory: branch, remote: RemotePolicy(loader: loader(offline: false)))
            Issue.record("a branch ref was accepted")
        } catch {
            #expect(error.items.first?.message.contains("is not pinned: it names branch 'main'") == true)
            #expect(error.items.first?.location?.description.hasSuffix("kustomization.yaml:2:3") == true)
        }
        #expect(try KustomizeRender.build(directory: branch, remote: RemotePolicy(loader: loader(offline: false), allowUnpinned: true)).count == 2)

        // The daemon goes away: the tag pin is served from the cache in offline mode.
        stop(pidFile)
        _ = try site("https://git.example.com/bases.git//app?ref=v1.0.0")
        let offline = try KustomizeRender.build(directory: pinned, remote: RemotePolicy(loader: loader(offline: true)))
        #expect(render(offline) == render(expected))
    }
}

/// A site compile's resolver that serves `https://git.example.com/` from the test's
/// `git daemon` (the rewrite `GitRemoteBaseLoader` offers); otherwise the CLI's own resolver.
struct DaemonResolver: PatternSourceResolver, KustomizeRemoteResolver {
    let base: GitPatternResolver
    let port: Int
    func resolve(_ ref: PatternRef.GitRef) throws -> (tree: any SourceTree, directory: TreePath, provenance: Provenance, warnings: [String]) {
        try base.resolve(ref)
    }
    func kustomizeRemotes(allowUnpinned: Bool) -> RemotePolicy {
        var p = base.kustomizeRemotes(allowUnpinned: allowUnpinned)
        p.loader = GitRemoteBaseLoader(resolver: base.resolver, rewrites: [("https://git.example.com/", "git://127.0.0.1:\(port)/")])
        return p
    }
}

extension RemoteBaseCLITests {
    /// Issue 13: a pattern component that is a Kustomize directory naming a remote base
    /// compiles through `SiteCompiler` (the path of render, validate, diff, apply and the
    /// controller) with the base fetched from `git daemon`: tags pass, a branch needs the
    /// overlay's `kustomize.allowUnpinnedRemotes`, and the tag renders offline afterwards.
    @Test func siteComponentWithARemoteBaseCompiles() throws {
        let root = TemporaryDirectories.make("remote-site")
        let (_, port, pidFile) = try serve(root)
        defer { stop(pidFile) }
        func repo(_ entry: String, siteExtra: String = "") throws -> Workspace {
            let dir = root + "/repo-\(Int.random(in: 0..<1_000_000))"
            try _ = sh("""
                mkdir -p '\(dir)/patterns/p/components/app' '\(dir)/overlays/s' &&
                printf 'apiVersion: pattern.dev/v1alpha1\\nkind: Pattern\\nmetadata: {name: p}\\nspec:\\n  components:\\n  - {name: app, path: components/app}\\n' > '\(dir)/patterns/p/pattern.yaml' &&
                printf 'resources:\\n- \(entry)\\nnamespace: prod\\n' > '\(dir)/patterns/p/components/app/kustomization.yaml' &&
                printf 'apiVersion: pattern.dev/v1alpha1\\nkind: Site\\nmetadata: {name: s}\\nspec:\\n  pattern: {path: patterns/p}\\n\(siteExtra)' > '\(dir)/overlays/s/overlay.yaml'
                """)
            return Workspace(tree: LocalTree(root: dir))
        }
        let cache = SourceCache(directory: root + "/cache")
        func compiler(_ ws: Workspace, offline: Bool = false) -> SiteCompiler {
            SiteCompiler(workspace: ws, resolver: DaemonResolver(base: GitPatternResolver(resolver: SourceResolver(cache: cache, offline: offline)), port: port))
        }
        let tagged = try repo("https://git.example.com/bases.git//app?ref=v1.0.0")
        let site = try compiler(tagged).compile(site: "s")
        let names = site.objects.map { "\($0.key.kind)/\($0.key.namespace)/\($0.key.name)" }
        #expect(names.contains("Deployment/prod/app-web"), "\(names)")
        #expect(names.contains { $0.hasPrefix("ConfigMap/prod/app-cfg-") }, "\(names)")

        // Without a loader (no resolver) the same site is a located error, not a silent skip.
        do throws(Diagnostics) {
            _ = try SiteCompiler(workspace: tagged).compile(site: "s")
            Issue.record("a remote base compiled without a loader")
        } catch {
            #expect(error.items.first?.message.contains("is not fetched in this build") == true, "\(error.items)")
        }

        let branch = try repo("https://git.example.com/bases.git//app?ref=main")
        do throws(Diagnostics) {
            _ = try compiler(branch).compile(site: "s")
            Issue.record("a branch ref was accepted")
        } catch {
            #expect(error.items.first?.message.contains("is not pinned: it names branch 'main'") == true, "\(error.items)")
            #expect(error.items.first?.location?.description == "patterns/p/components/app/kustomization.yaml:2:3")
        }
        let allowed = try repo("https://git.example.com/bases.git//app?ref=main", siteExtra: "  kustomize: {allowUnpinnedRemotes: true}\\n")
        #expect(try compiler(allowed).compile(site: "s").objects.count == site.objects.count)

        // The daemon goes away: the tag is served from the cache offline, identically.
        stop(pidFile)
        let again = try compiler(tagged, offline: true).compile(site: "s")
        #expect(again.revision == site.revision)
    }
}

extension String {
    /// For embedding in a `printf` format inside single quotes.
    var replacingNewlines: String { split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\\n") }
}
