import PatternCore

/// Checks merged values against a pattern's declared parameters: fills defaults, reports
/// missing required values, wrong types and values outside `enum`, naming the file that set
/// the offending value.
enum ParameterCheck {
    static func apply(_ params: [PatternSpec.Parameter], to values: inout MergedValues, patternFile: String, siteFile: String,
                      diagnostics: inout [Diagnostic]) {
        for p in params {
            let current = values.value(at: p.name)
            if current == nil || current!.isNull {
                if let d = p.defaultValue, !d.isNull {
                    values.set(p.name, d, from: patternFile)
                } else if p.required {
                    diagnostics.append(.error("required parameter '\(p.name)' is not set for this site", at: SourceLocation(file: siteFile),
                                              fix: "set it under spec.values in the site or a group it extends (\(p.name.split(separator: ".").joined(separator: ": ")): …)",
                                              related: [SourceLocation(file: patternFile, mark: p.mark)]))
                    continue
                } else {
                    continue
                }
            }
            guard let v = values.value(at: p.name) else { continue }
            let file = values.origin(of: p.name) ?? patternFile
            if let t = p.type, !matches(v, t) {
                diagnostics.append(.error("parameter '\(p.name)' must be \(describe(t)), found \(v.typeName)",
                                          at: SourceLocation(file: file, mark: v.mark),
                                          fix: t == .string ? "quote the value" : "change the value to \(describe(t))",
                                          related: [SourceLocation(file: patternFile, mark: p.mark)]))
            }
            if let allowed = p.allowed, !allowed.contains(v) {
                diagnostics.append(.error("parameter '\(p.name)' is \(v.description), not one of \(allowed.map(\.description).joined(separator: ", "))",
                                          at: SourceLocation(file: file, mark: v.mark), fix: "use one of the allowed values",
                                          related: [SourceLocation(file: patternFile, mark: p.mark)]))
            }
        }
    }

    static func matches(_ v: Value, _ t: PatternSpec.Parameter.ValueType) -> Bool {
        switch (t, v.kind) {
        case (.string, .string), (.integer, .int), (.number, .int), (.number, .double), (.boolean, .bool),
             (.map, .object), (.list, .array):
            return true
        case (.integer, .double(let d)):
            // Only whole numbers a double holds exactly: a 26-digit literal would otherwise
            // pass and render as 1e+26.
            return d == d.rounded() && abs(d) <= 9_007_199_254_740_992
        default:
            return false
        }
    }

    static func describe(_ t: PatternSpec.Parameter.ValueType) -> String {
        switch t {
        case .string: return "a string"
        case .integer: return "an integer"
        case .number: return "a number"
        case .boolean: return "true or false"
        case .map: return "a map"
        case .list: return "a list"
        }
    }
}
