import PatternCore

/// `pattern validate` output for machines: a `ValidationReport` document, GitHub Actions
/// workflow commands and GitLab code-quality JSON. Every site's diagnostics are listed.
public enum ValidationReport {
    /// One diagnostic and the site it was found in.
    public struct Item: Sendable {
        public var site: String
        public var diagnostic: Diagnostic
        public init(site: String, diagnostic: Diagnostic) { self.site = site; self.diagnostic = diagnostic }
    }

    /// `kind: ValidationReport`: `valid`, per site `{site, valid, errors, warnings}`, and
    /// `diagnostics: [{site, severity, file?, line?, column?, message, fix?, related}]`.
    public static func document(sites: [String], items: [Item]) -> Value {
        var perSite: [Value] = []
        for s in sites {
            var errors = 0, warnings = 0
            for i in items where i.site == s { if i.diagnostic.severity == .error { errors += 1 } else { warnings += 1 } }
            perSite.append(["site": .string(s), "valid": .bool(errors == 0), "errors": .int(errors), "warnings": .int(warnings)])
        }
        let diagnostics: [Value] = items.map { i in
            let d = i.diagnostic
            var o = Object()
            o.append("site", .string(i.site))
            o.append("severity", .string(d.severity.rawValue))
            if let l = d.location {
                o.append("file", .string(l.file))
                if l.mark.isKnown { o.append("line", .int(Int(l.mark.line))); o.append("column", .int(Int(l.mark.column))) }
            }
            o.append("message", .string(d.message))
            if let f = d.fix { o.append("fix", .string(f)) }
            o.append("related", .array(d.related.map { .string($0.description) }))
            return .object(o)
        }
        return ["apiVersion": .string(MachineReport.apiVersion), "kind": "ValidationReport",
                "valid": .bool(!items.contains { $0.diagnostic.severity == .error }),
                "sites": .array(perSite), "diagnostics": .array(diagnostics)]
    }

    /// GitHub Actions workflow commands, one per diagnostic:
    /// `::error file=overlays/hub/overlay.yaml,line=3,col=5,title=pattern validate (hub)::message%0Afix: …`.
    public static func github(_ items: [Item]) -> String {
        var out = ""
        for i in items {
            let d = i.diagnostic
            var props: [String] = []
            if let l = d.location {
                props.append("file=" + escapeProperty(l.file))
                if l.mark.isKnown { props.append("line=\(l.mark.line)"); props.append("col=\(l.mark.column)") }
            }
            props.append("title=" + escapeProperty("pattern validate (\(i.site))"))
            let text = d.message + (d.fix.map { "\nfix: " + $0 } ?? "")
            out += "::\(d.severity == .error ? "error" : "warning") \(props.joined(separator: ","))::\(escapeData(text))\n"
        }
        return out
    }

    /// GitLab code quality report (a JSON array; `artifacts: reports: codequality:`): description,
    /// check_name, fingerprint, severity (`major` for errors, `minor` for warnings), location.
    public static func gitlab(_ items: [Item]) -> Value {
        .array(items.map { i in
            let d = i.diagnostic
            var h = SHA256()
            h.update("\(i.site)\u{0}\(d.location?.description ?? "")\u{0}\(d.message)")
            var o = Object()
            o.append("description", .string("\(i.site): " + d.message + (d.fix.map { " (fix: \($0))" } ?? "")))
            o.append("check_name", "pattern-validate")
            o.append("fingerprint", .string(SHA256.hex(h.finalize())))
            o.append("severity", .string(d.severity == .error ? "major" : "minor"))
            o.append("location", ["path": .string(d.location?.file ?? "overlays/\(i.site)/overlay.yaml"),
                                  "lines": ["begin": .int(max(1, Int(d.location?.mark.line ?? 1)))]])
            return .object(o)
        })
    }

    /// Workflow-command message escaping (`%`, CR, LF), as @actions/core does.
    static func escapeData(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "%": out += "%25"
            case "\r": out += "%0D"
            case "\n": out += "%0A"
            default: out.append(c)
            }
        }
        return out
    }

    /// Workflow-command property escaping: also `:` and `,`.
    static func escapeProperty(_ s: String) -> String {
        var out = ""
        for c in escapeData(s) {
            switch c {
            case ":": out += "%3A"
            case ",": out += "%2C"
            default: out.append(c)
            }
        }
        return out
    }
}
