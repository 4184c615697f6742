import PatternCore
import Testing
@testable import HelmTemplate

/// The fast paths added for execution speed give exactly what the general code gives.
@Suite struct FastPathTests {
    /// Strings that exercise every quoting rule of the YAML emitter.
    static let strings: [String] = [
        "", "a", "web", "nginx", "IfNotPresent", "ALL", "http", "TCP", "yes", "Yes", "YES", "y", "Y", "n", "N", "no", "NO",
        "on", "On", "off", "OFF", "true", "True", "false", "FALSE", "null", "Null", "NULL", "~", "<<", "=", "o", "t", "f",
        "yess", "nope", "offset", "trueish", "100m", "128Mi", "/", "/healthz", "1.16.0", "0.1.0", "1", "-1", "+1", "1e3", "0x1F",
        "0o17", "0b101", "012", "1_000", ".inf", "-.Inf", ".nan", "NaN", "inf", "Infinity", "2001-12-14", "2001-12-14t21:59:43.10-05:00",
        "190:20:30", "1:20.5", "a b", "a  b", " lead", "trail ", "x: y", "key:", "a:b", "-dash", "- item", "? q", "#c", "a #c",
        "@at", "`tick", "'quote", "it's", "\"dq\"", "back\\slash", "line\nbreak", "trailing\n", "two\n\n", "tab\there", "cr\r",
        "é", "naïve", "😀", "nul\u{0}", "---", "...", "---x", "[a]", "{a}", "*alias", "&anchor", "!tag", "%pct", "|pipe", ">gt",
        "registry.example.com/team/app:1.2.3", "app.kubernetes.io/name", "a@b.c", "a_b", "a-b-", "a.",
        String(repeating: "word ", count: 30), "a " + String(repeating: "x", count: 90) + " b",
    ]

    static func sample() -> [TemplateValue] {
        var out: [TemplateValue] = []
        for s in strings {
            out.append(.string(s))
            out.append(.dict([s: .string(s)]))
            out.append(.list([.string(s), .dict(["k": .string(s), "nested": .list([.string(s)])])]))
        }
        let numbers: [TemplateValue] = [
            .int(0), .int(-7), .int(Int.max), .int64(42), .float64(0), .float64(-0.0), .float64(1000), .float64(0.25), .float64(-2.5),
            .float64(1e14), .float64(1e15), .float64(123456789012345678), .float64(1e21), .float64(1e-7), .float64(.nan),
            .float64(.infinity), .bool(true), .bool(false), .null,
        ]
        out += numbers
        out.append(.list(numbers))
        out.append(.dict(["n": .list(numbers), "e": .dict([:]), "l": .list([]), "ll": .list([.list([.int(1), .list([])]), .dict([:])])]))
        out += [.dict([:]), .list([]), .list([.list([.list(["deep"])])])]
        let cyclic = TemplateMap(["a": 1])
        cyclic["self"] = .map(cyclic)
        out.append(.map(cyclic))
        return out
    }

    @Test func fastToYamlWritesWhatTheGeneralPathWrites() {
        for v in FastPathTests.sample() {
            // Twice: the second time the scalar-style cache answers.
            for _ in 0..<2 {
                if let fast = FastYAML.toYAML(v) {
                    #expect(fast == TemplateCodecs.toYAMLGeneral(v), "value: \(v)")
                }
                #expect(TemplateCodecs.toYAML(v) == TemplateCodecs.toYAMLGeneral(v), "value: \(v)")
            }
        }
    }

    @Test func fastToYamlCoversHelmCreateValues() throws {
        let values = TemplateValue(helmValues: try YAMLParser.parse("""
            image: {repository: nginx, pullPolicy: IfNotPresent, tag: ""}
            securityContext: {capabilities: {drop: [ALL]}, readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 1000}
            resources: {limits: {cpu: 100m, memory: 128Mi}, requests: {cpu: 100m, memory: 128Mi}}
            livenessProbe: {httpGet: {path: /, port: http}}
            tolerations: [{key: dedicated, operator: Equal, value: web, effect: NoSchedule}]
            ratio: 0.5
            """))
        let fast = try #require(FastYAML.toYAML(values))
        #expect(fast == TemplateCodecs.toYAMLGeneral(values))
        #expect(fast.contains("cpu: 100m\n") && fast.contains("tag: \"\"\n") && fast.contains("runAsUser: 1000\n"))
    }

    @Test func indentWritesWhatReplaceAllWrites() throws {
        for s in ["", "a", "a\n", "\n", "\n\n", "a\nb\nc", "é\n😀", "x\r\ny"] {
            for n in [-3, 0, 1, 4, 8] {
                let pad = String(repeating: " ", count: max(n, 0))
                let expected = pad + Sprig.replaceAll(s, "\n", "\n" + pad)
                #expect(Sprig.indent(n, s) == expected)
                #expect(try Sprig.indentChecked(n, s, newlineFirst: true) == "\n" + expected)
            }
        }
    }

    @Test func functionsChangedAfterTheRendererWasMadeAreCalled() throws {
        var set = TemplateSet()
        try set.parse(name: "t", text: "{{ upper \"a\" }}")
        var renderer = TemplateRenderer(templates: set)
        #expect(try renderer.execute("t", data: .null) == "A")
        renderer.functions["upper"] = TemplateFunction(params: [.string]) { c in .string("up:" + (c.args[0].stringValue ?? "")) }
        #expect(try renderer.execute("t", data: .null) == "up:a")
        renderer.functions = .helm
        #expect(try renderer.execute("t", data: .null) == "A")
    }

    @Test func aCustomFunctionMapIsIndexedOnItsOwn() throws {
        var functions = FunctionMap.helm
        functions["upper"] = nil
        functions["shout"] = TemplateFunction(params: [.string]) { c in .string((c.args[0].stringValue ?? "") + "!") }
        #expect(try render("{{ shout \"hi\" }}", functions: functions) == "hi!")
        var set = TemplateSet()
        try set.parse(name: "t", text: "{{ upper \"a\" }}")
        do {
            _ = try TemplateRenderer(templates: set, functions: functions).execute("t", data: .null)
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("\"upper\" is not a defined function"))
        }
    }

    @Test func includeLimitCountsPerName() throws {
        // A chain of distinct names deeper than the limit renders: the limit is per name.
        var set = TemplateSet()
        var text = ""
        for i in 0..<8 { text += "{{ define \"d\(i)\" }}\(i){{ include \"d\(i + 1)\" . }}{{ end }}" }
        text += "{{ define \"d8\" }}end{{ end }}{{ include \"d0\" . }}"
        try set.parse(name: "t", text: text)
        let options = RenderOptions(maxIncludeDepth: 3)
        #expect(try TemplateRenderer(templates: set, options: options).execute("t", data: .null) == "01234567end")
        // Mutual recursion stops at the first name included more than the limit.
        var loop = TemplateSet()
        try loop.parse(name: "t", text: "{{ define \"a\" }}{{ include \"b\" . }}{{ end }}{{ define \"b\" }}{{ include \"a\" . }}{{ end }}{{ include \"a\" . }}")
        do {
            _ = try TemplateRenderer(templates: loop, options: options).execute("t", data: .null)
            Issue.record("expected an error")
        } catch {
            #expect(error.message.hasSuffix("rendering template has a nested reference name: a: unable to execute template"))
            #expect(error.kind == .limit)
        }
    }
}
