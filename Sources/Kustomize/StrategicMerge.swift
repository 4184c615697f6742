import PatternCore

/// Strategic merge patch, as `kubectl kustomize` applies it.
///
/// - Maps merge recursively; `key: null` in the patch deletes the key.
/// - Lists in built-in Kubernetes kinds merge by their patch merge key (`MergeKeys`):
///   containers/volumes/env/… by `name`, `volumeMounts` by `mountPath`, container `ports` by
///   `containerPort`, Service `ports` by `port`, … The result lists the patch's elements
///   first (merged with their counterparts), then the remaining target elements in their
///   order — Kustomize v5's observable order. Lists without a merge key, and all lists of
///   kinds without a built-in schema (custom resources), are replaced.
/// - Directives: `$patch: delete` (on the whole object, a map, or a list element),
///   `$patch: replace` (on a map, or as a list element to replace the whole list),
///   `$patch: merge`; `$setElementOrder/…` keys are accepted and ignored.
public enum StrategicMerge {
    /// Applies `patch` to `target`. Returns nil when the patch deletes the object.
    public static func apply(_ patch: Value, to target: Value) throws(Diagnostic) -> Value? {
        try apply(patch, to: target, schema: nil)
    }

    /// Applies `patch` to `target` with a custom OpenAPI schema (`openapi: {path: …}`) in
    /// place of the built-in merge keys: lists merge as the schema says, and kinds the schema
    /// does not describe have every list replaced, as in Kustomize. Returns nil when the patch
    /// deletes the object.
    public static func apply(_ patch: Value, to target: Value, schema: OpenAPISchema?) throws(Diagnostic) -> Value? {
        var ctx: Context
        var root: Value? = nil
        if let schema {
            let apiVersion = target["apiVersion"]?.string ?? patch["apiVersion"]?.string ?? ""
            let kind = target.kindName ?? patch.kindName ?? ""
            root = schema.root(apiVersion: apiVersion, kind: kind)
            ctx = Context(schemaKnown: false, custom: schema)
        } else {
            ctx = Context(schemaKnown: MergeKeys.hasBuiltinSchema(target.gvk ?? patch.gvk), custom: nil)
        }
        return try ctx.mergeValue(target, patch, path: [], node: root)
    }

    struct Context {
        let schemaKnown: Bool
        /// A custom schema replacing the built-in merge keys; `node` arguments walk it.
        let custom: OpenAPISchema?

        func directive(_ o: Object) -> String? { o["$patch"]?.string }

        mutating func mergeValue(_ dest: Value?, _ patch: Value, path: [String], node: Value? = nil) throws(Diagnostic) -> Value? {
            switch patch.kind {
            case .object(let po):
                if let d = directive(po) {
                    switch d {
                    case "delete": return nil
                    case "replace": return StrategicMerge.clean(.object(po.filter { k, _ in k != "$patch" }))
                    case "merge": break
                    default:
                        throw .error("unknown patch directive '$patch: \(d)'", at: SourceLocation(file: "<patch>", mark: patch.mark),
                                     fix: "use delete, replace or merge")
                    }
                }
                guard let dv = dest, case .object(var dobj) = dv.kind else {
                    return StrategicMerge.clean(patch)
                }
                for (k, pv) in po {
                    if k == "$patch" || k.hasPrefix("$setElementOrder/") { continue }
                    if k == "$retainKeys" || k.hasPrefix("$deleteFromPrimitiveList/") {
                        throw .error("strategic merge directive '\(k)' is not supported", at: SourceLocation(file: "<patch>", mark: pv.mark),
                                     fix: "rewrite the patch without it (e.g. replace the whole list)")
                    }
                    if pv.isNull { dobj.removeValue(forKey: k); continue }
                    let merged = try mergeValue(dobj[k], pv, path: path + [k], node: custom?.field(node, k))
                    if let merged { dobj.set(k, merged) } else { dobj.removeValue(forKey: k) }
                }
                return Value(.object(dobj), mark: dv.mark)
            case .array(let pa):
                guard let dv = dest, case .array(let da) = dv.kind else { return StrategicMerge.clean(patch) }
                return Value(.array(try mergeList(da, pa, path: path, node: node)), mark: dv.mark)
            default:
                return patch
            }
        }

        mutating func mergeList(_ dest: [Value], _ patch: [Value], path: [String], node: Value?) throws(Diagnostic) -> [Value] {
            if patch.contains(where: { $0.object.map { directive($0) == "replace" && $0.count == 1 } ?? false }) {
                return patch.filter { !($0.object.map { directive($0) == "replace" && $0.count == 1 } ?? false) }.compactMap(StrategicMerge.clean)
            }
            let keys: [String]
            if let custom {
                guard let k = custom.listKeys(node) else { return patch.compactMap(StrategicMerge.clean) }
                if k.isEmpty { return StrategicMerge.mergeScalarSet(dest, patch) }
                keys = k
            } else {
                guard schemaKnown, let key = MergeKeys.key(for: path) else { return patch.compactMap(StrategicMerge.clean) }
                keys = key == "port" || key == "containerPort" ? [key, "protocol"] : [key]
            }
            guard patch.allSatisfy({ $0.object != nil }), dest.allSatisfy({ $0.object != nil }) else {
                return patch.compactMap(StrategicMerge.clean)
            }
            let key = keys[0]
            let elementNode = custom?.elements(node)
            if keys.count > 1 {
                let secondary = keys.dropFirst()
                if (dest + patch).contains(where: { e in secondary.contains { e.object![$0] != nil } }) {
                    return try mergeMultiKey(dest, patch, key: key, secondary: Array(secondary), path: path, node: elementNode)
                }
            }
            var result: [Value] = []
            result.reserveCapacity(dest.count + patch.count)
            var used = [Bool](repeating: false, count: dest.count)
            for p in patch {
                let po = p.object!
                guard let kv = po[key] else {
                    if let c = StrategicMerge.clean(p) { result.append(c) }
                    continue
                }
                let isDelete = directive(po) == "delete"
                if let di = dest.indices.first(where: { !used[$0] && dest[$0][key] == kv }) {
                    used[di] = true
                    if isDelete { continue }
                    if let m = try mergeValue(dest[di], p, path: path, node: elementNode) { result.append(m) }
                } else if !isDelete, let c = StrategicMerge.clean(p) {
                    result.append(c)
                }
            }
            for i in dest.indices where !used[i] { result.append(dest[i]) }
            return result
        }

        /// Lists with several merge keys (ports by (port, protocol), `x-kubernetes-list-map-keys`)
        /// once any element has a secondary key. Kustomize v5's observable result, reproduced
        /// here: new patch elements first (in patch order), then the target's elements in their
        /// order, each merged with the patch element with the same values of all keys. A patch
        /// element matching a target element's primary key whose other keys differ only where one
        /// of the two lacks the key is dropped.
        mutating func mergeMultiKey(_ dest: [Value], _ patch: [Value], key: String, secondary: [String], path: [String],
                                    node: Value?) throws(Diagnostic) -> [Value] {
            var merged = dest.map { Optional($0) }
            var added: [Value] = []
            for p in patch {
                let po = p.object!
                guard let port = po[key] else {
                    if let c = StrategicMerge.clean(p) { added.append(c) }
                    continue
                }
                let samePort = dest.indices.filter { dest[$0][key] == port }
                if let di = samePort.first(where: { i in secondary.allSatisfy { dest[i][$0] == po[$0] } }) {
                    if directive(po) == "delete" { merged[di] = nil; continue }
                    merged[di] = try mergeValue(merged[di] ?? dest[di], p, path: path, node: node)
                } else if samePort.contains(where: { i in secondary.allSatisfy { dest[i][$0] == po[$0] || dest[i][$0] == nil || po[$0] == nil } }) {
                    continue
                } else if directive(po) != "delete", let c = StrategicMerge.clean(p) {
                    added.append(c)
                }
            }
            return added + merged.compactMap { $0 }
        }
    }

    /// A list of scalars with a `merge` strategy and no key (e.g. `finalizers`): the patch's
    /// values, then the target's values the patch does not have, each once.
    static func mergeScalarSet(_ dest: [Value], _ patch: [Value]) -> [Value] {
        var out: [Value] = []
        var seen = Set<Value>()
        for v in patch + dest where !v.isNull && v.object == nil && seen.insert(v).inserted { out.append(v) }
        return out
    }

    /// Patch content that lands where the target has nothing: drop nulls and directives.
    static func clean(_ v: Value) -> Value? {
        switch v.kind {
        case .object(let o):
            if o["$patch"]?.string == "delete" { return nil }
            var out = Object()
            for (k, x) in o {
                if k == "$patch" || k.hasPrefix("$setElementOrder/") || x.isNull { continue }
                if let c = clean(x) { out.append(k, c) }
            }
            return Value(.object(out), mark: v.mark)
        case .array(let a):
            return Value(.array(a.compactMap(clean)), mark: v.mark)
        default:
            return v
        }
    }
}

/// Patch merge keys of list fields in built-in Kubernetes kinds (from the API types'
/// `patchMergeKey` tags). Lists not listed here are replaced by a patch.
public enum MergeKeys {
    static let byField: [String: String] = [
        "containers": "name", "initContainers": "name", "ephemeralContainers": "name",
        "volumes": "name", "env": "name", "imagePullSecrets": "name", "resourceClaims": "name",
        "volumeMounts": "mountPath", "volumeDevices": "devicePath", "hostAliases": "ip",
        "conditions": "type", "topologySpreadConstraints": "topologyKey",
        "ownerReferences": "uid", "webhooks": "name",
    ]

    /// The merge key for the list at `path` (map keys from the object root), if any.
    public static func key(for path: [String]) -> String? {
        guard let field = path.last else { return nil }
        if field == "ports" {
            let inContainer = path.contains { $0 == "containers" || $0 == "initContainers" || $0 == "ephemeralContainers" }
            return inContainer ? "containerPort" : "port"
        }
        return byField[field]
    }

    /// Built-in API groups (whose kinds have a schema in Kustomize): the core group, groups
    /// without a dot, and `*.k8s.io` groups.
    public static func hasBuiltinSchema(_ gvk: GroupVersionKind?) -> Bool {
        guard let gvk else { return false }
        let g = gvk.group
        return g.isEmpty || !g.contains(".") || g.hasSuffix(".k8s.io")
    }
}
