import PatternCore

/// A custom OpenAPI (Swagger 2) schema given by a kustomization's `openapi: {path: …}`, used
/// for strategic merge as Kustomize's kyaml uses it.
///
/// Kinds are found through each definition's `x-kubernetes-group-version-kind`; fields through
/// `properties` (or `additionalProperties` for maps) and list elements through `items`,
/// following `$ref: "#/definitions/<name>"` (a bounded number of hops, so a cyclic schema
/// cannot loop). A list merges by key when its `x-kubernetes-patch-strategy` contains `merge`;
/// its keys are `x-kubernetes-list-map-keys` if present, else `x-kubernetes-patch-merge-key`;
/// with neither, the list is a set of scalars (union, patch values first). A list without a
/// `merge` strategy is replaced — `x-kubernetes-list-type: map` alone does not make it merge,
/// as in Kustomize.
///
/// As in Kustomize, a custom schema *replaces* the built-in one: while it is in force, lists
/// of built-in kinds merge only if the custom schema describes them.
public struct OpenAPISchema: Sendable {
    /// Definitions by name (`definitions:` of the document).
    let definitions: [String: Value]
    /// Definition name by `apiVersion` + `\u{0}` + `kind`.
    let byType: [String: String]

    /// How many `$ref`s may be followed in a row before the schema is treated as absent.
    static let maxRefHops = 32

    /// Reads a schema document (JSON or YAML, already parsed). `file` locates errors.
    public init(parsing doc: Value, file: String) throws(Diagnostic) {
        guard let root = doc.object else {
            throw .error("OpenAPI schema must be a map with `definitions`, found \(doc.typeName)",
                         at: SourceLocation(file: file, mark: doc.mark),
                         fix: "point `openapi.path` at a Swagger 2 document (`{\"definitions\": {…}}`)")
        }
        var defs: [String: Value] = [:]
        var types: [String: String] = [:]
        if let d = root["definitions"] {
            guard let dobj = d.object else {
                throw .error("OpenAPI `definitions` must be a map, found \(d.typeName)", at: SourceLocation(file: file, mark: d.mark),
                             fix: "write `definitions:` as a map from type name to schema")
            }
            defs.reserveCapacity(dobj.count)
            for (name, def) in dobj {
                defs[name] = def
                guard let gvks = def["x-kubernetes-group-version-kind"]?.array else { continue }
                for g in gvks {
                    guard let kind = g["kind"]?.string, let version = g["version"]?.string else { continue }
                    let group = g["group"]?.string ?? ""
                    let apiVersion = group.isEmpty ? version : group + "/" + version
                    types[apiVersion + "\u{0}" + kind] = name
                }
            }
        }
        definitions = defs
        byType = types
    }

    /// The schema of objects with this `apiVersion` and `kind`, if the document describes them.
    func root(apiVersion: String, kind: String) -> Value? {
        guard let name = byType[apiVersion + "\u{0}" + kind] else { return nil }
        return definitions[name]
    }

    /// Follows `$ref`s; nil when one cannot be resolved (Kustomize then has no schema either).
    func resolve(_ node: Value?) -> Value? {
        var cur = node
        var hops = 0
        while let n = cur, let ref = n["$ref"]?.string {
            hops += 1
            guard hops <= Self.maxRefHops, ref.hasPrefix("#/definitions/") else { return nil }
            cur = definitions[String(ref.dropFirst("#/definitions/".count))]
        }
        return cur
    }

    /// The schema of field `name` of an object described by `node`.
    func field(_ node: Value?, _ name: String) -> Value? {
        guard let node else { return nil }
        if let p = node["properties"]?[name] { return resolve(p) }
        if let a = node["additionalProperties"], a.object != nil { return resolve(a) }
        return nil
    }

    /// The schema of the elements of a list described by `node`.
    func elements(_ node: Value?) -> Value? {
        guard let node, node["type"]?.string == "array" else { return nil }
        return resolve(node["items"])
    }

    /// How a list described by `node` merges: nil to replace it, else its merge keys (empty for
    /// a list of scalars merged as a set).
    func listKeys(_ node: Value?) -> [String]? {
        guard let node, let strategy = node["x-kubernetes-patch-strategy"]?.string,
              strategy.split(separator: ",").contains("merge") else { return nil }
        if let keys = node["x-kubernetes-list-map-keys"]?.array {
            var out: [String] = []
            for k in keys { if let s = k.string { out.append(s) } }
            return out
        }
        if let k = node["x-kubernetes-patch-merge-key"]?.string { return [k] }
        return []
    }
}

/// Which schema strategic merge uses, as Kustomize's process-wide `openapi.SetSchema`: the
/// first kustomization (top-level first, then bases in build order) with an `openapi` field
/// decides; later ones are ignored.
enum OpenAPIState: Sendable {
    /// No kustomization has chosen yet: built-in merge keys.
    case unset
    /// `openapi: {version: v1.21.2}`: the built-in schema, chosen explicitly.
    case builtin
    /// `openapi: {path: …}`.
    case custom(OpenAPISchema)

    /// The one built-in schema version Kustomize v5.5.0 ships.
    static let builtinVersion = "v1.21.2"

    var custom: OpenAPISchema? { if case .custom(let s) = self { return s } else { return nil } }
    var isSet: Bool { if case .unset = self { return false } else { return true } }
}
