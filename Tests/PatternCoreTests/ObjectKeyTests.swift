import Testing
@testable import PatternCore

/// Object keys hash their four strings once, where they are made: equal keys must still hash
/// alike and compare equal, and keys that differ in any field (or only in where the bytes
/// fall between the fields) must stay apart in sets and dictionaries.
@Suite struct ObjectKeyTests {
    static func key(_ g: String, _ k: String, _ ns: String, _ n: String) -> ObjectKey {
        ObjectKey(group: g, kind: k, namespace: ns, name: n)
    }

    @Test(arguments: [
        (("apps", "Deployment", "web", "api"), ("apps", "Deployment", "web", "api"), true),
        (("apps", "Deployment", "web", "api"), ("apps", "Deployment", "web", "api2"), false),
        (("apps", "Deployment", "web", "api"), ("apps", "Deployment", "", "api"), false),
        (("apps", "Deployment", "web", "api"), ("", "Deployment", "web", "api"), false),
        (("apps", "Deployment", "web", "api"), ("apps", "StatefulSet", "web", "api"), false),
        // The same bytes split differently between the fields.
        (("a", "b", "", "c"), ("ab", "", "", "c"), false),
        (("", "", "ns", "x"), ("", "", "", "nsx"), false),
        (("", "", "", ""), ("", "", "", ""), true),
        (("", "ConfigMap", "é", "ñ"), ("", "ConfigMap", "é", "ñ"), true),
    ])
    func equalKeysHashAlikeAndOthersStayApart(_ a: (String, String, String, String), _ b: (String, String, String, String), _ equal: Bool) {
        let x = Self.key(a.0, a.1, a.2, a.3), y = Self.key(b.0, b.1, b.2, b.3)
        #expect((x == y) == equal)
        if equal { #expect(x.hashValue == y.hashValue) }
        var byKey: [ObjectKey: Int] = [x: 1]
        byKey[y, default: 0] += 10
        #expect(byKey.count == (equal ? 1 : 2))
        #expect(byKey[x] == (equal ? 11 : 1))
        #expect(Set([x, y]).count == (equal ? 1 : 2))
    }

    /// Many keys, one dictionary: every key finds its own entry.
    @Test func everyKeyFindsItsOwnEntry() {
        var keys: [ObjectKey] = []
        for g in ["", "apps", "batch"] {
            for k in ["ConfigMap", "Deployment"] {
                for ns in ["", "a", "b"] {
                    for n in 0..<50 { keys.append(Self.key(g, k, ns, "obj-\(n)")) }
                }
            }
        }
        var index: [ObjectKey: Int] = [:]
        for (i, k) in keys.enumerated() { index[k] = i }
        #expect(index.count == keys.count)
        for (i, k) in keys.enumerated() {
            #expect(index[Self.key(k.group, k.kind, k.namespace, k.name)] == i)
        }
    }
}
