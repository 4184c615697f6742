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
        let schemaKnown = MergeKeys.hasBuiltinSchema(target.gvk ?? patch.gvk)
        var ctx = Context(schemaKnown: schemaKnown)
        return try ctx.mergeValue(target, patch, path: [])
    }

    struct Context {
        let schemaKnown: Bool

        func directive(_ o: Object) -> String? { o["$patch"]?.string }

        mutating func mergeValue(_ dest: Value?, _ patch: Value, path: [String]) throws(Diagnostic) -> Value? {
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
                    let merged = try mergeValue(dobj[k], pv, path: path + [k])
                    if let merged { dobj.set(k, merged) } else { dobj.removeValue(forKey: k) }
                }
                return Value(.object(dobj), mark: dv.mark)
            case .array(let pa):
                guard let dv = dest, case .array(let da) = dv.kind else { return StrategicMerge.clean(patch) }
                return Value(.array(try mergeList(da, pa, path: path)), mark: dv.mark)
            default:
                return patch
            }
        }

        mutating func mergeList(_ dest: [Value], _ patch: [Value], path: [String]) throws(Diagnostic) -> [Value] {
            if patch.contains(where: { $0.object.map { directive($0) == "replace" && $0.count == 1 } ?? false }) {
                return patch.filter { !($0.object.map { directive($0) == "replace" && $0.count == 1 } ?? false) }.compactMap(StrategicMerge.clean)
            }
            guard schemaKnown, let key = MergeKeys.key(for: path),
                  patch.allSatisfy({ $0.object != nil }), dest.allSatisfy({ $0.object != nil }) else {
                return patch.compactMap(StrategicMerge.clean)
            }
            if key == "port" || key == "containerPort",
               (dest + patch).contains(where: { $0.object!["protocol"] != nil }) {
                return try mergePortsWithProtocol(dest, patch, key: key, path: path)
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
                    if let m = try mergeValue(dest[di], p, path: path) { result.append(m) }
                } else if !isDelete, let c = StrategicMerge.clean(p) {
                    result.append(c)
                }
            }
            for i in dest.indices where !used[i] { result.append(dest[i]) }
            return result
        }

        /// Ports are keyed by (port, protocol) once any element names a protocol. Kustomize v5's
        /// observable result, reproduced here: new patch elements first (in patch order), then the
        /// target's elements in their order, each merged with the patch element of the same port
        /// and protocol. A patch element whose port matches a target element but only one of the
        /// two names a protocol is dropped.
        mutating func mergePortsWithProtocol(_ dest: [Value], _ patch: [Value], key: String, path: [String]) throws(Diagnostic) -> [Value] {
            var merged = dest.map { Optional($0) }
            var added: [Value] = []
            for p in patch {
                let po = p.object!
                guard let port = po[key] else {
                    if let c = StrategicMerge.clean(p) { added.append(c) }
                    continue
                }
                let proto = po["protocol"]
                let samePort = dest.indices.filter { dest[$0][key] == port }
                if let di = samePort.first(where: { dest[$0]["protocol"] == proto }) {
                    if directive(po) == "delete" { merged[di] = nil; continue }
                    merged[di] = try mergeValue(merged[di] ?? dest[di], p, path: path)
                } else if samePort.contains(where: { (dest[$0]["protocol"] == nil) != (proto == nil) }) {
                    continue
                } else if directive(po) != "delete", let c = StrategicMerge.clean(p) {
                    added.append(c)
                }
            }
            return added + merged.compactMap { $0 }
        }
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
