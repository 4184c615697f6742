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
        for i in m.items.indices where !skips(m.items[i].orgId.gvk) {
            if let selecting, !selecting.contains(where: { $0.matches(m.items[i].orgId.gvk) }) { continue }
            m.items[i].storePreviousId()
            if isPrefix {
                m.items[i].prefixes.append(affix)
                m.items[i].setName(affix + m.items[i].name)
            } else {
                m.items[i].suffixes.append(affix)
                m.items[i].setName(m.items[i].name + affix)
            }
        }
    }
}
