import Foundation
import PatternCore

/// Non-apply patch formats: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and
/// strategic merge patch (built-in kinds only).
enum Patches {
    struct PatchError: Error { var message: String; var code: Int = 422 }

    static func mergePatch(_ target: Value?, _ patch: Value) -> Value {
        guard let po = patch.object else { return patch }
        var t = target?.object ?? Object()
        for (k, pv) in po {
            if pv.isNull { t.removeValue(forKey: k) } else { t.set(k, mergePatch(t[k], pv)) }
        }
        return .object(t)
    }

    // MARK: JSON patch

    static func jsonPatch(_ doc: Value, _ patch: Value) throws(PatchError) -> Value {
        guard let ops = patch.array else { throw PatchError(message: "json: cannot unmarshal object into Go value of type jsonpatch.Patch", code: 400) }
        var d = doc
        for op in ops {
            guard let kind = op["op"]?.string, let path = op["path"]?.string else {
                throw PatchError(message: "invalid JSON patch operation: \(op)", code: 400)
            }
            let ptr = try pointer(path)
            switch kind {
            case "add":
                guard let v = op["value"] else { throw PatchError(message: "missing value for add") }
                try set(&d, ptr[...], v, insert: true)
            case "replace":
                guard let v = op["value"] else { throw PatchError(message: "missing value for replace") }
                guard get(d, ptr) != nil else { throw PatchError(message: "the server rejected our request due to an error in our request: replace operation does not apply: doc is missing key: \(path)") }
                try set(&d, ptr[...], v, insert: false)
            case "remove":
                guard get(d, ptr) != nil else { throw PatchError(message: "the server rejected our request due to an error in our request: remove operation does not apply: doc is missing path: \(path)") }
                try removeAt(&d, ptr[...])
            case "test":
                if get(d, ptr) != op["value"] { throw PatchError(message: "the server rejected our request due to an error in our request: testing value \(path) failed") }
            case "move", "copy":
                guard let from = op["from"]?.string, let v = get(d, try pointer(from)) else { throw PatchError(message: "\(kind) operation: missing from path") }
                if kind == "move" { try removeAt(&d, try pointer(from)[...]) }
                try set(&d, ptr[...], v, insert: true)
            default:
                throw PatchError(message: "unexpected JSON patch operation \"\(kind)\"", code: 400)
            }
        }
        return d
    }

    static func pointer(_ p: String) throws(PatchError) -> [String] {
        if p.isEmpty { return [] }
        guard p.hasPrefix("/") else { throw PatchError(message: "JSON pointer must start with '/': \(p)") }
        return p.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    static func get(_ v: Value, _ ptr: [String]) -> Value? {
        var cur = v
        for t in ptr {
            if let o = cur.object { guard let n = o[t] else { return nil }; cur = n }
            else if let a = cur.array { guard let i = Int(t), i >= 0, i < a.count else { return nil }; cur = a[i] }
            else { return nil }
        }
        return cur
    }

    static func set(_ v: inout Value, _ ptr: ArraySlice<String>, _ new: Value, insert: Bool) throws(PatchError) {
        guard let t = ptr.first else { v = new; return }
        if ptr.count == 1 {
            if var a = v.array {
                if t == "-" { a.append(new) } else {
                    guard let i = Int(t), i >= 0, i <= a.count else { throw PatchError(message: "index out of range: \(t)") }
                    if insert { a.insert(new, at: i) } else { guard i < a.count else { throw PatchError(message: "index out of range: \(t)") }; a[i] = new }
                }
                v = .array(a)
            } else if v.object != nil {
                v[t] = new
            } else { throw PatchError(message: "doc is missing path: \(t)") }
            return
        }
        if var a = v.array {
            guard let i = Int(t), i >= 0, i < a.count else { throw PatchError(message: "index out of range: \(t)") }
            try set(&a[i], ptr.dropFirst(), new, insert: insert)
            v = .array(a)
        } else if var child = v[t] {
            try set(&child, ptr.dropFirst(), new, insert: insert)
            v[t] = child
        } else {
            throw PatchError(message: "the server rejected our request due to an error in our request: add operation does not apply: doc is missing path: /\(ptr.joined(separator: "/"))")
        }
    }

    static func removeAt(_ v: inout Value, _ ptr: ArraySlice<String>) throws(PatchError) {
        guard let t = ptr.first else { return }
        if ptr.count == 1 {
            if var a = v.array, let i = Int(t), i >= 0, i < a.count { a.remove(at: i); v = .array(a); return }
            if v.object != nil { v[t] = nil; return }
            throw PatchError(message: "doc is missing path")
        }
        if var a = v.array, let i = Int(t), i >= 0, i < a.count {
            try removeAt(&a[i], ptr.dropFirst()); v = .array(a)
        } else if var child = v[t] {
            try removeAt(&child, ptr.dropFirst()); v[t] = child
        }
    }

    // MARK: Strategic merge patch

    /// Merge key of a list in strategic merge patch (`patchMergeKey`), nil when the list is replaced.
    static func smpMergeKey(_ spath: [String], kind: String) -> String? {
        guard let last = spath.last else { return nil }
        switch last {
        case "containers", "initContainers", "ephemeralContainers", "env", "volumes", "imagePullSecrets", "resourceClaims": return "name"
        case "ports":
            if spath.count >= 3, MergeSchema.containerLists.contains(spath[spath.count - 3]) { return "containerPort" }
            if kind == "Service" && spath == ["spec", "ports"] { return "port" }
            return nil
        case "volumeMounts": return "mountPath"
        case "volumeDevices": return "devicePath"
        case "conditions": return "type"
        case "hostAliases": return "ip"
        case "topologySpreadConstraints": return "topologyKey"
        case "ownerReferences": return "uid"
        default: return nil
        }
    }

    static func strategicMerge(_ target: Value?, _ patch: Value, kind: String, spath: [String] = []) -> Value? {
        guard let po = patch.object else { return patch }
        if po["$patch"]?.string == "delete" { return nil }
        if po["$patch"]?.string == "replace" {
            return .object(po.filter { k, _ in k != "$patch" })
        }
        var t = target?.object ?? Object()
        var retain: Set<String>? = nil
        if let rk = po["$retainKeys"]?.array { retain = Set(rk.compactMap(\.string)) }
        for (k, pv) in po {
            if k.hasPrefix("$setElementOrder/") || k == "$retainKeys" || k == "$patch" { continue }
            if k.hasPrefix("$deleteFromPrimitiveList/") {
                let field = String(k.dropFirst("$deleteFromPrimitiveList/".count))
                if let cur = t[field]?.array, let del = pv.array { t.set(field, .array(cur.filter { !del.contains($0) })) }
                continue
            }
            if pv.isNull { t.removeValue(forKey: k); continue }
            let sp = spath + [k]
            if let pa = pv.array {
                if let key = smpMergeKey(sp, kind: kind) {
                    var cur = t[k]?.array ?? []
                    for item in pa {
                        let directive = item["$patch"]?.string
                        let kv = item[key]
                        if let idx = cur.firstIndex(where: { $0[key] == kv && kv != nil }) {
                            if directive == "delete" { cur.remove(at: idx) } else if let m = strategicMerge(cur[idx], item, kind: kind, spath: sp + ["[]"]) { cur[idx] = m }
                        } else if directive != "delete" {
                            cur.append(.object((item.object ?? Object()).filter { k, _ in k != "$patch" }))
                        }
                    }
                    t.set(k, .array(cur))
                } else if sp == ["metadata", "finalizers"] {
                    var cur = t[k]?.array ?? []
                    for item in pa where !cur.contains(item) { cur.append(item) }
                    t.set(k, .array(cur))
                } else {
                    t.set(k, pv)
                }
            } else if pv.object != nil {
                if let m = strategicMerge(t[k], pv, kind: kind, spath: sp) { t.set(k, m) } else { t.removeValue(forKey: k) }
            } else {
                t.set(k, pv)
            }
        }
        if let retain { t = t.filter { k, _ in retain.contains(k) } }
        return .object(t)
    }
}
