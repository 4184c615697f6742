import Testing
import PatternCore
@testable import PatternCompile
#if canImport(Glibc)
import Glibc
#endif

/// Issue 12: hostile or broken inputs get a located error, never a crash, an escape or a
/// silent substitution.
@Suite struct InputSafetyTests {
    /// Compiles `site` in a fresh repository made of `files` (plus `links`: path → symlink
    /// target), removing the directory afterwards.
    func compile(_ files: [String: String], links: [String: String] = [:], site: String = "s") -> (RenderedSite?, [Diagnostic]) {
        let dir = temporaryRepo(files)
        defer { removeTree(dir) }
        for (path, target) in links { symlink(target, dir + "/" + path) }
        do {
            return (try SiteCompiler(workspace: Workspace(tree: LocalTree(root: dir))).compile(site: site), [])
        } catch {
            return (nil, error.items)
        }
    }

    static let configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\ndata: {k: v}\n"

    @Test func directorySymlinkLoopInAComponentIsALocatedError() {
        for target in [".", "../..", "../c"] {
            let (site, errors) = compile(miniRepo(manifests: Self.configMap), links: ["patterns/p/components/c/loop": target])
            #expect(site == nil, "target \(target)")
            let e = errors.first { $0.message.contains("symbolic link loop") }
            #expect(e != nil, "target \(target): \(errors)")
            #expect(e?.location?.file == "patterns/p/components/c/loop")
            #expect(e?.fix != nil)
        }
    }

    @Test func symlinkToASiblingDirectoryIsNotALoop() {
        var files = miniRepo(manifests: Self.configMap)
        files["patterns/p/shared/b.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: default}\n"
        let (site, errors) = compile(files, links: ["patterns/p/components/c/shared": "../../shared"])
        #expect(errors.isEmpty, "\(errors)")
        #expect(site?.objects.map(\.key.name).sorted() == ["a", "b"])
    }

    @Test func substitutionOutputIsBoundedPerObject() {
        // 3,000 references to a 1 MiB value would insert ~3 GiB.
        let refs = (0..<3000).map { "  k\($0): x${blob}" }.joined(separator: "\n")
        let manifests = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\ndata:\n" + refs + "\n"
        var files = miniRepo(manifests: manifests, values: "{}")
        files["overlays/s/values.yaml"] = "blob: " + String(repeating: "x", count: 1 << 20) + "\n"
        files["overlays/s/overlay.yaml"]! += "  valueFiles: [values.yaml]\n"
        let (site, errors) = compile(files)
        #expect(site == nil)
        #expect(errors.contains { $0.message.contains("substitution inserts more than") && $0.location?.mark.line ?? 0 > 0 }, "\(errors.prefix(2))")
        #expect(errors.count < 10, "one error per object, not one per reference")
    }

    @Test func secretValuesNeverReachSubstitutionErrors() {
        let secret = """
            apiVersion: v1
            kind: Secret
            metadata: {name: s, namespace: default}
            stringData:
              password: hunter2-${missing}-topsecret
              other: "p@ss ${bad name} word"
            """
        let (site, errors) = compile(miniRepo(manifests: secret))
        #expect(site == nil)
        #expect(errors.count == 2, "\(errors)")
        let text = errors.map(\.description).joined(separator: "\n")
        #expect(text.contains("unknown variable 'missing'"))
        #expect(!text.contains("hunter2"))
        #expect(!text.contains("topsecret"))
        #expect(!text.contains("p@ss"))
        #expect(errors.allSatisfy { $0.location?.mark.line ?? 0 > 0 })
    }

    @Test func kindsAndAPIVersionsThatCannotBePathsAreRefused() {
        let bad = "apiVersion: v1\nkind: ../../../../escaped\nmetadata: {name: a}\n---\napiVersion: ../x/v1\nkind: Thing\nmetadata: {name: b}\n"
        let (site, errors) = compile(miniRepo(manifests: bad))
        #expect(site == nil)
        #expect(errors.contains { $0.message.contains("kind '../../../../escaped' is not a valid Kubernetes kind") && $0.location?.mark.line == 2 })
        #expect(errors.contains { $0.message.contains("apiVersion '../x/v1'") && $0.location?.mark.line == 5 })
    }
}

func removeTree(_ path: String) {
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/rm"), strdup("-rf"), strdup(path), nil]
    defer { for a in argv { free(a) } }
    var pid: pid_t = 0
    if posix_spawn(&pid, "/bin/rm", nil, nil, argv, environ) == 0 { var st: Int32 = 0; waitpid(pid, &st, 0) }
}
