import PatternCore

/// List and map semantics of custom resources, read from their CRDs' structural schemas
/// (`x-kubernetes-list-type`, `x-kubernetes-list-map-keys`, `x-kubernetes-map-type`), so custom
/// resources are compared and keyed the way the API server's server-side apply does.
///
/// Paths are field names from the object root with list steps left out; `*` stands for any key
/// of a map with `additionalProperties`.
public struct SchemaCatalog: Sendable, Hashable {
    struct Entry: Sendable, Hashable {
        var lists: [[String]: ListType] = [:]
        var atomicMaps: Set<[String]> = []
        var wildcardLists: [[String]: ListType] = [:]
        var wildcardAtomicMaps: Set<[String]> = []
    }

    /// Keyed by group/kind, then version ("" = the storage version, used when the object's
    /// version is not found).
    var entries: [GroupKind: [String: Entry]] = [:]

    public init() {}

    /// A catalog of the given CRDs (objects that are not CRDs are skipped).
    public init(crds: [Value]) {
        self.init()
        for c in crds { add(crd: c) }
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// Kinds with a schema in the catalog.
    public var kinds: [GroupKind] { entries.keys.sorted() }

    /// Adds every version of a CustomResourceDefinition (apiextensions.k8s.io/v1).
    public mutating func add(crd: Value) {
        guard crd.kindName == "CustomResourceDefinition",
              let group = crd[path: ["spec", "group"]]?.string,
              let kind = crd[path: ["spec", "names", "kind"]]?.string,
              let versions = crd[path: ["spec", "versions"]]?.array else { return }
        var byVersion: [String: Entry] = [:]
        for v in versions {
            guard let name = v["name"]?.string, let schema = v[path: ["schema", "openAPIV3Schema"]] else { continue }
            var e = Entry()
            SchemaCatalog.walk(schema, path: [], into: &e)
            byVersion[name] = e
            if v["storage"]?.bool == true { byVersion[""] = e }
        }
        if byVersion[""] == nil, let first = byVersion.values.first { byVersion[""] = first }
        if !byVersion.isEmpty { entries[GroupKind(group: group, kind: kind)] = byVersion }
    }

    static func walk(_ s: Value, path: [String], into e: inout Entry) {
        let wildcard = path.contains("*")
        if s["x-kubernetes-map-type"]?.string == "atomic" {
            if wildcard { e.wildcardAtomicMaps.insert(path) } else { e.atomicMaps.insert(path) }
        }
        if let props = s["properties"]?.object {
            for (name, sub) in props { walk(sub, path: path + [name], into: &e) }
        }
        if let ap = s["additionalProperties"], ap.object != nil {
            walk(ap, path: path + ["*"], into: &e)
        }
        if s["type"]?.string == "array" || s["items"] != nil {
            let items = s["items"] ?? .emptyObject
            var lt = ListType.atomic
            switch s["x-kubernetes-list-type"]?.string {
            case "map":
                let keys = (s["x-kubernetes-list-map-keys"]?.array ?? []).compactMap(\.string)
                if !keys.isEmpty {
                    var defaults: [String: Value] = [:]
                    for k in keys { if let d = items[path: ["properties", k, "default"]] { defaults[k] = d } }
                    lt = .map(keys: keys, defaults: defaults)
                }
            case "set": lt = .set
            default: break
            }
            if lt != .atomic {
                if wildcard { e.wildcardLists[path] = lt } else { e.lists[path] = lt }
            }
            walk(items, path: path, into: &e)
        }
    }

    func entry(_ gk: GroupKind, version: String) -> Entry? {
        guard let byVersion = entries[gk] else { return nil }
        return byVersion[version] ?? byVersion[""]
    }

    static func matches(_ pattern: [String], _ path: [String]) -> Bool {
        pattern.count == path.count && zip(pattern, path).allSatisfy { $0 == "*" || $0 == $1 }
    }
}

/// The schema knowledge used for one object: the built-in table, or its CRD's schema.
public struct SchemaContext: Sendable {
    public var kind: String
    public var groupKind: GroupKind
    var entry: SchemaCatalog.Entry?

    /// Context for `object` (its apiVersion and kind), with `catalog` for custom resources.
    public init(object: Value, catalog: SchemaCatalog = SchemaCatalog()) {
        let gvk = object.gvk ?? GroupVersionKind(group: "", version: "", kind: object.kindName ?? "")
        self.kind = gvk.kind
        self.groupKind = gvk.groupKind
        self.entry = catalog.isEmpty ? nil : catalog.entry(gvk.groupKind, version: gvk.version)
    }

    /// Context from a kind name only (built-in table).
    public init(kind: String) {
        self.kind = kind
        self.groupKind = GroupKind(group: "", kind: kind)
        self.entry = nil
    }

    /// True when the object's list and map types come from a CRD schema.
    public var hasSchema: Bool { entry != nil }

    /// List type at `path`: `metadata` and built-in kinds from `MergeSchema`; custom resources
    /// with a schema from it (lists without `x-kubernetes-list-type` are atomic).
    public func listType(_ path: [String]) -> ListType {
        guard let entry, path.first != "metadata" else { return MergeSchema.listType(path: path, kind: kind) }
        if let lt = entry.lists[path] { return lt }
        for (p, lt) in entry.wildcardLists where SchemaCatalog.matches(p, path) { return lt }
        return .atomic
    }

    /// True for maps replaced as a whole.
    public func isAtomicMap(_ path: [String]) -> Bool {
        guard let entry, path.first != "metadata" else { return MergeSchema.isAtomicMap(path) }
        if entry.atomicMaps.contains(path) { return true }
        return entry.wildcardAtomicMaps.contains { SchemaCatalog.matches($0, path) }
    }
}
