import PatternCore

/// `replicas:` — sets `spec.replicas` of Deployments, ReplicaSets, ReplicationControllers
/// and StatefulSets whose current or original name matches.
enum ReplicaTransformer {
    static func apply(_ specs: [ReplicaSpec], to m: inout ResMap) {
        for spec in specs {
            for i in m.items.indices {
                let r = m.items[i]
                guard r.name == spec.name || r.orgId.name == spec.name || r.prevIds.contains(where: { $0.name == spec.name }),
                      let gvk = r.value.gvk else { continue }
                for fs in BuiltinConfig.replicas where fs.gvk.matches(gvk) {
                    fs.visit(&m.items[i].value) { $0 = .int(spec.count) }
                }
            }
        }
    }
}
