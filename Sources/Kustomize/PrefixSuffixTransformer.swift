import PatternCore

/// `namePrefix:` / `nameSuffix:` — renames objects, except CustomResourceDefinitions,
/// APIServices and Namespaces (Kustomize's skip list), recording the previous id and the
/// affix so the name-reference pass can fix references later.
enum PrefixSuffixTransformer {
    static func skips(_ gvk: GroupVersionKind) -> Bool {
        gvk.kind == "CustomResourceDefinition" || gvk.kind == "Namespace"
            || (gvk.kind == "APIService" && gvk.group == "apiregistration.k8s.io")
    }

    /// `selecting`: only objects whose original group/version/kind one of the selectors
    /// matches (a built-in plugin's `fieldSpecs`); nil for all.
    static func apply(prefix: String, suffix: String, selecting: [GvkSelector]? = nil, to m: inout ResMap) {
        if !prefix.isEmpty { apply(affix: prefix, isPrefix: true, selecting: selecting, to: &m) }
        if !suffix.isEmpty { apply(affix: suffix, isPrefix: false, selecting: selecting, to: &m) }
    }

    private static func apply(affix: String, isPrefix: Bool, selecting: [GvkSelector]?, to m: inout ResMap) {
        // Objects are independent: all cores, each object mutated in place (no copy).
        _ = ParallelMap.update(&m.items) { (r: inout KResource) in
            let gvk = r.orgId.gvk
            if skips(gvk) { return }
            if let selecting, !selecting.contains(where: { $0.matches(gvk) }) { return }
            r.storePreviousId()
            if isPrefix {
                r.prefixes.append(affix)
                r.setName(affix + r.name)
            } else {
                r.suffixes.append(affix)
                r.setName(r.name + affix)
            }
        }
    }
}
