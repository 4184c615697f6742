import Testing
import PatternCore
@testable import Helm

@Suite struct FilesTests {
    func renderOne(_ template: String, files: [ChartFile] = []) throws -> String {
        let c = try chart([chartYAML("f"), file("templates/cm.yaml", template)] + files)
        let r = try ChartRenderer().render(ChartRenderRequest(chart: c, release: ReleaseOptions(name: "r")))
        return r.manifests.first?.object["data"]?["out"]?.string ?? "<no object>"
    }

    @Test func rangeOverFilesGlobVisitsPathsInOrderWithContents() throws {
        let files = [file("conf/b.ini", "b=2"), file("conf/a.ini", "a=1"), file("other/c.txt", "c")]
        let out = try renderOne("""
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: x}
            data:
              out: "{{ range $path, $content := .Files.Glob "conf/*" }}{{ $path }}={{ $content | toString }};{{ end }}"
            """, files: files)
        #expect(out == "conf/a.ini=a=1;conf/b.ini=b=2;")
    }

    @Test func rangeOverFilesGlobWithOneVariableAndElse() throws {
        let files = [file("conf/a.ini", "a=1"), file("conf/b.ini", "b=2")]
        // One variable: the element (content); `.` is the content too; `$.Files.Get` with the path.
        let out = try renderOne("""
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: x}
            data:
              out: "{{ range $path, $_ := .Files.Glob "**.ini" }}[{{ $.Files.Get $path }}]{{ end }}{{ range .Files.Glob "none/*" }}x{{ else }}empty{{ end }}"
            """, files: files)
        #expect(out == "[a=1][b=2]empty")
    }

    @Test func globAsConfigOnTheResult() throws {
        let files = [file("conf/a.ini", "a=1\n"), file("conf/b.ini", "b=2\n")]
        let c = try chart([chartYAML("f"), file("templates/cm.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: x}
            data:
            {{ (.Files.Glob "conf/*").AsConfig | indent 2 }}

            """)] + files)
        let r = try ChartRenderer().render(ChartRenderRequest(chart: c, release: ReleaseOptions(name: "r")))
        #expect(r.manifests.first?.object["data"] == ["a.ini": "a=1\n", "b.ini": "b=2\n"])
    }

    @Test func linesCutsACRLFFileAtEveryLineFeedAsHelmDoes() throws {
        // Helm: strings.Split after dropping one final "\n": CRLF lines keep their "\r".
        let files = [file("conf/crlf.txt", "a\r\nb\r\n"), file("conf/lf.txt", "x\ny\n\n")]
        let out = try renderOne("""
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: x}
            data:
              out: '{{ range .Files.Lines "conf/crlf.txt" }}[{{ . | quote }}]{{ end }}|{{ range .Files.Lines "conf/lf.txt" }}[{{ . }}]{{ end }}'
            """, files: files)
        #expect(out == "[\"a\\r\"][\"b\\r\"]|[x][y][]")
    }
}
