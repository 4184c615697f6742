import PatternCore
import Testing
@testable import HelmTemplate

/// Renders `text` as template "t" with `data` (Helm's non-strict options unless given).
func render(_ text: String, _ data: TemplateValue = .null, options: RenderOptions = .helm,
            functions: FunctionMap = .helm) throws(TemplateError) -> String {
    var set = TemplateSet(functions: functions)
    try set.parse(name: "t", text: text)
    return try TemplateRenderer(templates: set, functions: functions, options: options).execute("t", data: data)
}

/// The error message rendering `text` gives, or "" when it renders.
func renderError(_ text: String, _ data: TemplateValue = .null, options: RenderOptions = .helm) -> String {
    do {
        _ = try render(text, data, options: options)
        return ""
    } catch {
        return error.message
    }
}

let values: TemplateValue = [
    "Values": [
        "name": "web", "replicas": .float64(3), "big": .float64(1_000_000), "ratio": .float64(0.5),
        "enabled": true, "empty": "", "list": ["a", "b", "c"], "nested": ["k": "v", "n": .null],
        "labels": ["app": "web", "tier": "front"],
    ],
    "Release": ["Name": "rel", "Namespace": "ns"],
]

@Suite struct LanguageTests {
    @Test(arguments: [
        ("hello", "hello"),
        ("{{ .Values.name }}", "web"),
        ("{{.Values.replicas}}", "3"),
        ("{{ .Values.big }}", "1e+06"),
        ("{{ .Values.ratio }}", "0.5"),
        ("{{ .Values.list }}", "[a b c]"),
        ("{{ .Values.labels }}", "map[app:web tier:front]"),
        ("{{ .Values.missing }}", ""),
        ("a {{- \" b \" -}} c", "a b c"),
        ("a  {{- /* comment */ -}}  b", "ab"),
        ("{{ if .Values.enabled }}yes{{ else }}no{{ end }}", "yes"),
        ("{{ if .Values.empty }}yes{{ else if .Values.name }}name{{ else }}no{{ end }}", "name"),
        ("{{ with .Values.labels }}{{ .app }}{{ end }}", "web"),
        ("{{ with .Values.missing }}x{{ else with .Values.name }}{{ . }}{{ end }}", "web"),
        ("{{ range .Values.list }}{{ . }},{{ end }}", "a,b,c,"),
        ("{{ range $i, $v := .Values.list }}{{ $i }}={{ $v }} {{ end }}", "0=a 1=b 2=c "),
        ("{{ range $k, $v := .Values.labels }}{{ $k }}:{{ $v }};{{ end }}", "app:web;tier:front;"),
        ("{{ range .Values.missing }}x{{ else }}none{{ end }}", "none"),
        ("{{ range 3 }}{{ . }}{{ end }}", "012"),
        ("{{ range $v := .Values.list }}{{ if eq $v \"b\" }}{{ break }}{{ end }}{{ $v }}{{ end }}", "a"),
        ("{{ range .Values.list }}{{ if eq . \"b\" }}{{ continue }}{{ end }}{{ . }}{{ end }}", "ac"),
        ("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}", "2"),
        ("{{ $x := \"outer\" }}{{ with .Values.name }}{{ $x := \"inner\" }}{{ end }}{{ $x }}", "outer"),
        ("{{ range .Values.list }}{{ $.Release.Name }}{{ end }}", "relrelrel"),
        ("{{ define \"x\" }}[{{ . }}]{{ end }}{{ template \"x\" .Values.name }}", "[web]"),
        ("{{ block \"b\" .Values.name }}<{{ . }}>{{ end }}", "<web>"),
        ("{{ (.Values.labels).app }}", "web"),
        ("{{ and 1 0 }} {{ or 0 \"x\" }} {{ and 1 2 }} {{ or 0 \"\" }}", "0 x 2 "),
        ("{{ not .Values.enabled }}", "false"),
        ("{{ eq 1 2 3 1 }} {{ ne \"a\" \"b\" }} {{ lt 1 2 }} {{ le 2 2 }} {{ gt 1.5 2.5 }} {{ ge \"b\" \"a\" }}", "true true true true false true"),
        ("{{ len .Values.list }} {{ len \"héllo\" }}", "3 6"),
        ("{{ index .Values.labels \"app\" }} {{ index .Values.list 1 }}", "web b"),
        ("{{ index .Values.labels \"nope\" }}", ""),
        ("{{ slice .Values.list 1 3 }}", "[b c]"),
        ("{{ print 1 2 \"a\" \"b\" 3 }}", "1 2ab3"),
        ("{{ println \"a\" 1 }}", "a 1\n"),
        ("{{ printf \"%s-%d-%v-%q\" \"a\" 5 .Values.replicas \"q\" }}", "a-5-3-\"q\""),
        ("{{ html \"<a href='x'>&\" }}", "&lt;a href=&#39;x&#39;&gt;&amp;"),
        ("{{ js \"a'b<c\" }}", "a\\'b\\u003Cc"),
        ("{{ urlquery \"a b&c\" }}", "a+b%26c"),
        ("{{ 0x1F }} {{ 1_000 }} {{ 0o17 }} {{ 0b101 }} {{ 'a' }} {{ 1.5e3 }} {{ 1e21 }}", "31 1000 15 5 97 1500 1e+21"),
        ("{{ \"\\u00e9\\t\" }}|{{ `raw\\n` }}", "é\t|raw\\n"),
        ("{{ \"\u{0301}x\" | len }}|{{ \"plain\" }}", "3|plain"),
        ("{{ .Values.name | printf \"%s!\" }}", "web!"),
        ("{{ \"x\" | printf \"%s%s\" \"a\" }}", "ax"),
        ("{{- $l := list 1 2 -}} {{ $l }}", "[1 2]"),
        ("a {{-3}}", "a -3"),
        ("a\n{{-\t\"x\"\t-}}\n b", "axb"),
        ("{{ \"a\" }}{{/* c */}}b", "ab"),
        ("{{ .Values.name\n | upper }}", "WEB"),
        ("{{ range $k, $v := .Values.labels }}{{ $k }}{{ break }}{{ end }}", "app"),
        ("{{ with $x := .Values.name }}{{ $x }}{{ end }}", "web"),
        ("{{ if and .Values.enabled (eq .Values.name \"web\") }}ok{{ end }}", "ok"),
        ("{{ if or .Values.name .Values.missing.x }}short-circuit{{ end }}", "short-circuit"),
        ("{{ len .Values.labels }}|{{ index .Values.nested \"n\" }}|{{ .Values.nested.n }}", "2||"),
        ("{{ define \"d\" }}{{ $ }}{{ end }}{{ template \"d\" 5 }}", "5"),
    ])
    func renders(_ text: String, _ expected: String) throws {
        #expect(try render(text, values) == expected)
    }

    @Test(arguments: [
        ("{{ .Values.missing.x }}",
         "template: t:1:10: executing \"t\" at <.Values.missing.x>: nil pointer evaluating interface {}.x"),
        ("{{ .Values.nested.n.x }}",
         "template: t:1:10: executing \"t\" at <.Values.nested.n.x>: nil pointer evaluating interface {}.x"),
        ("\n  {{ .Values.name.first }}",
         "template: t:2:12: executing \"t\" at <.Values.name.first>: can't evaluate field first in type string"),
        ("{{ eq .Values.replicas 3 }}",
         "template: t:1:3: executing \"t\" at <eq .Values.replicas 3>: error calling eq: incompatible types for comparison: float64 and int"),
        ("{{ upper .Values.replicas }}",
         "template: t:1:16: executing \"t\" at <.Values.replicas>: wrong type for value; expected string; got float64"),
        ("{{ upper .Values.missing }}",
         "template: t:1:16: executing \"t\" at <.Values.missing>: wrong type for value; expected string; got interface {}"),
        ("{{ include \"nope\" . }}",
         "template: t:1:3: executing \"t\" at <include \"nope\" .>: error calling include: template: no template \"nope\" associated with template \"gotpl\""),
        ("{{ required \"name is required\" .Values.missing }}",
         "template: t:1:3: executing \"t\" at <required \"name is required\" .Values.missing>: error calling required: name is required"),
        ("{{ fail \"boom\" }}", "template: t:1:3: executing \"t\" at <fail \"boom\">: error calling fail: boom"),
        ("{{ template \"nope\" }}", "template: t:1:12: executing \"t\" at <{{template \"nope\"}}>: template \"nope\" not defined"),
        ("{{ index .Values.missing \"a\" }}", "template: t:1:3: executing \"t\" at <index .Values.missing \"a\">: error calling index: index of untyped nil"),
        ("{{ range 1.5 }}{{ end }}", "template: t:1:9: executing \"t\" at <{{range 1.5}}>: range can't iterate over 1.5"),
        ("{{ trunc 2 }}", "template: t:1:3: executing \"t\" at <trunc>: wrong number of args for trunc: want 2 got 1"),
        ("{{ .Values.name 1 }}", "template: t:1:10: executing \"t\" at <.Values.name>: name is not a method but has arguments"),
    ])
    func executionErrors(_ text: String, _ expected: String) {
        #expect(renderError(text, values) == expected)
    }

    @Test(arguments: [
        ("{{ .x } }}", "template: t:1: unexpected \"}\" in operand"),
        ("{{ if true }}x", "template: t:1: unexpected EOF"),
        ("{{ end }}", "template: t:1: unexpected {{end}}"),
        ("{{ nosuchfn 1 }}", "template: t:1: function \"nosuchfn\" not defined"),
        ("{{ $x }}", "template: t:1: undefined variable \"$x\""),
        ("{{ break }}", "template: t:1: {{break}} outside {{range}}"),
        ("a\n{{ .x", "template: t:2: unclosed action"),
        ("{{ \"abc }}", "template: t:1: unterminated quoted string"),
        ("{{ define \"a\" }}x{{ end }}{{ define \"a\" }}y{{ end }}", "template: t:1: template: multiple definition of template \"a\""),
        ("{{ 3 | 4 }}", "template: t:1: non executable command in pipeline stage 2"),
        ("a\nb\n{{ if }}x{{ end }}", "template: t:3: missing value for if"),
        ("{{ $x := 1 }}{{ define \"d\" }}{{ $x }}{{ end }}", "template: t:1: undefined variable \"$x\""),
        ("{{ else }}", "template: t:1: unexpected {{else}}"),
        ("{{ range $a, $b, $c := . }}{{ end }}", "template: t:1: too many declarations in range"),
    ])
    func parseErrors(_ text: String, _ expected: String) {
        #expect(renderError(text) == expected)
    }

    @Test func strictModeRefusesMissingKeys() {
        #expect(renderError("{{ .Values.missing }}", values, options: .helmStrict)
            == "template: t:1:10: executing \"t\" at <.Values.missing>: map has no entry for key \"missing\"")
    }

    @Test func goDefaultModePrintsNoValue() throws {
        #expect(try render("{{ .Values.missing }}|{{ .Values.missing.x }}", values, options: .go) == "<no value>|<no value>")
    }

    @Test func variableHoldingNilIsNotAnError() throws {
        // A pipeline result is dug out of its interface: a field of nil is then empty, not an error.
        #expect(try render("{{ $x := .Values.missing }}{{ $x.y }}|{{ (.Values.missing).y }}", values) == "|")
    }

    @Test func setMutatesSharedMaps() throws {
        let out = try render("{{ $d := dict \"a\" 1 }}{{ $_ := set $d \"b\" 2 }}{{ $e := $d }}{{ $_ := set $e \"c\" 3 }}{{ $d }}")
        #expect(out == "map[a:1 b:2 c:3]")
    }

    @Test func includeAndTpl() throws {
        var set = TemplateSet()
        try set.parse(name: "chart/templates/_helpers.tpl", text: "{{ define \"chart.name\" }}{{ .Values.name | trunc 63 }}{{ end }}")
        try set.parse(name: "chart/templates/cm.yaml", text: "name: {{ include \"chart.name\" . | quote }}\nt: {{ tpl \"{{ .Values.name }}-x\" . }}")
        let out = try TemplateRenderer(templates: set).execute("chart/templates/cm.yaml", data: values)
        #expect(out == "name: \"web\"\nt: web-x")
    }

    @Test func errorsInsideIncludeCarryTheChain() {
        var set = TemplateSet()
        do {
            try set.parse(name: "c/templates/_h.tpl", text: "{{ define \"h\" }}\n{{ .Values.a.b }}{{ end }}")
            try set.parse(name: "c/templates/x.yaml", text: "x: {{ include \"h\" . }}")
            _ = try TemplateRenderer(templates: set).execute("c/templates/x.yaml", data: values)
            Issue.record("expected an error")
        } catch {
            #expect(error.message == "template: c/templates/x.yaml:1:6: executing \"c/templates/x.yaml\" at <include \"h\" .>: error calling include: template: c/templates/_h.tpl:2:10: executing \"h\" at <.Values.a.b>: nil pointer evaluating interface {}.b")
            #expect(error.location == TemplateError.Point(template: "c/templates/_h.tpl", line: 2, column: 10))
            #expect(error.callers == [TemplateError.Point(template: "c/templates/x.yaml", line: 1, column: 6)])
        }
    }

    @Test func failAndRequiredKeepTheirBareReasonAndLocation() {
        do {
            _ = try render("a: 1\nb: {{ required \"set b\" .Values.b }}", values)
            Issue.record("expected an error")
        } catch {
            #expect(error.reason == "set b")
            #expect(error.location == TemplateError.Point(template: "t", line: 2, column: 6))
            #expect(error.diagnostic.location == SourceLocation(file: "t", line: 2, column: 7))
            #expect(error.fix != nil)
        }
    }

    @Test func tplErrorsNameTheTplTemplateAsHelm() {
        #expect(renderError("{{ tpl \"{{ .a.b }}\" . }}", ["x": 1])
            == "template: t:1:3: executing \"t\" at <tpl \"{{ .a.b }}\" .>: error calling tpl: error during tpl function execution for \"{{ .a.b }}\": template: gotpl:1:5: executing \"gotpl\" at <.a.b>: nil pointer evaluating interface {}.b")
    }

    @Test func includeRecursionIsBounded() {
        var set = TemplateSet()
        do {
            try set.parse(name: "t", text: "{{ define \"r\" }}{{ include \"r\" . }}{{ end }}{{ include \"r\" . }}")
            _ = try TemplateRenderer(templates: set, options: RenderOptions(maxIncludeDepth: 50)).execute("t", data: .null)
            Issue.record("expected an error")
        } catch {
            #expect(error.message.hasSuffix("rendering template has a nested reference name: r: unable to execute template"))
            #expect(error.kind == .limit)
        }
    }

    @Test func nondeterministicFunctionsAreRefusedUnlessAllowed() throws {
        let e = renderError("x\n{{ randAlphaNum 5 }}")
        #expect(e.hasPrefix("template: t:2:3: executing \"t\" at <randAlphaNum 5>: error calling randAlphaNum: randAlphaNum is nondeterministic"))
        var set = TemplateSet()
        try set.parse(name: "t", text: "{{ randAlphaNum 5 | len }}")
        let r = try TemplateRenderer(templates: set, options: RenderOptions(allowNondeterministic: true)).render("t", data: .null)
        #expect(r.output == "5")
        #expect(r.nondeterministicFunctions == ["randAlphaNum"])
    }

    @Test func dateOfANonTimeReadsTheClockAndIsRefused() {
        let e = renderError("{{ date \"2006\" .Values.missing }}", values)
        #expect(e.contains("error calling date: date of nil formats the current time"))
        #expect(renderError("{{ date \"2006\" 0 }}") == "")
    }

    @Test func laterDefinitionReplacesEarlierOne() throws {
        var set = TemplateSet()
        try set.parse(name: "a", text: "{{ define \"x\" }}A{{ end }}")
        try set.parse(name: "b", text: "{{ define \"x\" }}B{{ end }}{{ define \"y\" }}{{ end }}")
        try set.parse(name: "c", text: "{{ define \"y\" }}{{ end }}{{ template \"x\" }}")
        #expect(try TemplateRenderer(templates: set).execute("c", data: .null) == "B")
        #expect(set.has("y") && set.has("x") && !set.has("z"))
    }

    @Test func accumulatedStringsAreBounded() {
        var set = TemplateSet()
        do {
            try set.parse(name: "t", text: "{{ $s := \"xx\" }}{{ range 64 }}{{ $s = printf \"%s%s\" $s $s }}{{ end }}{{ len $s }}")
            _ = try TemplateRenderer(templates: set, options: RenderOptions(maxOutputBytes: 1 << 16)).execute("t", data: .null)
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .limit)
            #expect(error.message.contains("error calling printf: result exceeds 65536 bytes"))
        }
    }

    @Test func outputSizeIsBounded() {
        var set = TemplateSet()
        do {
            try set.parse(name: "t", text: "{{ range 100000 }}xxxxxxxxxx{{ end }}")
            _ = try TemplateRenderer(templates: set, options: RenderOptions(maxOutputBytes: 1000)).execute("t", data: .null)
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .limit)
        }
    }
}
