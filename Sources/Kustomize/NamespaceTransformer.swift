import PatternCore

/// `namespace:` — sets `metadata.namespace` on namespaced objects (cluster-scoped kinds are
/// left alone), renames `Namespace` objects to the namespace, sets the namespace of
/// RoleBinding/ClusterRoleBinding subjects named `default`, of APIService services and of
/// CRD conversion-webhook services, as Kustomize's NamespaceTransformer does. Subjects that
/// name a ServiceAccount in the build are updated later by the name-reference pass.
enum NamespaceTransformer {
    static func apply(_ ns: String, to m: inout ResMap, at loc: SourceLocation) throws(Diagnostic) {
        guard !ns.isEmpty else { return }
        let specs = m.config.namespace
        // Objects are independent: all cores, each object mutated in place (no copy).
        _ = ParallelMap.update(&m.items) { (r: inout KResource) in
            r.storePreviousId()
            let id = r.curId
            let gvk = id.gvk
            var v = r.value
            r.value = .null  // keep `v` uniquely referenced: mutate in place, no copy
            if !id.isClusterScoped { v[path: ["metadata", "namespace"]] = .string(ns) }
            // Only the core `v1 Namespace` is renamed (not e.g. servicebus.azure.com/Namespace).
            if gvk.kind == "Namespace" && gvk.group.isEmpty { v[path: ["metadata", "name"]] = .string(ns) }
            if gvk.kind == "RoleBinding" || gvk.kind == "ClusterRoleBinding" {
                if case .array = v["subjects"]?.kind {
                    v.withObject { o in
                        o.modify("subjects") { s in
                            s?.withArray { subs in
                                for j in subs.indices where subs[j]["name"]?.string == "default" {
                                    subs[j]["namespace"] = .string(ns)
                                }
                            }
                        }
                    }
                }
            }
            if gvk.group == "apiregistration.k8s.io" && gvk.kind == "APIService" {
                FieldSpec(path: "spec/service/namespace", create: true).visit(&v) { $0 = .string(ns) }
            }
            if gvk.group == "apiextensions.k8s.io" && gvk.kind == "CustomResourceDefinition" {
                FieldSpec(path: "spec/conversion/webhook/clientConfig/service/namespace").visit(&v) { $0 = .string(ns) }
            }
            for spec in specs where spec.gvk.matches(gvk) {
                spec.visit(&v) { $0 = .string(ns) }
            }
            r.value = v
        }
        // Two objects that only differed by namespace now collide (Kustomize refuses too).
        let keys = ParallelMap.map(m.items) { ResMap.key($0.curId) }
        var seen: [ResMap.Key: Int] = [:]
        seen.reserveCapacity(keys.count)
        for (i, r) in m.items.enumerated() {
            let k = keys[i]
            if let j = seen[k] {
                throw .error("namespace '\(ns)' makes \(r.curId) collide with another object (from \(m.items[j].orgId))",
                             at: loc, fix: "give the objects distinct names, or build them in separate kustomizations",
                             related: [m.items[j].location, r.location])
            }
            seen[k] = i
        }
    }
}
