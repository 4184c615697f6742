import Testing
@testable import HelmTemplate

/// Files parsed once per process (`ParseCache`) are shared only where parsing would give the
/// same trees: same name, same text, Helm's function names.
@Suite struct ParseCacheTests {
    @Test func setsWithHelmsFunctionsShareParsedFiles() throws {
        let name = "cache-\(UInt64.random(in: 0...UInt64.max))/templates/a.yaml"
        let text = "{{ define \"x.name\" }}n{{ end }}kind: {{ include \"x.name\" . | upper }}"
        var a = TemplateSet()
        try a.parse(name: name, text: text)
        var b = TemplateSet()
        try b.parse(name: name, text: text)
        #expect(a.trees[name] === b.trees[name])
        #expect(a.trees["x.name"] === b.trees["x.name"])
        // A replaced function keeps the names, so it still shares; the output is unchanged.
        var functions = FunctionMap.helm
        functions["upper"] = TemplateFunction(params: [.string]) { c in .string("U:" + (c.args[0].stringValue ?? "")) }
        var c = TemplateSet(functions: functions)
        try c.parse(name: name, text: text)
        #expect(c.trees[name] === a.trees[name])
        #expect(try TemplateRenderer(templates: c, functions: functions).execute(name, data: [:]) == "kind: U:n")
        #expect(try TemplateRenderer(templates: b).execute(name, data: [:]) == "kind: N")
        // Other text under the same name is parsed anew.
        var d = TemplateSet()
        try d.parse(name: name, text: text + " ")
        #expect(d.trees[name] !== a.trees[name])
    }

    @Test func otherFunctionNamesNeverShareAndStillCheckNames() throws {
        let name = "cache-\(UInt64.random(in: 0...UInt64.max))/templates/b.yaml"
        let text = "{{ myfunc }}"
        var functions = FunctionMap.helm
        functions["myfunc"] = TemplateFunction { _ in "mine" }
        var custom = TemplateSet(functions: functions)
        try custom.parse(name: name, text: text)
        #expect(try TemplateRenderer(templates: custom, functions: functions).execute(name, data: [:]) == "mine")
        // The helm set must still refuse the unknown function (nothing cached from `custom`).
        var helm = TemplateSet()
        #expect(throws: TemplateError.self) { try helm.parse(name: name, text: text) }
        // Merging a custom set into a helm set stops sharing for later parses.
        helm.merge(custom)
        #expect(!helm.sharesParses)
    }
}
