import Testing
import TestSupport
import PatternCore
@testable import PatternCLI
#if canImport(Glibc)
import Glibc
#endif

/// Issue 12 through the real binary: bad input exits 1 (or 2 for bad flags) with a located
/// message, and nothing is written.
@Suite struct InputSafetyCLITests {
    static func sh(_ script: String) -> Int32 {
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(script), nil]
        defer { for a in argv { free(a) } }
        guard posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ) == 0 else { return -1 }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return (status >> 8) & 0xff
    }

    /// A temporary directory with `files` written into it; call `remove` when done.
    struct Scratch {
        let dir: String
        init(_ files: [String: String] = [:]) {
            dir = TemporaryDirectories.make("pattern-input")
            for (p, c) in files { write(p, c) }
        }
        func write(_ path: String, _ content: String) {
            let full = dir + "/" + path
            var cur = ""
            for c in full.split(separator: "/").dropLast() { cur += "/" + c; mkdir(cur, 0o755) }
            let fd = open(full, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            var bytes = Array(content.utf8)
            _ = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
        /// Every path below the directory (files and directories), sorted.
        func listing() -> [String] {
            var out: [String] = []
            func walk(_ rel: String) {
                guard let d = opendir(rel.isEmpty ? dir : dir + "/" + rel) else { return }
                defer { closedir(d) }
                while let e = readdir(d) {
                    let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                    if name == "." || name == ".." { continue }
                    let p = rel.isEmpty ? name : rel + "/" + name
                    out.append(p)
                    if e.pointee.d_type == UInt8(DT_DIR) { walk(p) }
                }
            }
            walk("")
            return out.sorted()
        }
        func remove() { _ = InputSafetyCLITests.sh("rm -rf '\(dir)'") }
    }

    static func repo(manifests: String, siteSpec: String = "", extra: [String: String] = [:]) -> [String: String] {
        var files = [
            "patterns/p/pattern.yaml": """
                apiVersion: pattern.dev/v1alpha1
                kind: Pattern
                metadata: {name: p}
                spec:
                  components:
                  - {name: c, path: components/c}

                """,
            "patterns/p/components/c/m.yaml": manifests,
            "overlays/s/overlay.yaml": """
                apiVersion: pattern.dev/v1alpha1
                kind: Site
                metadata: {name: s}
                spec:
                  pattern: {path: patterns/p}
                \(siteSpec)
                """,
        ]
        for (k, v) in extra { files[k] = v }
        return files
    }

    static let configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\ndata: {k: v}\n"

    @Test func commitToRefusesInvalidBranchNamesBeforeTouchingTheRepository() {
        let s = Scratch(Self.repo(manifests: Self.configMap))
        defer { s.remove() }
        #expect(Self.sh("cd '\(s.dir)' && git init -q -b main && git add -A && git -c user.email=t@e -c user.name=t commit -qm init") == 0)
        let before = s.listing().filter { $0.hasPrefix(".git/refs") }
        for name in ["bad..name", "a b", "x.lock", "", "HEAD", "-x", "a/.b", "a:b", "end/"] {
            let r = CLI.run(["render", "s", "-C", s.dir, "--commit-to", name])
            #expect(r.status == 2, "'\(name)': \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("--commit-to"), "'\(name)': \(r.stderr)")
        }
        #expect(s.listing().filter { $0.hasPrefix(".git/refs") } == before)
        // A valid name still works.
        let ok = CLI.run(["render", "s", "-C", s.dir, "--commit-to", "env/rendered"])
        #expect(ok.status == 0, "\(ok.stderr)")
    }

    @Test func hydrationCommitsRecordTheRenderedCommitAndDirtiness() {
        let s = Scratch(Self.repo(manifests: Self.configMap))
        defer { s.remove() }
        #expect(Self.sh("cd '\(s.dir)' && git init -q -b main && git add -A && git -c user.email=t@e -c user.name=t commit -qm init") == 0)
        let r = CLI.run(["render", "s", "-C", s.dir, "--commit-to", "rendered"])
        #expect(r.status == 0, "\(r.stderr)")
        let head = shell("cd '\(s.dir)' && git rev-parse main")
        let msg = shell("cd '\(s.dir)' && git log -1 --format=%B rendered")
        #expect(head.count == 40)
        #expect(msg.contains("Source-Commit: \(head)"), "\(msg)")
        #expect(msg.contains("Site-Source: s "), "\(msg)")
        #expect(!msg.contains("Source: .\n"))
        #expect(!msg.contains("Source-Dirty"))
        // An uncommitted edit that changes the output is marked as such.
        s.write("patterns/p/components/c/m.yaml", Self.configMap.replacingName("b"))
        let dirty = CLI.run(["render", "s", "-C", s.dir, "--commit-to", "rendered"])
        #expect(dirty.status == 0, "\(dirty.stderr)")
        let msg2 = shell("cd '\(s.dir)' && git log -1 --format=%B rendered")
        #expect(msg2.contains("Source-Dirty: true"), "\(msg2)")
        #expect(msg2.contains("(dirty)"))
    }

    func shell(_ script: String) -> String {
        let out = "/tmp/pattern-input-sh-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(out) }
        _ = Self.sh(script + " > '\(out)'")
        return ((try? LocalTree(root: "/tmp").read(TreePath(String(out.dropFirst(5))))) .map { String(decoding: $0, as: UTF8.self) } ?? "")
            .split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n").trimmingTrailingNewlines()
    }

    @Test func outDirCannotBeEscapedByAnObjectsKind() {
        let bad = "apiVersion: v1\nkind: ../../../../escaped\nmetadata: {name: a}\n"
        let s = Scratch(Self.repo(manifests: bad))
        defer { s.remove() }
        let before = s.listing()
        let r = CLI.run(["render", "s", "-C", s.dir, "--out-dir", s.dir + "/out/deep"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("patterns/p/components/c/m.yaml:2:7: error: kind '../../../../escaped' is not a valid Kubernetes kind"), "\(r.stderr)")
        #expect(r.stderr.contains("fix:"))
        #expect(s.listing() == before, "nothing may be written")
    }

    @Test func outDirPathsStayBelowTheDirectoryWhateverTheKey() {
        for key in [ObjectKey(group: "", kind: "../../../x", namespace: "..", name: "../../y"),
                    ObjectKey(group: "../..", kind: ".", namespace: "", name: ".."),
                    ObjectKey(group: "", kind: "Role", namespace: "a/b", name: "system:x/y")] {
            let p = Renderer.relativePath(key, ext: "yaml")
            let parts = p.split(separator: "/", omittingEmptySubsequences: false)
            #expect(parts.count == 2, "\(p)")
            #expect(!parts.contains { $0.isEmpty || $0 == "." || $0 == ".." }, "\(p)")
            #expect(!p.hasPrefix("/"))
        }
        #expect(Renderer.relativePath(ObjectKey(group: "apps", kind: "Deployment", namespace: "web", name: "api"), ext: "yaml")
                == "web/deployment.apps-api.yaml")
    }

    @Test func outDirRefusesASymlinkThatLeavesIt() {
        let s = Scratch(Self.repo(manifests: Self.configMap))
        defer { s.remove() }
        mkdir(s.dir + "/out", 0o755)
        mkdir(s.dir + "/elsewhere", 0o755)
        symlink(s.dir + "/elsewhere", s.dir + "/out/s")
        let r = CLI.run(["render", "s", "-C", s.dir, "--out-dir", s.dir + "/out"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("symlink that leaves"), "\(r.stderr)")
        #expect(!s.listing().contains { $0.hasPrefix("elsewhere/") })
    }

    @Test func kustomizeDirectoriesCannotReadFilesOutsideTheirRootByDefault() {
        let s = Scratch([
            "secret.txt": "do-not-leak\n",
            "app/kustomization.yaml": "configMapGenerator:\n- name: g\n  files: [../secret.txt]\n",
            "app2/kustomization.yaml": "resources: [../base/cm.yaml]\n",
            "base/cm.yaml": Self.configMap,
        ])
        defer { s.remove() }
        // Absolute path: the tree must not become `/`.
        let r = CLI.run(["render", s.dir + "/app"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("security; file '\(s.dir)/secret.txt' is not in or below '\(s.dir)/app'"), "\(r.stderr)")
        #expect(r.stderr.contains("app/kustomization.yaml:3:"), "\(r.stderr)")
        #expect(!r.stdout.contains("do-not-leak"))
        #expect(r.stdout.isEmpty)
        let r2 = CLI.run(["render", "./app2"], cwd: s.dir)
        #expect(r2.status == 1)
        #expect(r2.stderr.contains("security; file 'base/cm.yaml' is not in or below 'app2'"), "\(r2.stderr)")
        // The explicit opt-out, spelled as kubectl spells it.
        let none = CLI.run(["render", s.dir + "/app", "--load-restrictor", "LoadRestrictionsNone"])
        #expect(none.status == 0, "\(none.stderr)")
        #expect(none.stdout.contains("do-not-leak"))
        #expect(CLI.run(["render", s.dir + "/app", "--load-restrictor", "bogus"]).status == 2)
    }

    @Test func validateAllWithNoSitesFails() {
        let s = Scratch(["README.md": "not a pattern repo\n"])
        defer { s.remove() }
        let r = CLI.run(["validate", "--all", "-C", s.dir])
        #expect(r.status == 1)
        #expect(r.stderr.contains("no sites found"))
    }

    @Test func renderingASiteWithoutOverlaysSaysSo() {
        let s = Scratch(["README.md": "x\n"])
        defer { s.remove() }
        let r = CLI.run(["render", "hub", "-C", s.dir])
        #expect(r.status == 1)
        #expect(r.stderr.contains("no overlay named 'hub'"))
        #expect(r.stderr.contains("has no overlays/ directory"), "\(r.stderr)")
        #expect(!r.stderr.contains("known overlays: \n"))
    }

    @Test func aLeadingByteOrderMarkIsAcceptedAndOneInsideTheStreamIsLocated() {
        let bom = "\u{FEFF}"
        var files = Self.repo(manifests: bom + Self.configMap)
        files["overlays/s/overlay.yaml"] = bom + files["overlays/s/overlay.yaml"]!
        files["patterns/p/components/c/j.json"] = bom + #"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j", "namespace": "default"}}"#
        let s = Scratch(files)
        defer { s.remove() }
        let r = CLI.run(["render", "s", "-C", s.dir])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("name: j"))
        s.write("patterns/p/components/c/m.yaml", Self.configMap + "---\n" + bom + Self.configMap.replacingName("b"))
        let bad = CLI.run(["render", "s", "-C", s.dir])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("patterns/p/components/c/m.yaml:6:1: error: byte-order mark"), "\(bad.stderr)")
    }

    @Test func unquotedNumericRefIsRefusedWithAFix() {
        let s = Scratch(Self.repo(manifests: Self.configMap))
        defer { s.remove() }
        s.write("overlays/s/overlay.yaml", """
            apiVersion: pattern.dev/v1alpha1
            kind: Site
            metadata: {name: s}
            spec:
              pattern:
                git: {url: "file:///nonexistent", ref: 1.10, path: p}

            """)
        let r = CLI.run(["render", "s", "-C", s.dir, "--cache-dir", s.dir + "/cache"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("overlays/s/overlay.yaml:6:"), "\(r.stderr)")
        #expect(r.stderr.contains("'ref' in pattern.git must be a string"))
        #expect(r.stderr.contains("quote the ref"))
        #expect(!s.listing().contains("cache"), "no fetch happens for an invalid file")
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var s = self
        while s.hasSuffix("\n") { s.removeLast() }
        return s
    }

    func replacingName(_ n: String) -> String {
        var out = self
        if let r = out.range(of: "name: a") { out.replaceSubrange(r, with: "name: " + n) }
        return out
    }
}
