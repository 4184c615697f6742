import PatternCore

/// Fixes references to renamed objects (prefix/suffix, namespace, hash suffix, generator
/// merges) — Kustomize's `nameReference` transformer, run once at the end of a build.
///
/// For every referrer field in `BuiltinConfig.nameReference` (selected by the referrer's
/// *original* kind) holding a name, the candidate targets are objects that once had that
/// name (a previous id), are of the target kind, can be seen from the referrer's namespace,
/// and — when several remain — carry the same name prefixes/suffixes as the referrer.
enum NameReferenceTransformer {
    /// `backRefs` defaults to the build's configuration (Kustomize's defaults plus `configurations`).
    static func apply(to m: inout ResMap, backRefs: [NameBackReference]? = nil) throws(Diagnostic) {
        let backRefs = backRefs ?? m.config.nameReference
        // Kustomize refuses a RoleBinding whose ServiceAccount subject has a `namespace:` that
        // is not a string (written blank) while it looks for reference candidates.
        for r in m.items where r.kind == "RoleBinding" {
            for s in r.value["subjects"]?.array ?? [] where s["kind"]?.string == "ServiceAccount" {
                if let ns = s["namespace"], ns.string == nil {
                    throw .error("namespace is blank for a ServiceAccount subject of \(r.curId)", at: SourceLocation(file: r.file, mark: ns.mark),
                                 fix: "write the subject's namespace, or remove the `namespace:` line")
                }
            }
        }
        // Objects by each previous name: the only ones whose references can need an update.
        var byPrevName: [String: [Int]] = [:]
        for (i, r) in m.items.enumerated() {
            var seen = Set<String>()
            for p in r.prevIds where seen.insert(p.name).inserted { byPrevName[p.name, default: []].append(i) }
        }
        if byPrevName.isEmpty { return }
        // Referrer specs by kind: each object only looks at the specs for its own kind.
        var specsByKind: [String: [(target: GvkSelector, spec: FieldSpec)]] = [:]
        var anyKind: [(target: GvkSelector, spec: FieldSpec)] = []
        for back in backRefs {
            for spec in back.referrers {
                if spec.gvk.kind.isEmpty { anyKind.append((back.target, spec)) } else {
                    specsByKind[spec.gvk.kind, default: []].append((back.target, spec))
                }
            }
        }
        let snapshot = m.items
        let (names, kindSpecs, anyKindSpecs) = (byPrevName, specsByKind, anyKind)
        // Each referrer reads the snapshot and changes only itself: all cores; the first
        // failing referrer in build order is the error, as in a sequential pass.
        let failures = ParallelMap.update(&m.items) { (r: inout KResource) -> Diagnostic? in
            let gvk = r.orgId.gvk
            let own = kindSpecs[gvk.kind] ?? []
            if own.isEmpty && anyKindSpecs.isEmpty { return nil }
            let referrer = r
            var v = referrer.value
            if let failure = updateReferences(&v, gvk: gvk, candidates: own, referrer: referrer, snapshot: snapshot, names: names)
                ?? updateReferences(&v, gvk: gvk, candidates: anyKindSpecs, referrer: referrer, snapshot: snapshot, names: names) {
                return failure
            }
            r.value = v
            return nil
        }
        if let first = failures.first(where: { $0 != nil }) { throw first! }
    }

    /// Updates the references in `v` (the value of `referrer`, whose original gvk is `gvk`) at
    /// the specs of `candidates` that apply to it; the first failure, if any. The spec tables
    /// are shared by every object on every core: they are read in place (copying an entry
    /// retains its arrays, contended counts), and only fields holding a name some object
    /// once had are walked (and so copied).
    static func updateReferences(_ v: inout Value, gvk: GroupVersionKind, candidates: [(target: GvkSelector, spec: FieldSpec)],
                                 referrer: KResource, snapshot: [KResource], names: [String: [Int]]) -> Diagnostic? {
        candidates.withUnsafeBufferPointer { list -> Diagnostic? in
            for i in list.indices where list[i].spec.gvk.matches(gvk) {
                guard FieldSpec.hasField(v, list[i].spec.path), mentionsCandidate(v, list[i].spec.path, from: 0, names) else { continue }
                let ctx = Selection(referrer: referrer, target: list[i].target, spec: list[i].spec, all: snapshot, byPrevName: names)
                var failure: Diagnostic?
                var failed = false
                FieldSpec.walk(&v, list[i].spec.path, from: 0, create: false) { field in
                    guard !failed, var f = field else { return }
                    do throws(Diagnostic) { try ctx.update(&f) } catch { failure = error; failed = true }
                    field = f
                }
                if failed { return failure }
            }
            return nil
        }
    }

    /// True when a string at `path` (directly, as a `name` in a map, or in a list) is the
    /// previous name of some object.
    static func mentionsCandidate(_ v: Value, _ path: [String], from at: Int, _ names: [String: [Int]]) -> Bool {
        guard at < path.count else {
            switch v.kind {
            case .string(let s): return names[s] != nil
            case .object(let o): return o["name"]?.string.map { names[$0] != nil } ?? false
            case .array(let a): return a.contains { mentionsCandidate($0, path, from: at, names) }
            default: return false
            }
        }
        switch v.kind {
        case .array(let items): return items.contains { mentionsCandidate($0, path, from: at, names) }
        case .object(let o):
            let key = path[at]
            let k = FieldSpec.isListKey(key) ? String(key.dropLast(2)) : key
            return o[k].map { mentionsCandidate($0, path, from: at + 1, names) } ?? false
        default: return false
        }
    }

    struct Selection {
        let referrer: KResource
        let target: GvkSelector
        let spec: FieldSpec
        let all: [KResource]
        let byPrevName: [String: [Int]]

        func update(_ f: inout Value) throws(Diagnostic) {
            switch f.kind {
            case .string(let s):
                if let r = try select(s, candidates: visibleCandidates(named: s), sameNamespaceToo: false), r.name != s {
                    f = Value(.string(r.name), mark: f.mark)
                }
            case .object(let o):
                try updateMap(&f, o)
            case .array(let a):
                var out = a
                for j in out.indices {
                    switch out[j].kind {
                    case .string, .object: try update(&out[j])
                    default: break
                    }
                }
                f = Value(.array(out), mark: f.mark)
            default: break
            }
        }

        func updateMap(_ f: inout Value, _ o: Object) throws(Diagnostic) {
            guard let oldName = o["name"]?.string else { return }
            var cands = visibleCandidates(named: oldName)
            if let ns = o["namespace"]?.string {
                // Kustomize groups candidates by effective namespace ("" is "default").
                let want = ns.isEmpty ? "default" : ns
                let byOrg = cands.filter { all[$0].orgId.effectiveNamespace == want }
                cands = byOrg.isEmpty ? cands.filter { all[$0].curId.effectiveNamespace == want } : byOrg
            }
            guard let r = try select(oldName, candidates: cands, sameNamespaceToo: true) else { return }
            if r.name == oldName && r.namespace.isEmpty { return }
            f["name"] = .string(r.name)
            if !r.namespace.isEmpty { f["namespace"] = .string(r.namespace) }
        }

        /// Kustomize's `SubsetThatCouldBeReferencedByResource`, restricted to `name`'s holders.
        func visibleCandidates(named name: String) -> [Int] {
            guard let idx = byPrevName[name] else { return [] }
            let rid = referrer.curId
            if rid.isClusterScoped { return idx }
            var rbNamespaces = Set<String>()
            if referrer.kind == "RoleBinding", let subs = referrer.value["subjects"]?.array {
                for s in subs where s["kind"]?.string == "ServiceAccount" {
                    if let ns = s["namespace"]?.string { rbNamespaces.insert(ns) }
                }
            }
            return idx.filter { j in
                let id = all[j].curId
                return id.isClusterScoped || id.effectiveNamespace == rid.effectiveNamespace || rbNamespaces.contains(all[j].namespace)
            }
        }

        func select(_ oldName: String, candidates: [Int], sameNamespaceToo: Bool) throws(Diagnostic) -> KResource? {
            var c = candidates.map { all[$0] }
            c = c.filter { $0.prevIds.contains { $0.name == oldName } }
            c = c.filter { $0.prevIds.contains { target.matches($0.gvk) } }
            if spec.path.count >= 2 && spec.path.suffix(2) == ["roleRef", "name"],
               let group = referrer.value[path: ["roleRef", "apiGroup"]]?.string,
               let kind = referrer.value[path: ["roleRef", "kind"]]?.string {
                let sel = GvkSelector(group: group, kind: kind)
                c = c.filter { $0.prevIds.contains { sel.matches($0.gvk) } }
            }
            let rid = referrer.curId
            if !rid.isClusterScoped {
                c = c.filter { r in
                    let id = r.curId
                    return id.isClusterScoped || r.kind == "ServiceAccount" || id.effectiveNamespace == rid.effectiveNamespace
                }
            }
            if c.count == 1 { return c[0] }
            // Kustomize's `prefixSuffixEquals(referrer, allowEmpty: true)`, then strictly.
            c = c.filter { $0.prefixesSuffixesEqual(referrer, allowEmpty: true) }
            if c.count > 1 { c = c.filter { $0.prefixesSuffixesEqual(referrer) } }
            if c.count == 1 { return c[0] }
            if c.isEmpty { return nil }
            let same = c.allSatisfy { $0.name == c[0].name && (!sameNamespaceToo || $0.namespace == c[0].namespace) }
            if same { return c[0] }
            throw .error("found multiple possible referrals for '\(oldName)' in '\(spec.pathString)' of \(referrer.curId): "
                         + c.map { $0.curId.description }.joined(separator: ", "),
                         at: referrer.location,
                         fix: "give the candidates distinct names, or build them in separate kustomizations")
        }
    }
}
