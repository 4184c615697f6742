import PatternCore

/// A set of field paths, as server-side apply tracks ownership (structured-merge-diff's
/// `fieldpath.Set`). Path elements are written as in `FieldsV1`: `f:name` (field),
/// `k:{"name":"main"}` (item of a keyed list), `v:"x"` (item of a set list), `i:3` (index).
public struct FieldSet: Sendable, Equatable {
    public var members: Set<String> = []
    public var children: [String: FieldSet] = [:]

    public init() {}

    public var isEmpty: Bool { members.isEmpty && children.isEmpty }

    public mutating func insert(_ path: [String]) { insert(path[...]) }

    mutating func insert(_ path: ArraySlice<String>) {
        guard let first = path.first else { return }
        if path.count == 1 { members.insert(first); return }
        children[first, default: FieldSet()].insert(path.dropFirst())
    }

    public func contains(_ path: [String]) -> Bool {
        var node = self
        for (i, pe) in path.enumerated() {
            if i == path.count - 1 { return node.members.contains(pe) }
            guard let c = node.children[pe] else { return false }
            node = c
        }
        return false
    }

    public func union(_ o: FieldSet) -> FieldSet {
        var r = self
        r.members.formUnion(o.members)
        for (k, c) in o.children { r.children[k] = (r.children[k] ?? FieldSet()).union(c) }
        return r
    }

    public func difference(_ o: FieldSet) -> FieldSet {
        var r = FieldSet()
        r.members = members.subtracting(o.members)
        for (k, c) in children {
            let d = o.children[k].map { c.difference($0) } ?? c
            if !d.isEmpty { r.children[k] = d }
        }
        return r
    }

    public func intersection(_ o: FieldSet) -> FieldSet {
        var r = FieldSet()
        r.members = members.intersection(o.members)
        for (k, c) in children {
            if let oc = o.children[k] {
                let i = c.intersection(oc)
                if !i.isEmpty { r.children[k] = i }
            }
        }
        return r
    }

    /// Removes every path that has a member of `o` as a prefix (or equals one).
    public func recursiveDifference(_ o: FieldSet) -> FieldSet {
        var r = FieldSet()
        r.members = members.subtracting(o.members)
        for (k, c) in children {
            if o.members.contains(k) { continue }
            let d = o.children[k].map { c.recursiveDifference($0) } ?? c
            if !d.isEmpty { r.children[k] = d }
        }
        return r
    }

    /// Field nodes that have children count as members too (structured-merge-diff's
    /// `EnsureNamedFieldsAreMembers`), so pruning can remove emptied parents.
    func withNamedFieldsAsMembers() -> FieldSet {
        var r = self
        for (k, c) in children {
            if k.hasPrefix("f:") { r.members.insert(k) }
            r.children[k] = c.withNamedFieldsAsMembers()
        }
        return r
    }

    /// Every member path, in FieldsV1 order.
    public var paths: [[String]] {
        var out: [[String]] = []
        func walk(_ s: FieldSet, _ prefix: [String]) {
            for k in FieldSet.sorted(Set(s.members).union(s.children.keys)) {
                if s.members.contains(k) { out.append(prefix + [k]) }
                if let c = s.children[k] { walk(c, prefix + [k]) }
            }
        }
        walk(self, [])
        return out
    }

    static func rank(_ pe: String) -> Int {
        switch pe.first {
        case "f": return 0
        case "k": return 1
        case "v": return 2
        case "i": return 3
        default: return 4
        }
    }

    static func sorted<S: Sequence>(_ keys: S) -> [String] where S.Element == String {
        keys.sorted { a, b in
            let ra = rank(a), rb = rank(b)
            return ra != rb ? ra < rb : a < b
        }
    }

    // MARK: FieldsV1

    /// The `fieldsV1` JSON object.
    public var fieldsV1: Value {
        var o = Object()
        for k in FieldSet.sorted(Set(members).union(children.keys)) {
            if let c = children[k] {
                var child = c.fieldsV1
                if members.contains(k) {
                    var withSelf = Object()
                    withSelf.append(".", .emptyObject)
                    for (ck, cv) in child.object ?? Object() { withSelf.append(ck, cv) }
                    child = .object(withSelf)
                }
                o.append(k, child)
            } else {
                o.append(k, .emptyObject)
            }
        }
        return .object(o)
    }

    public init(fieldsV1 v: Value) {
        guard let o = v.object else { return }
        for (k, c) in o where k != "." {
            let co = c.object ?? Object()
            if co.isEmpty {
                members.insert(k)
            } else {
                if co.contains(".") { members.insert(k) }
                let child = FieldSet(fieldsV1: c)
                if !child.isEmpty { children[k] = child }
            }
        }
    }

    /// `.spec.containers[name="main"].image`: how conflicts name a path.
    public static func describe(_ path: [String]) -> String {
        var s = ""
        for pe in path {
            let body = String(pe.dropFirst(2))
            switch pe.prefix(2) {
            case "f:": s += "." + body
            case "k:":
                if let v = try? JSONParser.parse(body), let o = v.object {
                    s += "[" + o.sortedByKey.map { "\($0.key)=\(JSONWriter.string($0.value))" }.joined(separator: ",") + "]"
                } else { s += "[\(body)]" }
            case "v:": s += "[=\(body)]"
            case "i:": s += "[\(body)]"
            default: s += pe
            }
        }
        return s
    }
}

/// How lists and maps at a position merge: the part of the OpenAPI schema SSA needs.
struct MergeSchema: Sendable {
    enum ListType: Sendable, Equatable { case atomic, set, map([String]) }

    var group: String
    var kind: String
    /// `openAPIV3Schema` of a custom resource's version, when known.
    var crdSchema: Value?

    static let workloadSelectorKinds: Set<String> = ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "PodDisruptionBudget"]
    static let containerLists: Set<String> = ["containers", "initContainers", "ephemeralContainers"]

    /// `spath`: field names from the object root, `[]` for list items.
    func listType(_ spath: [String]) -> ListType {
        if spath.first == "metadata" || crdSchema == nil {
            return builtinListType(spath)
        }
        guard let node = crdNode(spath) else { return .atomic }
        switch node["x-kubernetes-list-type"]?.string {
        case "map":
            return .map((node["x-kubernetes-list-map-keys"]?.array ?? []).compactMap { $0.string })
        case "set": return .set
        default: return .atomic
        }
    }

    /// Defaults of key fields (`protocol: TCP` for ports), used to build `k:` elements.
    func keyDefaults(_ spath: [String]) -> [String: Value] {
        if spath.last == "ports" { return ["protocol": "TCP"] }
        return [:]
    }

    func isAtomicMap(_ spath: [String]) -> Bool {
        if spath.first == "metadata" || crdSchema == nil {
            guard let last = spath.last else { return false }
            switch last {
            case "nodeSelector", "podSelector", "namespaceSelector", "labelSelector": return true
            case "selector":
                if spath == ["spec", "selector"] { return MergeSchema.workloadSelectorKinds.contains(kind) || kind == "Service" }
                return spath.count > 2 && spath[spath.count - 2] != "metadata" && !MergeSchema.containerLists.contains(spath[spath.count - 2])
            default: return false
            }
        }
        return crdNode(spath)?["x-kubernetes-map-type"]?.string == "atomic"
    }

    func builtinListType(_ spath: [String]) -> ListType {
        guard let last = spath.last else { return .atomic }
        if spath == ["metadata", "finalizers"] { return .set }
        if spath == ["metadata", "ownerReferences"] { return .map(["uid"]) }
        switch last {
        case "containers", "initContainers", "ephemeralContainers", "env", "volumes", "imagePullSecrets", "resourceClaims", "schedulingGates":
            return .map(["name"])
        case "ports":
            if spath.count >= 3, spath[spath.count - 2] == "[]", MergeSchema.containerLists.contains(spath[spath.count - 3]) {
                return .map(["containerPort", "protocol"])
            }
            if kind == "Service" && spath == ["spec", "ports"] { return .map(["port", "protocol"]) }
            return .atomic
        case "volumeMounts": return .map(["mountPath"])
        case "volumeDevices": return .map(["devicePath"])
        case "conditions": return .map(["type"])
        case "hostAliases": return .map(["ip"])
        case "topologySpreadConstraints": return .map(["topologyKey", "whenUnsatisfiable"])
        default: return .atomic
        }
    }

    /// The schema node at `spath` of a custom resource (nil when untyped there).
    func crdNode(_ spath: [String]) -> Value? {
        guard var node = crdSchema else { return nil }
        for step in spath {
            if step == "[]" {
                guard let items = node["items"] else { return nil }
                node = items
            } else if let p = node["properties"]?[step] {
                node = p
            } else if let ap = node["additionalProperties"], ap.object != nil {
                node = ap
            } else {
                return nil
            }
        }
        return node
    }

    // MARK: Path elements

    func keyElement(_ item: Value, keys: [String], spath: [String]) -> String {
        let defaults = keyDefaults(spath)
        var o = Object()
        for k in keys.sorted() {
            if let v = item[k] { o.append(k, v) } else if let d = defaults[k] { o.append(k, d) }
        }
        return "k:" + JSONWriter.string(.object(o))
    }

    func element(_ item: Value, index: Int, type: ListType, spath: [String]) -> String {
        switch type {
        case .atomic: return "i:\(index)"
        case .set: return "v:" + JSONWriter.string(item)
        case .map(let keys): return keyElement(item, keys: keys, spath: spath)
        }
    }

    // MARK: Field sets, comparison, merge, removal

    /// Fields set by an applied configuration (structured-merge-diff `ToFieldSet`).
    func fieldSet(of v: Value) -> FieldSet {
        var s = FieldSet()
        collect(v, spath: [], path: [], into: &s)
        return s
    }

    private func collect(_ v: Value, spath: [String], path: [String], into s: inout FieldSet) {
        switch v.kind {
        case .object(let o):
            if !path.isEmpty && isAtomicMap(spath) { s.insert(path); return }
            // Keys of a map (not declared struct fields) are members themselves, as in
            // structured-merge-diff; known only where a CRD schema says so.
            let node = crdSchema != nil && spath.first != "metadata" && !spath.isEmpty ? crdNode(spath) : nil
            let isMap = node.map { $0["properties"] == nil && $0["additionalProperties"]?.object != nil } ?? false
            for (k, child) in o {
                let p = path + ["f:" + k]
                collect(child, spath: spath + [k], path: p, into: &s)
                if child.isNull || (child.object?.isEmpty ?? false) || isMap { s.insert(p) }
            }
        case .array(let a):
            let t = listType(spath)
            if t == .atomic { s.insert(path); return }
            for (i, item) in a.enumerated() {
                let p = path + [element(item, index: i, type: t, spath: spath)]
                if case .map = t { collect(item, spath: spath + ["[]"], path: p, into: &s) }
                s.insert(p)
            }
        default:
            if !path.isEmpty { s.insert(path) }
        }
    }

    struct Comparison {
        var added = FieldSet()
        var modified = FieldSet()
        var removed = FieldSet()
        var changed: FieldSet { added.union(modified) }
    }

    func compare(_ l: Value?, _ r: Value?) -> Comparison {
        var c = Comparison()
        cmp(l, r, spath: [], path: [], &c)
        return c
    }

    private func isEmptyMapOrNil(_ v: Value?) -> Bool { v == nil || v!.isNull || (v!.object?.isEmpty ?? false) }
    private func isEmptyListOrNil(_ v: Value?) -> Bool { v == nil || v!.isNull || (v!.array?.isEmpty ?? false) }

    private func cmp(_ l: Value?, _ r: Value?, spath: [String], path: [String], _ c: inout Comparison) {
        // null counts as an absent value for the shape but as present for added/removed,
        // as structured-merge-diff treats it.
        let lo = l?.object, ro = r?.object
        let la = l?.array, ra = r?.array
        let lNullish = l == nil || l!.isNull, rNullish = r == nil || r!.isNull
        let mapShape = (lo != nil || ro != nil) && (lNullish || lo != nil) && (rNullish || ro != nil)
        let listShape = (la != nil || ra != nil) && (lNullish || la != nil) && (rNullish || ra != nil)
        if mapShape && !(path.count > 0 && isAtomicMap(spath)) && !(isEmptyMapOrNil(l) && isEmptyMapOrNil(r)) {
            var keys = lo?.keys ?? []
            for k in ro?.keys ?? [] where !(lo?.contains(k) ?? false) { keys.append(k) }
            for k in keys {
                cmp(lo?[k], ro?[k], spath: spath + [k], path: path + ["f:" + k], &c)
            }
            if !path.isEmpty {
                if l == nil { c.added.insert(path) } else if r == nil { c.removed.insert(path) }
            }
            return
        }
        if listShape && listType(spath) != .atomic && !(isEmptyListOrNil(l) && isEmptyListOrNil(r)) {
            let t = listType(spath)
            var order: [String] = []
            var lm: [String: Value] = [:], rm: [String: Value] = [:]
            for (i, item) in (la ?? []).enumerated() {
                let pe = element(item, index: i, type: t, spath: spath)
                if lm[pe] == nil { order.append(pe) }
                lm[pe] = item
            }
            for (i, item) in (ra ?? []).enumerated() {
                let pe = element(item, index: i, type: t, spath: spath)
                if lm[pe] == nil && rm[pe] == nil { order.append(pe) }
                rm[pe] = item
            }
            for pe in order {
                if case .map = t {
                    cmp(lm[pe], rm[pe], spath: spath + ["[]"], path: path + [pe], &c)
                } else {
                    if lm[pe] == nil { c.added.insert(path + [pe]) } else if rm[pe] == nil { c.removed.insert(path + [pe]) }
                }
            }
            if !path.isEmpty {
                if l == nil { c.added.insert(path) } else if r == nil { c.removed.insert(path) }
            }
            return
        }
        guard !path.isEmpty else { return }
        if l == nil { c.added.insert(path) } else if r == nil { c.removed.insert(path) } else if l! != r! { c.modified.insert(path) }
    }

    /// Merges an applied configuration into the live object.
    func merge(_ l: Value?, _ r: Value, spath: [String] = []) -> Value? {
        guard let l else { return r.isNull ? nil : r }
        if r.isNull { return nil }
        if let lo = l.object, let ro = r.object, spath.isEmpty || !isAtomicMap(spath) {
            var out = lo
            for (k, rv) in ro {
                if let merged = merge(lo[k], rv, spath: spath + [k]) { out.set(k, merged) } else { out.removeValue(forKey: k) }
            }
            return .object(out)
        }
        if let la = l.array, let ra = r.array {
            let t = listType(spath)
            switch t {
            case .atomic: return r
            case .set:
                var out = la
                for item in ra where !la.contains(item) { out.append(item) }
                return .array(out)
            case .map:
                // structured-merge-diff's ordering: live items not in the config stay where they
                // are; config items come in config order; shared items are merged in place.
                let lpe = la.enumerated().map { element($1, index: $0, type: t, spath: spath) }
                let rpe = ra.enumerated().map { element($1, index: $0, type: t, spath: spath) }
                let rset = Set(rpe)
                var lByPE: [String: Value] = [:]
                for (i, pe) in lpe.enumerated() where lByPE[pe] == nil { lByPE[pe] = la[i] }
                var shared = rpe.filter { lByPE[$0] != nil }[...]
                var nextShared = shared.popFirst()
                var mergedR = Set<String>()
                var out: [Value] = []
                var li = 0, ri = 0
                while li < la.count || ri < ra.count {
                    if li < la.count && ri < ra.count {
                        let pe = lpe[li]
                        if pe == rpe[ri] {
                            mergedR.insert(pe)
                            if let m = merge(la[li], ra[ri], spath: spath + ["[]"]) { out.append(m) }
                            li += 1; ri += 1
                            if nextShared == pe { nextShared = shared.popFirst() }
                            continue
                        }
                        if rset.contains(pe), let ns = nextShared, ns != pe {
                            li += 1
                            continue
                        }
                    }
                    if li < la.count {
                        let pe = lpe[li]
                        if !rset.contains(pe) { out.append(la[li]); li += 1; continue }
                        if mergedR.contains(pe) { li += 1; continue }
                    }
                    if ri < ra.count {
                        let pe = rpe[ri]
                        mergedR.insert(pe)
                        if let m = merge(lByPE[pe], ra[ri], spath: spath + ["[]"]) { out.append(m) }
                        ri += 1
                        if nextShared == pe { nextShared = shared.popFirst() }
                    }
                }
                return .array(out)
            }
        }
        return r
    }

    /// Removes the members of `set` (fields, list items) from `v`.
    func remove(_ set: FieldSet, from v: inout Value, spath: [String] = []) {
        if var o = v.object {
            for (k, child) in set.children where !set.members.contains(k) && k.hasPrefix("f:") {
                let name = String(k.dropFirst(2))
                if var cv = o[name] {
                    remove(child, from: &cv, spath: spath + [name])
                    o.set(name, cv)
                }
            }
            for m in set.members where m.hasPrefix("f:") { o.removeValue(forKey: String(m.dropFirst(2))) }
            v = .object(o)
        } else if var a = v.array {
            let t = listType(spath)
            var i = 0
            while i < a.count {
                let pe = element(a[i], index: i, type: t, spath: spath)
                if set.members.contains(pe) { a.remove(at: i); continue }
                if let child = set.children[pe] {
                    var item = a[i]
                    remove(child, from: &item, spath: spath + ["[]"])
                    a[i] = item
                }
                i += 1
            }
            v = .array(a)
        }
    }

    // MARK: Typing of applied objects (custom resources and metadata)

    /// The first type error of an applied object, in structured-merge-diff's words.
    func typeError(_ v: Value) -> String? {
        if let labels = v[path: ["metadata", "labels"]]?.object {
            for (k, lv) in labels where lv.string == nil { return ".metadata.labels.\(k): expected string, got \(MergeSchema.goValue(lv))" }
        }
        if let ann = v[path: ["metadata", "annotations"]]?.object {
            for (k, av) in ann where av.string == nil { return ".metadata.annotations.\(k): expected string, got \(MergeSchema.goValue(av))" }
        }
        if kind == "ConfigMap", group.isEmpty, let data = v["data"]?.object {
            for (k, dv) in data where dv.string == nil { return ".data.\(k): expected string, got \(MergeSchema.goValue(dv))" }
        }
        if crdSchema == nil, let e = builtinTypeError(v) { return e }
        guard let schema = crdSchema else { return nil }
        for (k, child) in v.object ?? Object() where k != "metadata" && k != "apiVersion" && k != "kind" {
            if let node = schema["properties"]?[k] {
                if let e = typeError(child, node, ".\(k)") { return e }
            } else if schema["x-kubernetes-preserve-unknown-fields"]?.bool != true {
                return ".\(k): field not declared in schema"
            }
        }
        return nil
    }

    /// Drops fields a structural schema does not declare (what the real server does to custom
    /// resources written by create, update and non-apply patches).
    static func pruneUnknown(_ v: inout Value, _ node: Value, isRoot: Bool = false) {
        if node["x-kubernetes-preserve-unknown-fields"]?.bool == true && node["properties"] == nil { return }
        if var o = v.object {
            let props = node["properties"]?.object
            let ap = node["additionalProperties"]
            for k in o.keys {
                if isRoot && (k == "apiVersion" || k == "kind" || k == "metadata") { continue }
                if let p = props?[k] {
                    o.modify(k) { c in if var cv = c { pruneUnknown(&cv, p); c = cv } }
                } else if let ap, ap.object != nil {
                    o.modify(k) { c in if var cv = c { pruneUnknown(&cv, ap); c = cv } }
                } else if ap?.bool == true || node["x-kubernetes-preserve-unknown-fields"]?.bool == true {
                    continue
                } else if props != nil || node["type"]?.string == "object" {
                    o.removeValue(forKey: k)
                }
            }
            v = .object(o)
        } else if var a = v.array, let items = node["items"] {
            for i in a.indices { pruneUnknown(&a[i], items) }
            v = .array(a)
        }
    }

    /// Fields a structural schema does not declare (`spec.colour`), for `fieldValidation=Strict`.
    static func unknownFields(_ v: Value, _ node: Value, path: String = "", isRoot: Bool = true) -> [String] {
        if node["x-kubernetes-preserve-unknown-fields"]?.bool == true && node["properties"] == nil { return [] }
        var out: [String] = []
        if let o = v.object {
            for (k, child) in o {
                if isRoot && (k == "apiVersion" || k == "kind" || k == "metadata") { continue }
                let p = path.isEmpty ? k : "\(path).\(k)"
                if let n = node["properties"]?[k] {
                    out += unknownFields(child, n, path: p, isRoot: false)
                } else if let ap = node["additionalProperties"], ap.object != nil {
                    out += unknownFields(child, ap, path: p, isRoot: false)
                } else if node["additionalProperties"]?.bool != true && node["x-kubernetes-preserve-unknown-fields"]?.bool != true {
                    out.append(p)
                }
            }
        } else if let a = v.array, let items = node["items"] {
            for (i, item) in a.enumerated() { out += unknownFields(item, items, path: "\(path)[\(i)]", isRoot: false) }
        }
        return out
    }

    private func typeError(_ v: Value, _ node: Value, _ path: String) -> String? {
        if v.isNull { return nil }
        if node["x-kubernetes-int-or-string"]?.bool == true {
            if v.int != nil || v.string != nil { return nil }
        }
        switch node["type"]?.string {
        case "integer", "number":
            if v.number == nil { return "\(path): expected numeric (int or float), got \(MergeSchema.goType(v))" }
        case "string":
            if v.string == nil { return "\(path): expected string, got \(MergeSchema.goValue(v))" }
        case "boolean":
            if v.bool == nil { return "\(path): expected boolean, got \(MergeSchema.goValue(v))" }
        case "object":
            guard let o = v.object else { return "\(path): expected map, got \(MergeSchema.goValue(v))" }
            let preserve = node["x-kubernetes-preserve-unknown-fields"]?.bool == true
            for (k, child) in o {
                if let p = node["properties"]?[k] {
                    if let e = typeError(child, p, "\(path).\(k)") { return e }
                } else if let ap = node["additionalProperties"], ap.object != nil {
                    if let e = typeError(child, ap, "\(path).\(k)") { return e }
                } else if !preserve && node["additionalProperties"]?.bool != true {
                    return "\(path).\(k): field not declared in schema"
                }
            }
        case "array":
            guard let a = v.array else { return "\(path): expected list, got \(MergeSchema.goValue(v))" }
            if let items = node["items"] {
                for (i, item) in a.enumerated() { if let e = typeError(item, items, "\(path)[\(i)]") { return e } }
            }
        default: break
        }
        return nil
    }

    /// The common scalar type mistakes in built-in kinds (unquoted numbers or booleans where
    /// the schema wants strings, strings where it wants numbers), reported as structured-merge-diff
    /// words them.
    /// Declared fields of the most used built-in structures, so that a typo in an applied
    /// object fails as on the real server (`.spec.replicaz: field not declared in schema`).
    static let knownFields: [String: Set<String>] = [
        "metadata": ["name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation", "creationTimestamp",
                     "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences", "finalizers",
                     "managedFields", "clusterName"],
        "Deployment": ["replicas", "selector", "template", "strategy", "minReadySeconds", "revisionHistoryLimit", "paused", "progressDeadlineSeconds"],
        "ReplicaSet": ["replicas", "minReadySeconds", "selector", "template"],
        "StatefulSet": ["replicas", "selector", "template", "volumeClaimTemplates", "serviceName", "podManagementPolicy", "updateStrategy",
                        "revisionHistoryLimit", "minReadySeconds", "persistentVolumeClaimRetentionPolicy", "ordinals"],
        "DaemonSet": ["selector", "template", "updateStrategy", "minReadySeconds", "revisionHistoryLimit"],
        "Job": ["parallelism", "completions", "activeDeadlineSeconds", "podFailurePolicy", "successPolicy", "backoffLimit", "backoffLimitPerIndex",
                "maxFailedIndexes", "selector", "manualSelector", "template", "ttlSecondsAfterFinished", "completionMode", "suspend",
                "podReplacementPolicy", "managedBy"],
        "template": ["metadata", "spec"],
        "podSpec": ["volumes", "initContainers", "containers", "ephemeralContainers", "restartPolicy", "terminationGracePeriodSeconds",
                    "activeDeadlineSeconds", "dnsPolicy", "nodeSelector", "serviceAccountName", "serviceAccount", "automountServiceAccountToken",
                    "nodeName", "hostNetwork", "hostPID", "hostIPC", "shareProcessNamespace", "securityContext", "imagePullSecrets", "hostname",
                    "subdomain", "affinity", "schedulerName", "tolerations", "hostAliases", "priorityClassName", "priority", "dnsConfig",
                    "readinessGates", "runtimeClassName", "enableServiceLinks", "preemptionPolicy", "overhead", "topologySpreadConstraints",
                    "setHostnameAsFQDN", "os", "hostUsers", "schedulingGates", "resourceClaims", "resources"],
        "container": ["name", "image", "command", "args", "workingDir", "ports", "envFrom", "env", "resources", "resizePolicy", "restartPolicy",
                      "volumeMounts", "volumeDevices", "livenessProbe", "readinessProbe", "startupProbe", "lifecycle", "terminationMessagePath",
                      "terminationMessagePolicy", "imagePullPolicy", "securityContext", "stdin", "stdinOnce", "tty"],
        "ConfigMap": ["apiVersion", "kind", "metadata", "data", "binaryData", "immutable"],
        "Secret": ["apiVersion", "kind", "metadata", "data", "stringData", "type", "immutable"],
        "workload": ["apiVersion", "kind", "metadata", "spec", "status"],
    ]

    func undeclared(_ o: Object?, _ known: String, _ path: String) -> String? {
        guard let o, let set = MergeSchema.knownFields[known] else { return nil }
        for k in o.keys where !set.contains(k) { return "\(path).\(k): field not declared in schema" }
        return nil
    }

    func builtinTypeError(_ v: Value) -> String? {
        guard group.isEmpty || ["apps", "batch"].contains(group) else { return nil }
        if let e = undeclared(v["metadata"]?.object, "metadata", ".metadata") { return e }
        switch kind {
        case "ConfigMap", "Secret":
            if let e = undeclared(v.object, kind, "") { return e }
        case "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job":
            if let e = undeclared(v.object, "workload", "") { return e }
            if let e = undeclared(v["spec"]?.object, kind, ".spec") { return e }
            if let e = undeclared(v[path: ["spec", "template"]]?.object, "template", ".spec.template") { return e }
            if let e = undeclared(v[path: ["spec", "template", "metadata"]]?.object, "metadata", ".spec.template.metadata") { return e }
            if let e = undeclared(v[path: ["spec", "template", "spec"]]?.object, "podSpec", ".spec.template.spec") { return e }
            for list in ["initContainers", "containers"] {
                for c in v[path: ["spec", "template", "spec", list]]?.array ?? [] {
                    if let e = undeclared(c.object, "container", ".spec.template.spec.\(list)[name=\"\(c["name"]?.scalarText ?? "")\"]") { return e }
                }
            }
        default:
            break
        }
        return builtinScalarError(v)
    }

    func builtinScalarError(_ v: Value) -> String? {
        if ["Deployment", "ReplicaSet", "StatefulSet", "ReplicationController"].contains(kind), let r = v[path: ["spec", "replicas"]], !r.isNull, r.number == nil {
            return ".spec.replicas: expected numeric (int or float), got \(MergeSchema.goType(r))"
        }
        let podSpecs: [[String]]
        switch kind {
        case "Pod": podSpecs = [["spec"]]
        case "CronJob": podSpecs = [["spec", "jobTemplate", "spec", "template", "spec"]]
        case "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController": podSpecs = [["spec", "template", "spec"]]
        case "PodTemplate": podSpecs = [["template", "spec"]]
        default: podSpecs = []
        }
        for ps in podSpecs {
            guard let spec = v[path: ps] else { continue }
            let base = ps.map { "." + $0 }.joined()
            for list in ["initContainers", "containers"] {
                for c in spec[list]?.array ?? [] {
                    let cpath = "\(base).\(list)[name=\"\(c["name"]?.scalarText ?? "")\"]"
                    for e in c["env"]?.array ?? [] {
                        if let val = e["value"], !val.isNull, val.string == nil {
                            return "\(cpath).env[name=\"\(e["name"]?.scalarText ?? "")\"].value: expected string, got \(MergeSchema.goValue(val))"
                        }
                    }
                    for field in ["args", "command"] {
                        for (i, a) in (c[field]?.array ?? []).enumerated() where a.string == nil {
                            return "\(cpath).\(field)[\(i)]: expected string, got \(MergeSchema.goValue(a))"
                        }
                    }
                    if let image = c["image"], !image.isNull, image.string == nil {
                        return "\(cpath).image: expected string, got \(MergeSchema.goValue(image))"
                    }
                    for p in c["ports"]?.array ?? [] {
                        if let cp = p["containerPort"], cp.number == nil {
                            return "\(cpath).ports: expected numeric (int or float), got \(MergeSchema.goType(cp))"
                        }
                    }
                }
            }
        }
        return nil
    }

    static func goType(_ v: Value) -> String {
        switch v.kind {
        case .null: return "<nil>"
        case .bool: return "bool"
        case .int: return "int64"
        case .double: return "float64"
        case .string: return "string"
        case .array: return "[]interface {}"
        case .object: return "map[string]interface {}"
        }
    }

    static func goValue(_ v: Value) -> String {
        let inner: String
        switch v.kind {
        case .string(let s): inner = "\"\(s)\""
        case .array, .object: inner = JSONWriter.string(v)
        default: inner = v.scalarText ?? "nil"
        }
        return "&value.valueUnstructured{Value:\(inner)}"
    }
}

/// One `metadata.managedFields` entry.
public struct ManagedFieldsEntry: Sendable, Equatable {
    public var manager: String
    public var operation: String
    public var apiVersion: String
    public var time: String
    public var subresource: String
    public var fields: FieldSet

    public init(manager: String, operation: String, apiVersion: String, time: String, subresource: String = "", fields: FieldSet) {
        self.manager = manager; self.operation = operation; self.apiVersion = apiVersion
        self.time = time; self.subresource = subresource; self.fields = fields
    }

    var identity: String { "\(manager)\u{0}\(operation)\u{0}\(subresource)" }

    /// How conflict messages name a manager: `"kubectl-edit" using v1`.
    var conflictName: String {
        var s = "\"\(manager)\""
        if !subresource.isEmpty { s += " with subresource \"\(subresource)\"" }
        if operation == "Update" { s += " using \(apiVersion)" }
        return s
    }

    var json: Value {
        var o = Object()
        o.append("manager", .string(manager))
        o.append("operation", .string(operation))
        o.append("apiVersion", .string(apiVersion))
        if !time.isEmpty { o.append("time", .string(time)) }
        o.append("fieldsType", "FieldsV1")
        o.append("fieldsV1", fields.fieldsV1)
        if !subresource.isEmpty { o.append("subresource", .string(subresource)) }
        return .object(o)
    }

    init?(json v: Value) {
        guard let m = v["manager"]?.string, let op = v["operation"]?.string else { return nil }
        manager = m
        operation = op
        apiVersion = v["apiVersion"]?.string ?? ""
        time = v["time"]?.string ?? ""
        subresource = v["subresource"]?.string ?? ""
        fields = v["fieldsV1"].map { FieldSet(fieldsV1: $0) } ?? FieldSet()
    }

    static func decode(_ obj: Value) -> [ManagedFieldsEntry] {
        (obj[path: ["metadata", "managedFields"]]?.array ?? []).compactMap { ManagedFieldsEntry(json: $0) }
    }

    /// Sorted as the real server writes them: operation, time, manager, apiVersion, subresource.
    static func encode(_ entries: [ManagedFieldsEntry]) -> Value {
        let sorted = entries.filter { !$0.fields.isEmpty }.sorted { p, q in
            if p.operation != q.operation { return p.operation < q.operation }
            if p.time != q.time { return p.time < q.time }
            if p.manager != q.manager { return p.manager < q.manager }
            if p.apiVersion != q.apiVersion { return p.apiVersion < q.apiVersion }
            return p.subresource < q.subresource
        }
        return .array(sorted.map(\.json))
    }
}
