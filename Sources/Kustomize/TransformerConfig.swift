import PatternCore

/// The field specs the built-in transformers use, as Kustomize's `TransformerConfig`:
/// Kustomize's defaults (`BuiltinConfig`) plus whatever `configurations:` files add, for
/// custom resources. Configurations flow upward: a base's configurations also apply to the
/// overlays that include it, and the final name-reference pass uses the merged whole.
struct TransformerConfig: Sendable {
    var nameReference: [NameBackReference]
    var commonLabels: [FieldSpec]
    var templateLabels: [FieldSpec]
    var commonAnnotations: [FieldSpec]
    /// Namespace fields beyond the built-in handling (metadata, RBAC subjects, APIService, CRD webhooks).
    var namespace: [FieldSpec] = []
    /// Image fields beyond `containers`/`initContainers` (strings holding an image reference).
    var images: [FieldSpec] = []
    var replicas: [FieldSpec]
    /// Fields where `$(VAR)` references of `vars` are replaced.
    var varReference: [FieldSpec] = []
    /// Kinds `namePrefix` / `nameSuffix` rename when `configurations` list `metadata/name`
    /// specs for them; nil = every kind (Kustomize's prefix/suffix transformers default to all
    /// kinds only while no spec is configured).
    var namePrefix: [GvkSelector]? = nil
    var nameSuffix: [GvkSelector]? = nil

    static let builtin = TransformerConfig(
        nameReference: BuiltinConfig.nameReference, commonLabels: BuiltinConfig.commonLabels,
        templateLabels: BuiltinConfig.templateLabels, commonAnnotations: BuiltinConfig.commonAnnotations,
        replicas: BuiltinConfig.replicas, varReference: BuiltinConfig.varReference)

    static let empty = TransformerConfig(nameReference: [], commonLabels: [], templateLabels: [], commonAnnotations: [], replicas: [])

    /// Kustomize's `MergeConfig`: field specs are unioned; name references merge by target.
    mutating func merge(_ o: TransformerConfig) {
        for back in o.nameReference {
            if let i = nameReference.firstIndex(where: { $0.target == back.target }) {
                nameReference[i].referrers = BuiltinConfig.merged(nameReference[i].referrers, back.referrers)
            } else {
                nameReference.append(back)
            }
        }
        commonLabels = BuiltinConfig.merged(commonLabels, o.commonLabels)
        templateLabels = BuiltinConfig.merged(templateLabels, o.templateLabels)
        commonAnnotations = BuiltinConfig.merged(commonAnnotations, o.commonAnnotations)
        namespace = BuiltinConfig.merged(namespace, o.namespace)
        images = BuiltinConfig.merged(images, o.images)
        if let p = o.namePrefix { namePrefix = (namePrefix ?? []) + p.filter { !(namePrefix ?? []).contains($0) } }
        if let s = o.nameSuffix { nameSuffix = (nameSuffix ?? []) + s.filter { !(nameSuffix ?? []).contains($0) } }
        replicas = BuiltinConfig.merged(replicas, o.replicas)
        varReference = BuiltinConfig.merged(varReference, o.varReference)
    }

    /// Reads one `configurations:` file.
    static func parse(_ v: Value, file: String) throws(Diagnostic) -> TransformerConfig {
        func loc(_ m: Mark) -> SourceLocation { SourceLocation(file: file, mark: m) }
        var c = TransformerConfig.empty
        if v.isNull { return c }
        guard let o = v.object else {
            throw .error("a transformer configuration must be a map, found \(v.typeName)", at: loc(v.mark),
                         fix: "write `nameReference:`, `commonLabels:`, … at the top level")
        }
        func specs(_ x: Value, _ key: String) throws(Diagnostic) -> [FieldSpec] {
            guard let items = x.array else {
                throw .error("'\(key)' must be a list of field specs", at: loc(x.mark), fix: "write `- path: spec/…` entries")
            }
            var out: [FieldSpec] = []
            for item in items {
                guard let io = item.object, let path = io["path"]?.string, !path.isEmpty else {
                    throw .error("field spec needs a `path`", at: loc(item.mark), fix: "add `path: spec/…`")
                }
                for k in io.keys where !["path", "group", "version", "kind", "create"].contains(k) {
                    throw .error("unknown field '\(k)' in field spec", at: loc(io.keyMark(k) ?? item.mark),
                                 fix: "use path, group, version, kind, create")
                }
                out.append(FieldSpec(gvk: GvkSelector(group: io["group"]?.string ?? "", version: io["version"]?.string ?? "",
                                                      kind: io["kind"]?.string ?? ""),
                                     path: path, create: io["create"]?.bool ?? false))
            }
            return out
        }
        for (k, x) in o {
            switch k {
            case "nameReference":
                for item in x.array ?? [] {
                    guard let io = item.object else { continue }
                    let target = GvkSelector(group: io["group"]?.string ?? "", version: io["version"]?.string ?? "",
                                             kind: io["kind"]?.string ?? "")
                    let refs = try specs(io["fieldSpecs"] ?? .array([]), "fieldSpecs")
                    c.merge(TransformerConfig(nameReference: [NameBackReference(target: target, referrers: refs)],
                                              commonLabels: [], templateLabels: [], commonAnnotations: [], replicas: []))
                }
            case "commonLabels": c.commonLabels = try specs(x, k)
            case "templateLabels": c.templateLabels = try specs(x, k)
            case "commonAnnotations": c.commonAnnotations = try specs(x, k)
            case "namespace": c.namespace = try specs(x, k)
            case "images": c.images = try specs(x, k)
            case "replicas": c.replicas = try specs(x, k)
            case "varReference": c.varReference = try specs(x, k)
            case "namePrefix", "nameSuffix":
                // Only `metadata/name` is meaningful for renames; the listed kinds are then the
                // only ones renamed (kubectl: `namePrefix: [{path: metadata/name, kind: X}]`
                // leaves other kinds' names alone).
                let list = try specs(x, k)
                for s in list where s.path != ["metadata", "name"] {
                    throw .error("custom \(k) field specs other than metadata/name are not supported", at: loc(x.mark),
                                 fix: "use `path: metadata/name` (with the kinds to rename), or remove them")
                }
                if k == "namePrefix" { c.namePrefix = list.map(\.gvk) } else { c.nameSuffix = list.map(\.gvk) }
            default:
                throw .error("transformer configuration '\(k)' is not supported", at: loc(o.keyMark(k) ?? x.mark),
                             fix: "use nameReference, commonLabels, templateLabels, commonAnnotations, namespace, images, replicas, varReference")
            }
        }
        return c
    }
}
