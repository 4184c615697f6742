import Testing
import PatternCore
#if canImport(Glibc)
import Glibc
#endif

/// Issue 12's proof: a corpus of hostile and broken inputs. Every case runs the real binary
/// (`render <site> --out-dir`), and asserts the exit code, the message and its
/// file:line[:column], and that nothing was written.
@Suite struct BadInputCorpusTests {
    struct Case: CustomStringConvertible {
        var name: String
        /// Component files (under patterns/p/components/c/) as bytes.
        var files: [String: [UInt8]] = [:]
        var links: [String: String] = [:]
        var siteSpec: String = ""
        var patternSpec: String = ""
        /// Text stderr must contain (message with its location).
        var expect: [String]
        var description: String { name }
    }

    static func b(_ s: String) -> [UInt8] { Array(s.utf8) }
    static let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\n"
    static let c = "patterns/p/components/c/"

    static let cases: [Case] = {
        var out: [Case] = []
        // Billion laughs: nodes.
        var laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1..<9 { laughs += "\(Character(Unicode.Scalar(97 + i)!)): &\(Character(Unicode.Scalar(97 + i)!)) [" + Array(repeating: "*\(Character(Unicode.Scalar(96 + i)!))", count: 10).joined(separator: ", ") + "]\n" }
        out.append(Case(name: "alias bomb (nodes)", files: ["m.yaml": b(laughs)], expect: ["\(c)m.yaml:", "aliases expand to more than"]))
        // One large anchored scalar, many aliases: bytes.
        var big = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\ndata:\n  k0: &blob " + String(repeating: "y", count: 1 << 20) + "\n"
        for i in 1...40 { big += "  k\(i): *blob\n" }
        out.append(Case(name: "alias bomb (bytes)", files: ["m.yaml": b(big)], expect: ["\(c)m.yaml:", "aliases expand to more than", "bytes"]))
        out.append(Case(name: "deep nesting", files: ["m.yaml": b("a: " + String(repeating: "[", count: 300) + String(repeating: "]", count: 300) + "\n")],
                        expect: ["\(c)m.yaml:1:", "nesting deeper than"]))
        out.append(Case(name: "duplicate keys", files: ["m.yaml": b(cm + "data: {}\ndata: {}\n")], expect: ["\(c)m.yaml:5:1: error: duplicate key 'data'"]))
        out.append(Case(name: "tab indentation", files: ["m.yaml": b("apiVersion: v1\nmetadata:\n\tname: a\n")], expect: ["\(c)m.yaml:3:", "tab character"]))
        out.append(Case(name: "invalid UTF-8", files: ["m.yaml": b(cm + "data: {k: \"") + [0xC3, 0x28] + b("\"}\n")], expect: ["\(c)m.yaml:4:", "invalid UTF-8"]))
        out.append(Case(name: "NUL byte", files: ["m.yaml": b(cm) + [0x00] + b("\n")], expect: ["\(c)m.yaml:4:", "control character"]))
        out.append(Case(name: "invalid JSON", files: ["m.json": b("{\"apiVersion\": \"v1\",\n  \"kind\": }\n")], expect: ["\(c)m.json:2:"]))
        out.append(Case(name: "BOM inside the stream", files: ["m.yaml": b(cm + "---\n\u{FEFF}" + cm)], expect: ["\(c)m.yaml:5:1: error: byte-order mark"]))
        out.append(Case(name: "kind that is a path", files: ["m.yaml": b("apiVersion: v1\nkind: ../../../../escaped\nmetadata: {name: a}\n")],
                        expect: ["\(c)m.yaml:2:7: error: kind '../../../../escaped'"]))
        out.append(Case(name: "namespace that is a path", files: ["m.yaml": b("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: ../..}\n")],
                        expect: ["\(c)m.yaml:3:", "namespace '../..' is not a valid DNS-1123 label"]))
        out.append(Case(name: "symlink loop", files: ["m.yaml": b(cm)], links: ["\(c)loop": "."], expect: ["\(c)loop: error: symbolic link loop"]))
        out.append(Case(name: "symlink escaping the repository", files: ["m.yaml": b(cm)], links: ["\(c)passwd.yaml": "/etc/passwd"],
                        expect: ["\(c)passwd.yaml: error:", "outside the repository"]))
        out.append(Case(name: "component path escaping the repository", files: ["m.yaml": b(cm)],
                        patternSpec: "  - {name: d, path: ../../../..}\n", expect: ["patterns/p/pattern.yaml:", "leaves the repository"]))
        out.append(Case(name: "unknown variable in a Secret", files: ["m.yaml": b("apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: default}\nstringData: {pw: \"s3cr3t-${nope}\"}\n")],
                        expect: ["\(c)m.yaml:4:", "unknown variable 'nope' in a Secret value"]))
        out.append(Case(name: "substitution bomb", files: ["m.yaml": b(cm + "data:\n" + (0..<3000).map { "  k\($0): ${blob}${blob}" }.joined(separator: "\n") + "\n")],
                        siteSpec: "  values: {blob: \"" + String(repeating: "z", count: 4096) + "\"}\n",
                        expect: ["\(c)m.yaml:", "substitution inserts more than"]))
        out.append(Case(name: "depends-on cycle", files: ["m.yaml": b("""
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: a
              namespace: default
              annotations: {config.kubernetes.io/depends-on: /namespaces/default/ConfigMap/b}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: b
              namespace: default
              annotations: {config.kubernetes.io/depends-on: /namespaces/default/ConfigMap/a}

            """)], expect: ["\(c)m.yaml:", "annotations form a cycle"]))
        out.append(Case(name: "extends of the wrong type", files: ["m.yaml": b(cm)], siteSpec: "  extends: edge\n",
                        expect: ["overlays/s/overlay.yaml:6:12: error: 'extends' in spec must be a list of strings"]))
        out.append(Case(name: "unquoted numeric ref", files: ["m.yaml": b(cm)],
                        siteSpec: "  values: {}\n", expect: []))  // replaced below (needs a git pattern)
        out.removeLast()
        return out
    }()

    @Test(arguments: cases) func badInputIsALocatedErrorAndWritesNothing(_ c: Case) throws {
        let s = InputSafetyCLITests.Scratch(InputSafetyCLITests.repo(manifests: Self.cm, siteSpec: c.siteSpec))
        defer { s.remove() }
        // The pattern file with extra components, then the case's files (replacing m.yaml).
        s.write("patterns/p/pattern.yaml", """
            apiVersion: pattern.dev/v1alpha1
            kind: Pattern
            metadata: {name: p}
            spec:
              components:
              - {name: c, path: components/c}
            \(c.patternSpec)
            """)
        unlink(s.dir + "/" + Self.c + "m.yaml")
        for (name, bytes) in c.files {
            let fd = open(s.dir + "/" + Self.c + name, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
        for (path, target) in c.links { symlink(target, s.dir + "/" + path) }
        let before = s.listing()
        let r = CLI.run(["render", "s", "-C", s.dir, "--out-dir", s.dir + "/out"])
        #expect(r.status == 1, "\(c.name): exit \(r.status)\n\(r.stderr)")
        for e in c.expect { #expect(r.stderr.contains(e), "\(c.name): missing '\(e)' in\n\(r.stderr.prefix(2000))") }
        #expect(r.stderr.contains("error:"))
        #expect(r.stdout.isEmpty)
        #expect(s.listing() == before, "\(c.name): nothing may be written")
        #expect(r.stderr.utf8.count < 64 << 10, "\(c.name): messages stay bounded")
        if c.name.contains("Secret") { #expect(!r.stderr.contains("s3cr3t")) }
    }

    @Test func hugeFilesAreRefusedBeforeParsing() {
        let s = InputSafetyCLITests.Scratch(InputSafetyCLITests.repo(manifests: Self.cm))
        defer { s.remove() }
        for name in ["huge.yaml", "huge.json"] {
            let fd = open(s.dir + "/" + Self.c + name, O_WRONLY | O_CREAT, 0o644)
            ftruncate(fd, 40 << 20)
            close(fd)
            let r = CLI.run(["render", "s", "-C", s.dir, "--out-dir", s.dir + "/out"])
            #expect(r.status == 1)
            #expect(r.stderr.contains("\(Self.c)\(name)"), "\(r.stderr)")
            #expect(r.stderr.contains("more than the limit"), "\(r.stderr)")
            #expect(!s.listing().contains("out"))
            unlink(s.dir + "/" + Self.c + name)
        }
    }
}
