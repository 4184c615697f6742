import PatternCore

/// `crds:` — OpenAPI definition files (`{"<go type name>": {"Schema": {"properties": …}}}`,
/// JSON or YAML) from which Kustomize derives transformer configuration for custom kinds
/// (`LoadConfigFromCRDs`): a property marked `x-kubernetes-object-ref-kind` (+ `-api-version`,
/// optional `-name-key`) is a name reference, `x-kubernetes-label-selector` gets common
/// labels, `x-kubernetes-annotation` common annotations; `$ref`s are followed.
enum CRDConfig {
    static func parse(_ doc: Value, file: String) throws(Diagnostic) -> TransformerConfig {
        guard let types = doc.object else {
            throw .error("a crds file must map type names to OpenAPI definitions, found \(doc.typeName)",
                         at: SourceLocation(file: file, mark: doc.mark), fix: "point `crds:` at an OpenAPI definitions file")
        }
        var c = TransformerConfig.empty
        for (name, api) in types {
            guard let props = api[path: ["Schema", "properties"]]?.object,
                  props["kind"] != nil, props["apiVersion"] != nil, props["metadata"] != nil else { continue }
            // Kustomize takes the kind from the type name's last `.` component, without group/version.
            let kind = String(name.split(separator: ".").last ?? Substring(name))
            load(types, typeName: name, kind: kind, path: [], into: &c, depth: 0)
        }
        return c
    }

    private static func load(_ types: Object, typeName: String, kind: String, path: [String],
                             into c: inout TransformerConfig, depth: Int) {
        // `$ref` cycles and absurd nesting stop here (Kustomize would recurse forever).
        guard depth < 32, let props = types[typeName]?[path: ["Schema", "properties"]]?.object else { return }
        let gvk = GvkSelector(kind: kind)
        for (prop, p) in props {
            let here = path + [prop]
            let pathText = here.joined(separator: "/")
            if p["x-kubernetes-annotation"]?.string != nil { c.commonAnnotations.append(FieldSpec(gvk: gvk, path: pathText, create: false)) }
            if p["x-kubernetes-label-selector"]?.string != nil { c.commonLabels.append(FieldSpec(gvk: gvk, path: pathText, create: false)) }
            if let version = p["x-kubernetes-object-ref-api-version"]?.string, let refKind = p["x-kubernetes-object-ref-kind"]?.string {
                let key = p["x-kubernetes-object-ref-name-key"]?.string ?? "name"
                c.merge(TransformerConfig(nameReference: [NameBackReference(target: GvkSelector(version: version, kind: refKind),
                                                                             referrers: [FieldSpec(gvk: gvk, path: pathText + "/" + key)])],
                                          commonLabels: [], templateLabels: [], commonAnnotations: [], replicas: []))
            }
            if let ref = p["$ref"]?.string {
                load(types, typeName: ref, kind: kind, path: here, into: &c, depth: depth + 1)
            }
        }
    }
}
