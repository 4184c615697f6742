import Testing
import PatternCore
@testable import Helm

@Suite struct ValuesTests {
    func tree() throws -> Chart {
        try chart([
            chartYAML("parent", extra: "dependencies:\n- {name: child, version: 1.0.0}\n"),
            file("values.yaml", "a: 1\nkeep: {x: 1, y: 2}\nglobal: {region: eu, db: {host: p}}\nchild: {name: from-parent}\n"),
            file("charts/child/Chart.yaml", "apiVersion: v2\nname: child\nversion: 1.0.0\n"),
            file("charts/child/values.yaml", "name: default\nport: 80\nglobal: {db: {port: 5432, host: c}}\n"),
        ])
    }

    @Test func parentOverridesSubchartAndGlobalsFlowDown() throws {
        var w = HelmValues.Warnings()
        let v = HelmValues.coalesce(try tree(), yaml("keep: {y: null}\n"), warnings: &w)
        #expect(v["a"] == 1)
        #expect(v[path: ["keep"]] == ["x": 1])                           // null deletes a default
        #expect(v[path: ["child", "name"]] == "from-parent")              // parent wins over child default
        #expect(v[path: ["child", "port"]] == 80)
        // global flows into the subchart and merges; the parent's global wins.
        #expect(v[path: ["child", "global", "region"]] == "eu")
        #expect(v[path: ["child", "global", "db"]] == ["host": "p", "port": 5432])
    }

    @Test func nullWithoutADefaultStays() throws {
        var w = HelmValues.Warnings()
        let v = HelmValues.coalesce(try tree(), yaml("extra: null\n"), warnings: &w)
        #expect(v.object?.contains("extra") == true)
        #expect(v["extra"]?.isNull == true)
    }

    /// The type-conflict warnings say what Helm's `coalesceTablesFullKey` prints after
    /// `warning: ` (our diagnostics add that): the full key, then the ignored value as Go's `%v`
    /// prints it (values files decode numbers as float64, maps print sorted as `map[k:v]`).
    @Test func coalesceWarningsSayWhatHelmSays() throws {
        let cases: [(defaults: String, given: String, warning: String)] = [
            ("m: {a: 1, b: two}", "m: 5", "cannot overwrite table with non table for t.conf.m (map[a:1 b:two])"),
            ("m: {b: [x, {k: v}], a: null}", "m: false", "cannot overwrite table with non table for t.conf.m (map[a:<nil> b:[x map[k:v]]])"),
            ("m: {}", "m: x", "cannot overwrite table with non table for t.conf.m (map[])"),
            ("l: [1, 2]", "l: {x: 1}", "destination for t.conf.l is a table. Ignoring non-table value ([1 2])"),
            ("s: hello world", "s: {x: 1}", "destination for t.conf.s is a table. Ignoring non-table value (hello world)"),
            ("s: ''", "s: {x: 1}", "destination for t.conf.s is a table. Ignoring non-table value ()"),
            ("n: 1000000", "n: {x: 1}", "destination for t.conf.n is a table. Ignoring non-table value (1e+06)"),
            ("n: 8080", "n: {x: 1}", "destination for t.conf.n is a table. Ignoring non-table value (8080)"),
            ("f: 1.5", "f: {x: 1}", "destination for t.conf.f is a table. Ignoring non-table value (1.5)"),
            ("b: true", "b: {x: 1}", "destination for t.conf.b is a table. Ignoring non-table value (true)"),
        ]
        for (defaults, given, warning) in cases {
            let c = try chart([chartYAML("t"), file("values.yaml", "conf: {\(defaults)}\n")])
            var w = HelmValues.Warnings()
            _ = HelmValues.coalesce(c, yaml("conf: {\(given)}\n"), warnings: &w)
            #expect(w.items == [warning], "defaults {\(defaults)}, given {\(given)}")
        }
    }

    /// The globals warnings of Helm's `coalesceGlobals`, in its words (`%q` of the key).
    @Test func globalsWarningsSayWhatHelmSays() throws {
        let cases: [(values: String, warning: String)] = [
            ("global: {db: {host: p}}\nchild: {global: {db: 5}}", "Conflict: cannot merge map onto non-map for \"db\". Skipping."),
            ("global: {x: 1}\nchild: {global: {x: {a: 1}}}", "key x is table. Skipping"),
            ("global: {x: 1}\nchild: {global: 5}", "skipping globals because destination global is not a table."),
            ("global: 5", "skipping globals because source global is not a table."),
        ]
        for (values, warning) in cases {
            let c = try chart([chartYAML("t", extra: "dependencies:\n- {name: child, version: 1.0.0}\n"),
                               file("charts/child/Chart.yaml", "apiVersion: v2\nname: child\nversion: 1.0.0\n")])
            var w = HelmValues.Warnings()
            _ = HelmValues.coalesce(c, yaml(values + "\n"), warnings: &w)
            #expect(w.items == [warning], "\(values)")
        }
    }

    @Test func aSubchartsValuesThatAreNotAMapFailTheRenderInHelmsWords() throws {
        // Helm: fmt.Errorf("type mismatch on %s: %t", name, value): an error, not a warning.
        let cases: [(values: String, message: String)] = [
            ("child: x", "type mismatch on child: %!t(string=x)"),
            ("child: 5", "type mismatch on child: %!t(float64=5)"),
            ("child: true", "type mismatch on child: true"),
            ("child: [a, b]", "type mismatch on child: [%!t(string=a) %!t(string=b)]"),
        ]
        for (values, message) in cases {
            let c = try chart([chartYAML("t", extra: "dependencies:\n- {name: child, version: 1.0.0}\n"),
                               file("charts/child/Chart.yaml", "apiVersion: v2\nname: child\nversion: 1.0.0\n"),
                               file("templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")])
            var w = HelmValues.Warnings()
            _ = HelmValues.coalesce(c, yaml(values + "\n"), warnings: &w)
            #expect(w.errors == [message], "\(values)")
            #expect(w.items.isEmpty, "\(values)")
            // `helm template` fails: so does the render, with the message and the values file.
            let request = ChartRenderRequest(chart: c, values: [ValueLayer(file: "user.yaml", value: yaml(values + "\n"))], release: ReleaseOptions(name: "r"))
            #expect(throws: ChartError.self) { try ChartRenderer().render(request) }
            do { _ = try ChartRenderer().render(request) } catch {
                #expect(error.diagnostics.first?.message == message, "\(values)")
            }
        }
    }

    @Test func yaml11BooleansAsHelmReadsThem() {
        let v = yaml("a: yes\nb: off\nc: 'yes'\nd: y\n")
        #expect(v["a"] == true && v["b"] == false && v["c"] == "yes" && v["d"] == true)
    }

    func depChart(_ deps: String, values: String = "", subs: [String] = ["a", "b", "c"]) throws -> Chart {
        var files = [chartYAML("top", extra: "dependencies:\n" + deps), file("values.yaml", values)]
        for s in subs {
            files.append(file("charts/\(s)/Chart.yaml", "apiVersion: v2\nname: \(s)\nversion: 1.0.0\n"))
            files.append(file("charts/\(s)/values.yaml", "enabled: true\nexports: {data: {fromExport: \(s)}}\nconf: {x: \(s)}\n"))
        }
        return try chart(files)
    }

    @Test func conditionsTagsAndAliases() throws {
        var c = try depChart("""
            - {name: a, version: 1.0.0, condition: "a.on,a.enabled", tags: [front]}
            - {name: b, version: 1.0.0, tags: [back]}
            - {name: c, version: 1.0.0, alias: cee, condition: cee.enabled}
            """, values: "tags: {back: false}\na: {on: notabool}\n")
        let warnings = try DependencyProcessor.process(&c, values: yaml("cee: {enabled: false}\n"))
        // a: first condition is not a bool (warning), second resolves true; b: tag false; c (alias cee): condition false.
        #expect(c.dependencies.map(\.name) == ["a"])
        #expect(warnings.contains { $0.message.contains("non-bool") })
    }

    @Test func aliasRenamesTheSubchartAndItsValues() throws {
        var c = try depChart("- {name: a, version: 1.0.0, alias: first}\n- {name: a, version: 1.0.0, alias: second}\n", subs: ["a"])
        _ = try DependencyProcessor.process(&c, values: .emptyObject)
        #expect(c.dependencies.map(\.name) == ["first", "second"])
        var w = HelmValues.Warnings()
        let v = HelmValues.coalesce(c, yaml("second: {conf: {x: set}}\n"), warnings: &w)
        #expect(v[path: ["first", "conf", "x"]] == "a")
        #expect(v[path: ["second", "conf", "x"]] == "set")
    }

    @Test func importValuesBothFormsWithParentPrecedence() throws {
        var c = try depChart("""
            - name: a
              version: 1.0.0
              import-values: [data]
            - name: b
              version: 1.0.0
              import-values: [{child: conf, parent: imported.b}]
            """, values: "fromExport: parent-wins\n", subs: ["a", "b"])
        _ = try DependencyProcessor.process(&c, values: .emptyObject)
        #expect(c.values["fromExport"] == "parent-wins")          // parent values beat imports
        #expect(c.values[path: ["imported", "b", "x"]] == "b")     // child/parent form
        var c2 = try depChart("- {name: a, version: 1.0.0, import-values: [data]}\n", subs: ["a"])
        _ = try DependencyProcessor.process(&c2, values: .emptyObject)
        #expect(c2.values["fromExport"] == "a")                     // exports form
    }

    @Test func missingDependencyIsAnErrorAtItsLine() throws {
        var c = try depChart("- {name: a, version: 1.0.0}\n- {name: zz, version: 1.0.0}\n", subs: ["a"])
        do {
            _ = try DependencyProcessor.process(&c, values: .emptyObject)
            Issue.record("expected an error")
        } catch {
            #expect(error.diagnostics[0].message == "found in Chart.yaml, but missing in charts/ directory: zz")
            #expect(error.diagnostics[0].location?.file == "c/Chart.yaml")
            #expect(error.diagnostics[0].location?.mark.line == 6)
        }
    }
}

@Suite struct StrValsTests {
    func set(_ s: String, _ mode: StrVals.Mode = .typed, into base: Value = .emptyObject) throws -> Value {
        var v = base
        try StrVals.parse(into: &v, s, mode: mode)
        return v
    }

    @Test func helmTyping() throws {
        let v = try set("a=1,b=true,c=null,d=1.5,e=007,f=0,g=FALSE,h=-3")
        #expect(v["a"]?.int == 1 && v["b"] == true && v["c"]?.isNull == true)
        #expect(v["d"] == "1.5" && v["e"] == "007" && v["f"]?.int == 0 && v["g"] == false && v["h"]?.int == -3)
        #expect(try set("a=1", .string)["a"] == "1")
    }

    @Test func nestingListsIndexesAndEscapes() throws {
        let v = try set("a.b.c=x,l={1,two},i[1].n=v,e=a\\,b,k\\.dot=1,m[0][1]=z")
        #expect(v[path: ["a", "b", "c"]] == "x")
        #expect(v["l"] == [1, "two"])
        #expect(v["i"] == [nil, ["n": "v"]])
        #expect(v["e"] == "a,b")
        #expect(v["k.dot"] == 1)
        #expect(v["m"] == [[nil, "z"]])
        let merged = try set("a.d=2", into: v)
        #expect(merged[path: ["a", "b", "c"]] == "x" && merged[path: ["a", "d"]] == 2)
    }

    @Test func jsonMode() throws {
        let v = try set("a={\"x\":[1,2]},b=\"s\"", .json)
        #expect(v["a"] == ["x": [1, 2]])
        #expect(v["b"] == "s")
    }

    @Test func setFileReadsEachPathAsAStringValue() throws {
        let files = ["conf/app.ini": "listen = 8080\n", "b.txt": "true", "x": "1", "y": "two"]
        var v: Value = ["keep": "me", "a": ["other": 1]]
        var seen: [String] = []
        try StrVals.parseFiles(into: &v, "a.conf=conf/app.ini,flag=b.txt,l={x,y}") { (p: String) throws(StrVals.ParseError) -> String in
            seen.append(p)
            guard let t = files[p] else { throw StrVals.ParseError(message: "open \(p): no such file") }
            return t
        }
        #expect(v[path: ["a", "conf"]] == "listen = 8080\n")
        #expect(v["flag"] == "true")                                // contents stay strings, never typed
        #expect(v["l"] == ["1", "two"])
        #expect(v["keep"] == "me" && v[path: ["a", "other"]] == 1)   // merged into what earlier flags set
        #expect(Set(seen) == ["conf/app.ini", "b.txt", "x", "y"])
        #expect(throws: StrVals.ParseError(message: "open missing: no such file")) {
            var w: Value = .emptyObject
            try StrVals.parseFiles(into: &w, "k=missing") { (p: String) throws(StrVals.ParseError) -> String in
                throw StrVals.ParseError(message: "open \(p): no such file")
            }
        }
    }

    @Test func errorsInHelmsWords() {
        #expect(throws: StrVals.ParseError(message: "key \"a\" has no value")) { try set("a") }
        #expect(throws: StrVals.ParseError(message: "key \"a\" has no value (cannot end with ,)")) { try set("a,b=1") }
        #expect(throws: StrVals.ParseError.self) { try set("a[-1]=x") }
        #expect(throws: StrVals.ParseError.self) { try set("a[99999999]=x") }
        #expect(throws: StrVals.ParseError(message: "list must terminate with '}'")) { try set("a={1,2") }
        let deep = (0..<40).map { "k\($0)" }.joined(separator: ".") + "=1"
        #expect(throws: StrVals.ParseError.self) { try set(deep) }
    }
}

@Suite struct SchemaTests {
    func violations(_ schema: String, _ values: String) throws -> [String] {
        let s = try JSONParser.parse(schema)
        return JSONSchemaValidator(schema: s).validate(yaml(values)).map(\.description)
    }

    @Test func coreKeywords() throws {
        let schema = """
        {"type":"object","required":["image"],"additionalProperties":false,
         "definitions":{"port":{"type":"integer","minimum":1,"maximum":65535}},
         "properties":{
           "image":{"type":"object","properties":{"tag":{"type":"string","pattern":"^v[0-9]+"}}},
           "port":{"$ref":"#/definitions/port"},
           "mode":{"enum":["a","b"]},
           "name":{"type":"string","minLength":3},
           "list":{"type":"array","items":{"type":"string"},"maxItems":2},
           "replicas":{"type":"integer"}
         }}
        """
        #expect(try violations(schema, "image: {tag: v1}\nport: 80\nreplicas: 2.0\n").isEmpty)
        let v = try violations(schema, "port: 0\nmode: c\nname: ab\nlist: [a, 1, c]\nextra: 1\nreplicas: 1.5\nimage: {tag: x}\n")
        #expect(v.contains("(root): image is required") == false)
        #expect(v.contains("port: Must be greater than or equal to 1"))
        #expect(v.contains("mode: mode must be one of the following: \"a\", \"b\""))
        #expect(v.contains("name: String length must be greater than or equal to 3"))
        #expect(v.contains("list.1: Invalid type. Expected: string, given: integer"))
        #expect(v.contains("list: Array must have at most 2 items"))
        #expect(v.contains("(root): Additional property extra is not allowed"))
        #expect(v.contains("replicas: Invalid type. Expected: integer, given: number"))
        #expect(v.contains("image.tag: Does not match pattern '^v[0-9]+'"))
        #expect(try violations(schema, "port: 1\n") == ["(root): image is required"])
    }

    @Test func combinatorsAndConditionals() throws {
        let schema = """
        {"properties":{"x":{"oneOf":[{"type":"string"},{"type":"integer"}]},
          "y":{"anyOf":[{"const":1},{"const":2}]},"z":{"not":{"type":"null"}},
          "w":{"allOf":[{"minimum":0},{"maximum":10}]}},
         "if":{"required":["tls"],"properties":{"tls":{"const":true}}},"then":{"required":["cert"]},
         "patternProperties":{"^n_":{"type":"integer"}}}
        """
        #expect(try violations(schema, "x: a\ny: 2\nz: 1\nw: 5\nn_a: 1\n").isEmpty)
        let v = try violations(schema, "x: 1.5\ny: 3\nz: null\nw: 11\ntls: true\nn_b: s\n")
        #expect(v.contains("x: Must validate one and only one schema (oneOf)"))
        #expect(v.contains("y: Must validate at least one schema (anyOf)"))
        #expect(v.contains("z: Must not validate the schema (not)"))
        #expect(v.contains("w: Must be less than or equal to 10"))
        #expect(v.contains("(root): cert is required"))
        #expect(v.contains("n_b: Invalid type. Expected: integer, given: string"))
    }

    @Test func cyclicRefIsBoundedAndRemoteRefReported() throws {
        let s = try JSONParser.parse("{\"$ref\":\"#\"}")
        #expect(!JSONSchemaValidator(schema: s).validate(yaml("a: 1")).isEmpty)
        let r = try JSONParser.parse("{\"properties\":{\"a\":{\"$ref\":\"https://x/y.json\"}}}")
        #expect(JSONSchemaValidator(schema: r).problems()?.contains("remote $ref") == true)
    }
}

@Suite struct VersionRangeTests {
    @Test func mastermindsConstraints() {
        let yes: [(String, String)] = [
            (">=1.25.0-0", "1.31.0"), ("^1.2.3", "1.9.0"), ("~1.2.3", "1.2.9"), ("1.2.x", "1.2.7"), ("*", "3.0.0"),
            (">1.0, <2.0", "1.5.0"), ("<1 || >=3", "3.1.0"), ("1.2 - 1.4", "1.4.9"), ("^0.2.3", "0.2.9"), ("", "1.0.0"),
            (">=1.25.0-0", "1.26.0-rc.1"), ("2.0.0", "v2.0.0"), ("!=1.2.3", "1.2.4"),
        ]
        for (c, v) in yes { #expect(VersionRange.compatible(c, v), "\(c) should match \(v)") }
        let no: [(String, String)] = [
            (">=1.32", "1.31.0"), ("^1.2.3", "2.0.0"), ("~1.2.3", "1.3.0"), ("^0.2.3", "0.3.0"), (">=1.0.0", "1.5.0-beta"),
            ("1.2 - 1.4", "1.5.0"), ("garbage", "1.0.0"), ("!=1.2.3", "1.2.3"),
        ]
        for (c, v) in no { #expect(!VersionRange.compatible(c, v), "\(c) should not match \(v)") }
    }
}
