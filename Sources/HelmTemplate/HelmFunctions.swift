import PatternCore

/// Helm's own template functions (pkg/engine/funcs.go and engine.go).
enum HelmFunctions {
    static func f(_ params: [TemplateParam], _ variadic: TemplateParam? = nil,
                  _ body: @escaping @Sendable (FunctionCall) throws -> TemplateValue) -> TemplateFunction {
        TemplateFunction(params: params, variadic: variadic, body)
    }

    static func map() -> FunctionMap {
        var m = FunctionMap()
        m["include"] = f([.string, .any]) { c in .string(try c.include(c.args[0].stringValue ?? "", data: c.args[1])) }
        m["tpl"] = f([.string, .any]) { c in .string(try c.tpl(c.args[0].stringValue ?? "", data: c.args[1])) }
        m["required"] = f([.string, .any]) { c in
            let v = c.args[1]
            let warn = c.args[0].stringValue ?? ""
            switch v {
            case .null: throw TemplateFunctionError(GoFormat.sprintf(warn, []), fix: "fix: set the required value in the chart's values")
            case .string(let s) where s.isEmpty:
                throw TemplateFunctionError(GoFormat.sprintf(warn, []), fix: "fix: set the required value in the chart's values")
            default: return v
            }
        }
        m["fail"] = f([.string]) { c in
            throw TemplateFunctionError(c.args[0].stringValue ?? "", fix: "fix: the chart refused these values; read the message and change the values")
        }
        m["toYaml"] = f([.any]) { c in .string(TemplateCodecs.toYAML(c.args[0])) }
        m["mustToYaml"] = f([.any]) { c in .string(TemplateCodecs.toYAML(c.args[0])) }
        m["fromYaml"] = f([.string]) { c in TemplateCodecs.fromYAML(c.args[0].stringValue ?? "") }
        m["fromYamlArray"] = f([.string]) { c in TemplateCodecs.fromYAMLArray(c.args[0].stringValue ?? "") }
        m["toJson"] = f([.any]) { c in .string(TemplateCodecs.toJSON(c.args[0])) }
        m["mustToJson"] = f([.any]) { c in .string(TemplateCodecs.toJSON(c.args[0])) }
        m["toPrettyJson"] = f([.any]) { c in .string(TemplateCodecs.toJSON(c.args[0], indent: "  ")) }
        m["mustToPrettyJson"] = f([.any]) { c in .string(TemplateCodecs.toJSON(c.args[0], indent: "  ")) }
        m["toRawJson"] = f([.any]) { c in .string(TemplateCodecs.toJSON(c.args[0], escapeHTML: false)) }
        m["mustToRawJson"] = f([.any]) { c in .string(TemplateCodecs.toJSON(c.args[0], escapeHTML: false)) }
        m["fromJson"] = f([.string]) { c in TemplateCodecs.fromJSON(c.args[0].stringValue ?? "") }
        m["fromJsonArray"] = f([.string]) { c in TemplateCodecs.fromJSONArray(c.args[0].stringValue ?? "") }
        m["toToml"] = f([.any]) { c in .string(TemplateCodecs.toTOML(c.args[0])) }
        // `helm template` (no cluster): lookup finds nothing. The chart layer replaces it.
        m["lookup"] = f([.string, .string, .string, .string]) { _ in .dict([:]) }
        return m
    }
}
