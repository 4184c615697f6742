import PatternCore

/// `replicas:` — sets `spec.replicas` of Deployments, ReplicaSets, ReplicationControllers
/// and StatefulSets whose current, original or previous name matches.
enum ReplicaTransformer {
    /// An entry whose name matches no object of these kinds is an error, as in Kustomize.
    /// `fieldSpecs`: a `ReplicaCountTransformer`'s own (none matching is an error, as in
    /// Kustomize); nil for the build's `replicas` configuration.
    static func apply(_ specs: [ReplicaSpec], fieldSpecs: [FieldSpec]? = nil, to m: inout ResMap, file: String) throws(Diagnostic) {
        let config = fieldSpecs ?? m.config.replicas
        for spec in specs {
            var found = false
            for i in m.items.indices {
                let r = m.items[i]
                guard r.name == spec.name || r.orgId.name == spec.name || r.prevIds.contains(where: { $0.name == spec.name }),
                      let gvk = r.value.gvk else { continue }
                for fs in config where fs.gvk.matches(gvk) {
                    found = true
                    fs.visit(&m.items[i].value) { $0 = .int(spec.count) }
                }
            }
            if !found {
                throw .error("replicas: no Deployment, ReplicaSet, ReplicationController or StatefulSet named '\(spec.name)'",
                             at: SourceLocation(file: file, mark: spec.mark),
                             fix: "use the workload's name as written in its base (without prefix or suffix)")
            }
        }
    }
}
