import PatternCore

/// `commonLabels`, `labels`, `commonAnnotations`: adds key/value pairs to the maps at the
/// given field specs (metadata, selectors, pod templates — see `BuiltinConfig`).
enum MapFieldTransformer {
    static func apply(_ pairs: Object, specs: [FieldSpec], to m: inout ResMap) throws(Diagnostic) {
        guard !pairs.isEmpty else { return }
        // Objects are independent: all cores, each object mutated in place (no copy); the
        // first failing object in build order is the error, as in a sequential pass.
        let failures = ParallelMap.update(&m.items) { (r: inout KResource) -> Diagnostic? in
            guard let gvk = r.value.gvk else { return nil }
            var v = r.value
            r.value = .null  // keep `v` uniquely referenced: mutate in place, no copy
            var bad: Mark?
            // By index: `for spec in specs` would copy each spec, retaining its path array,
            // which every object on every core shares (contended reference counts).
            for i in specs.indices where specs[i].gvk.matches(gvk) {
                specs[i].visit(&v) { field in
                    let mark = field?.mark ?? .none
                    if let f = field, f.object == nil { bad = f.mark; return }
                    var obj = field?.object ?? Object()
                    field = nil  // release the old map so `obj` is mutated in place
                    for (k, val) in pairs { obj.set(k, val) }
                    field = Value(.object(obj), mark: mark)
                }
            }
            r.value = v
            guard let bad else { return nil }
            return .error("expected a map at a label/annotation field of \(r.curId)",
                          at: SourceLocation(file: r.file, mark: bad), fix: "make the field a map of strings")
        }
        if let first = failures.first(where: { $0 != nil }) { throw first! }
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
