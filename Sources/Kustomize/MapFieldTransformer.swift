import PatternCore

/// `commonLabels`, `labels`, `commonAnnotations`: adds key/value pairs to the maps at the
/// given field specs (metadata, selectors, pod templates — see `BuiltinConfig`).
enum MapFieldTransformer {
    static func apply(_ pairs: Object, specs: [FieldSpec], to m: inout ResMap) throws(Diagnostic) {
        guard !pairs.isEmpty else { return }
        for i in m.items.indices {
            guard let gvk = m.items[i].value.gvk else { continue }
            var v = m.items[i].value
            m.items[i].value = .null  // keep `v` uniquely referenced: mutate in place, no copy
            var bad: Mark?
            for spec in specs where spec.gvk.matches(gvk) {
                spec.visit(&v) { field in
                    let mark = field?.mark ?? .none
                    if let f = field, f.object == nil { bad = f.mark; return }
                    var obj = field?.object ?? Object()
                    field = nil  // release the old map so `obj` is mutated in place
                    for (k, val) in pairs { obj.set(k, val) }
                    field = Value(.object(obj), mark: mark)
                }
            }
            if let bad {
                m.items[i].value = v
                throw .error("expected a map at a label/annotation field of \(m.items[i].curId)",
                             at: SourceLocation(file: m.items[i].file, mark: bad), fix: "make the field a map of strings")
            }
            m.items[i].value = v
        }
    }

    static func labels(_ spec: LabelSpec, to m: inout ResMap) throws(Diagnostic) {
        // Kustomize: custom `fields` first, then the defaults merged in.
        var specs = BuiltinConfig.merged(spec.fields, [FieldSpec(path: "metadata/labels", create: true)])
        if spec.includeSelectors {
            specs = BuiltinConfig.merged(spec.fields, m.config.commonLabels)
        } else if spec.includeTemplates {
            specs = BuiltinConfig.merged(specs, m.config.templateLabels)
        }
        try apply(spec.pairs, specs: specs, to: &m)
    }
}
