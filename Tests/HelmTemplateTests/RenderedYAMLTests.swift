import PatternCore
import Testing
@testable import HelmTemplate

/// `RenderedYAML` reads the rendered subset exactly as `YAMLParser` does (values, marks, key
/// marks, key order, `quoted`), and hands everything else back to it.
@Suite struct RenderedYAMLTests {
    /// Structural equality that also compares what `Value.==` ignores.
    static func same(_ a: Value, _ b: Value) -> Bool {
        guard a.mark == b.mark, a.quoted == b.quoted else { return false }
        switch (a.kind, b.kind) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.double(x), .double(y)): return x == y || (x.isNaN && y.isNaN)
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case let (.object(x), .object(y)):
            guard x.keys == y.keys else { return false }
            for (k, v) in x {
                guard x.keyMark(k) == y.keyMark(k), let w = y[k], same(v, w) else { return false }
            }
            return true
        default: return false
        }
    }

    /// The reference: YAMLParser's non-null documents with their marks (nil when it fails).
    static func reference(_ text: String) -> [(value: Value, mark: Mark)]? {
        guard let docs = try? YAMLParser.parseStream(text, file: "t.yaml") else { return nil }
        return docs.filter { !$0.value.isNull }.map { ($0.value, $0.mark) }
    }

    /// Fast result is nil, or exactly the reference.
    static func agrees(_ text: String) -> Bool {
        guard let fast = RenderedYAML.documents(text) else { return true }
        guard let ref = reference(text), ref.count == fast.count else { return false }
        return zip(fast, ref).allSatisfy { $0.mark == $1.mark && same($0.value, $1.value) }
    }

    static let supported: [String] = [
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels:\n    app.kubernetes.io/name: web\ndata:\n  k: v\n",
        "\n\n# Source: x/templates/a.yaml\napiVersion: v1\nkind: Service\nspec:\n  ports:\n  - name: http\n    port: 80\n    targetPort: http\n  - name: m\n    port: 9090\n",
        "---\n# Source: a\napiVersion: v1\nkind: A\n---\n---\n# only a comment\n---\napiVersion: v1\nkind: B\n",
        "a:\n  - 1\n  - two\n  - \"3\"\n  - 'it''s'\n  - ''\n  - \"\"\nb: x\n",
        "a:\n- x\n- y\nb:\n  c:\n  - d: 1\n    e: 2\n  -   f: 3\n      g: [] # c\n  h: {}\n",
        "empty:\nnext: 1\nlast:\n",
        "nums: [  ]\n".replacingOccurrences(of: "[  ]", with: "[]") + "i: 10\nf: 1.5\nh: 0x1F\no: 0o17\ne: 1e3\nn: -7\nz: 012\nt: true\nF: False\nnul: null\ntilde: ~\ny: yes\non: on\n",
        "image: \"nginx:1.25\"\ncmd: run --flag=a:b\nurl: http://x.example.com:8080/p?q=1#frag\nhash: a#b\nsp: a b  c   \ncomment: v # trailing\n",
        "\"quoted key\": 1\n'single': 2\nplain key with spaces: 3\nkey_with-dash.and/slash: 4\n",
        "a:\n  b:\n    c:\n      d:\n        e: deep\n  f: g\n",
        "a: 1\n\n\n   # indented comment\nb: 2\n# end\n",
        "list:\n- a: 1\n  nested:\n  - x\n  - y\n- b: 2\nafter: z\n",
        "date: 2024-01-02\nver: 1.16.0\nmem: 128Mi\ncpu: 500m\nneg: -.inf\ndot: .5\n",
        "k: v\n---\nk: w\n...\n".replacingOccurrences(of: "...\n", with: ""),
        "a: '#not a comment'\nb: \"x # y\"\nc: '  spaces  '\n",
    ]

    static let unsupported: [String] = [
        "a: |\n  text\n", "a: >-\n  folded\n", "a: {b: 1}\n", "a: [1, 2]\n", "a: plain\n  continued\n", "a: \"esc\\n\"\n",
        "a: \"multi\n  line\"\n", "a: &x 1\nb: *x\n", "a: !!str 1\n", "<<: {a: 1}\n", "%YAML 1.2\n---\na: 1\n", "a: 1\n...\n",
        "- a\n- b\n", "just a scalar\n", "a:\n- - x\n", "a:\n-\n  b: 1\n", "a:\tb\n", "a: b\r\n", "a: é\n", "a: 1\na: 2\n",
        "a: b: c\n", "  indented: top\n", "a: 1\n  b: 2\n", "a:\n  - x\n  b: y\n", "? complex\n: v\n", "a: @x\n", "a: `x\n",
        "--- inline\n", "a: \"x\" y\n", "a: {}x\n", "\u{FEFF}a: 1\n", "a: 'open\n",
    ]

    @Test func supportedTextsReadExactlyAsYAMLParser() throws {
        for text in Self.supported {
            let fast = try #require(RenderedYAML.documents(text), "fast path refused: \(text)")
            let ref = try #require(Self.reference(text))
            #expect(fast.count == ref.count, "\(text)")
            for (f, r) in zip(fast, ref) {
                #expect(f.mark == r.mark, "document mark of \(text)")
                #expect(Self.same(f.value, r.value), "value of \(text)")
            }
        }
    }

    @Test func otherTextsFallBack() {
        for text in Self.unsupported {
            #expect(RenderedYAML.documents(text) == nil, "\(text)")
        }
    }

    @Test func emptyAndCommentOnlyTextsHaveNoDocuments() throws {
        for text in ["", "\n\n", "# c\n", "---\n", "---\n# c\n---\n", "   \n  # x\n"] {
            let fast = try #require(RenderedYAML.documents(text))
            #expect(fast.isEmpty, "\(text)")
            #expect(Self.reference(text)?.isEmpty == true)
        }
    }

    /// Every string of the emitter's quoting table, emitted as a value, a key and a list item:
    /// the fast reader either reads it as YAMLParser does or hands it back.
    @Test func emittedValuesAgree() {
        let emitter = YAMLEmitter(options: .init(sortKeys: true))
        var read = 0
        for s in FastPathTests.strings {
            var inner = Object()
            inner.append(s, .string(s))
            inner.append("list", .array([.string(s), .object(inner)]))
            var o = Object()
            o.append("root", .object(inner))
            o.append("value", .string(s))
            let text = emitter.emit(.object(o))
            #expect(Self.agrees(text), "\(text)")
            if RenderedYAML.documents(text) != nil { read += 1 }
        }
        // Most of them are in the subset (the test would prove nothing if all fell back).
        #expect(read > FastPathTests.strings.count / 2)
    }

    @Test func depthBeyondTheLimitFallsBack() {
        var text = ""
        for d in 0..<10 { text += String(repeating: " ", count: d * 2) + "k\(d):\n" }
        text += String(repeating: " ", count: 20) + "leaf: 1\n"
        #expect(RenderedYAML.documents(text, limits: YAMLLimits(maxDepth: 6)) == nil)
        #expect(RenderedYAML.documents(text) != nil)
        #expect(Self.agrees(text))
    }
}
