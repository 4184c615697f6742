import PatternCore

/// `namePrefix:` / `nameSuffix:` — renames objects, except CustomResourceDefinitions,
/// APIServices and Namespaces (Kustomize's skip list), recording the previous id and the
/// affix so the name-reference pass can fix references later.
enum PrefixSuffixTransformer {
    static func skips(_ gvk: GroupVersionKind) -> Bool {
        gvk.kind == "CustomResourceDefinition" || gvk.kind == "Namespace"
            || (gvk.kind == "APIService" && gvk.group == "apiregistration.k8s.io")
    }

    static func apply(prefix: String, suffix: String, to m: inout ResMap) {
        if !prefix.isEmpty { apply(affix: prefix, isPrefix: true, to: &m) }
        if !suffix.isEmpty { apply(affix: suffix, isPrefix: false, to: &m) }
    }

    private static func apply(affix: String, isPrefix: Bool, to m: inout ResMap) {
        for i in m.items.indices where !skips(m.items[i].orgId.gvk) {
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
