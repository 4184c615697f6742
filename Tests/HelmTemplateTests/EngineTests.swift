import PatternCore
import Testing
@testable import HelmTemplate

/// A struct-like value as the chart layer exposes `.Capabilities`-style objects.
struct VersionInfo: TemplateObject {
    var goTypeName: String { "*chartutil.KubeVersion" }
    func field(_ name: String) -> TemplateValue? {
        switch name {
        case "Version": return "v1.29.0"
        case "Major": return "1"
        default: return nil
        }
    }
    func method(_ name: String) -> TemplateMethod? {
        switch name {
        case "Has": return TemplateMethod(params: [.string]) { a in .bool(a[0] == "apps/v1") }
        default: return nil
        }
    }
}

@Suite struct EngineTests {
    @Test func objectsExposeFieldsAndMethods() throws {
        let data: TemplateValue = ["Caps": .object(VersionInfo())]
        #expect(try render("{{ .Caps.Version }} {{ .Caps.Has \"apps/v1\" }} {{ .Caps.Has \"x/v1\" }} {{ kindOf .Caps }} {{ typeOf .Caps }}", data)
            == "v1.29.0 true false ptr *chartutil.KubeVersion")
        #expect(renderError("{{ .Caps.Nope }}", data)
            == "template: t:1:8: executing \"t\" at <.Caps.Nope>: can't evaluate field Nope in type *chartutil.KubeVersion")
        #expect(renderError("{{ .Caps.Has }}", data)
            == "template: t:1:8: executing \"t\" at <.Caps.Has>: wrong number of args for Has: want 1 got 0")
        #expect(renderError("{{ .Caps.Version 1 }}", data)
            == "template: t:1:8: executing \"t\" at <.Caps.Version>: Version has arguments but cannot be invoked as function")
    }

    @Test func tplSeesDefinesAndCanDefineTemplates() throws {
        var set = TemplateSet()
        try set.parse(name: "c/templates/_h.tpl", text: "{{ define \"greet\" }}hi {{ . }}{{ end }}")
        try set.parse(name: "c/templates/a.yaml",
                      text: "{{ tpl \"{{ include \\\"greet\\\" .Values.who }}\" . }}|{{ tpl \"{{ define \\\"local\\\" }}L{{ end }}{{ include \\\"local\\\" . }}\" . }}|{{ tpl .Values.tmpl . }}")
        let data: TemplateValue = ["Values": ["who": "bob", "tmpl": "{{ .Template.Name }}"], "Template": ["Name": "c/templates/a.yaml"]]
        #expect(try TemplateRenderer(templates: set).execute("c/templates/a.yaml", data: data) == "hi bob|L|c/templates/a.yaml")
        // A tpl-local define does not leak into the set.
        #expect(!set.has("local"))
    }

    @Test func tplParseErrorsAsHelm() {
        #expect(renderError("{{ tpl \"{{ .x \" . }}")
            == "template: t:1:3: executing \"t\" at <tpl \"{{ .x \" .>: error calling tpl: cannot parse template \"{{ .x \": template: gotpl:1: unclosed action")
    }

    @Test func valuesConversions() throws {
        let v = try YAMLParser.parse("a: 1\nb: [1.5, x, true, null]\nc: {d: 2}\n")
        let helm = TemplateValue(helmValues: v)
        #expect(helm["a"] == .float64(1))
        let set = TemplateValue(value: v)
        #expect(set["a"] == .int64(1))
        #expect(helm.toValue() == v)
        #expect(set.toValue() == v)
    }

    @Test func concurrentRendersSharingValuesDoNotInterfere() async throws {
        var set = TemplateSet()
        try set.parse(name: "t", text: "{{ $_ := set .Values \"seen\" true }}{{ range .Values.items }}{{ . }}{{ end }}")
        let renderer = TemplateRenderer(templates: set)
        let shared: TemplateValue = ["Values": ["items": .list((0..<50).map { .int($0) })]]
        let expected = (0..<50).map(String.init).joined()
        try await withThrowingTaskGroup(of: String.self) { g in
            for _ in 0..<8 { g.addTask { try renderer.execute("t", data: shared) } }
            for try await out in g { #expect(out == expected) }
        }
        #expect(shared["Values"]?["seen"] == true)
    }

    @Test func toYamlLayoutMatchesSigsYaml() throws {
        let data: TemplateValue = [
            "v": ["list": [["name": "a", "ports": [80, 443]]], "script": "line1\nline2\n", "empty": [:], "n": .null, "quoted": "123"],
        ]
        // go-yaml v2 quotes the key "n" (a YAML 1.1 boolean), as `helm template` prints it.
        #expect(try render("{{ toYaml .v }}", data) == """
            empty: {}
            list:
            - name: a
              ports:
              - 80
              - 443
            "n": null
            quoted: "123"
            script: |
              line1
              line2
            """)
    }

    @Test func deploymentStyleTemplate() throws {
        var set = TemplateSet()
        try set.parse(name: "c/templates/_helpers.tpl", text: """
            {{- define "c.labels" -}}
            app: {{ .Chart.Name }}
            release: {{ .Release.Name | quote }}
            {{- end }}
            """)
        try set.parse(name: "c/templates/svc.yaml", text: """
            apiVersion: v1
            kind: Service
            metadata:
              name: {{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 }}
              labels:
                {{- include "c.labels" . | nindent 4 }}
            spec:
              ports:
              {{- range .Values.ports }}
              - port: {{ .port }}
                name: {{ .name | default (printf "p%v" .port) }}
              {{- end }}
            """)
        let data: TemplateValue = [
            "Chart": ["Name": "c"], "Release": ["Name": "r"],
            "Values": TemplateValue(helmValues: try YAMLParser.parse("ports: [{port: 80, name: http}, {port: 8443}]")),
        ]
        #expect(try TemplateRenderer(templates: set).execute("c/templates/svc.yaml", data: data) == """
            apiVersion: v1
            kind: Service
            metadata:
              name: r-c
              labels:
                app: c
                release: "r"
            spec:
              ports:
              - port: 80
                name: http
              - port: 8443
                name: p8443
            """)
    }

    @Test func runawayIncludeRecursionWithDefaultLimitsIsAnErrorNotACrash() {
        var set = TemplateSet()
        do {
            try set.parse(name: "t", text: "{{ define \"r\" }}x{{ include \"r\" . | trim }}{{ end }}{{ include \"r\" . }}")
            _ = try TemplateRenderer(templates: set).execute("t", data: ["a": 1])
            Issue.record("expected an error")
        } catch {
            // Helm's per-name limit (1000) or, first on a smaller stack, the stack guard.
            #expect(error.kind == .limit)
            #expect(error.reason == "rendering template has a nested reference name: r: unable to execute template"
                || error.reason.hasPrefix("template nesting too deep for the thread's stack"), "\(error.reason)")
            #expect(error.location?.template == "t")
        }
    }

    @Test func deepTemplateRecursionIsALimitNotACrash() {
        var set = TemplateSet()
        do {
            try set.parse(name: "t", text: "{{ define \"r\" }}{{ template \"r\" . }}{{ end }}{{ template \"r\" . }}")
            _ = try TemplateRenderer(templates: set).execute("t", data: .null)
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .limit)
            #expect(error.message.hasSuffix("exceeded maximum template depth (1500)"))
        }
    }
}
