import Testing
@testable import PatternCore
@testable import Kustomize

/// `LegacySort.order` ranks each distinct gvk once and compares namespace/name bytes a word at a
/// time; it must give exactly the order of `less` over every pair of keys.
@Suite struct LegacySortTests {
    static func object(_ apiVersion: String?, _ kind: String?, _ namespace: String?, _ name: String?) -> Value {
        var meta = Object()
        if let name { meta.set("name", .string(name)) }
        if let namespace { meta.set("namespace", .string(namespace)) }
        var o = Object()
        if let apiVersion { o.set("apiVersion", .string(apiVersion)) }
        if let kind { o.set("kind", .string(kind)) }
        o.set("metadata", .object(meta))
        return .object(o)
    }

    /// The definition: every pair compared with `less` over the whole keys.
    static func reference(_ objects: [Value], rank: [String: Int]) -> [Int] {
        let keys = objects.map { LegacySort.key($0, rank: rank) }
        return objects.indices.sorted { LegacySort.less(keys[$0], keys[$1]) }
    }

    static func names(_ objects: [Value], _ order: [Int]) -> [String] {
        order.map { i in
            let v = objects[i]
            return "\(v["kind"]?.string ?? "-")/\(v.metadataNamespace ?? "-")/\(v.metadataName ?? "-")"
        }
    }

    @Test func orderIsTheOrderOfLessOverWholeKeys() {
        // Kinds with and without a rank, core and non-core Namespace kinds, missing fields, and
        // names sharing prefixes longer than a word, differing past it, and beyond ASCII
        // (bytes over 0x7F sort after every ASCII byte).
        let kinds: [(String?, String?)] = [
            ("v1", "ConfigMap"), ("apps/v1", "Deployment"), ("v1", "Namespace"), ("example.com/v1", "Namespace"),
            ("example.com/v1", "Widget"), ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"),
            ("v1", "Service"), (nil, "Thing"), ("v1", nil), ("a.example.com/v2", "Widget"),
        ]
        let names: [String?] = [
            "app", "app-0001-configuration", "app-0001-configuratioN", "app-0001-configuration-x", "app-0001",
            "ä-name", "z", "application-long-shared-prefix-1", "application-long-shared-prefix-10",
            "application-long-shared-prefix-2", nil, "",
        ]
        let namespaces: [String?] = [nil, "", "ns-a", "ns-b", "namespace-longer-than-a-word"]
        var objects: [Value] = []
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }
        var seen = Set<String>()
        while objects.count < 400 {
            let (api, kind) = kinds[next(kinds.count)]
            let ns = namespaces[next(namespaces.count)], name = names[next(names.count)]
            // Distinct identities, as a build has (duplicates are refused before sorting).
            guard seen.insert("\(api ?? "")|\(kind ?? "")|\(ns ?? "~")|\(name ?? "~")").inserted else { continue }
            objects.append(Self.object(api, kind, ns, name))
        }
        // Each object's id bytes are Kustomize's `namespace|name` text (`~X`/`~N` when unset or empty).
        for v in objects {
            let ns = v.metadataNamespace.flatMap { $0.isEmpty ? nil : $0 } ?? "~X"
            let nm = v.metadataName.flatMap { $0.isEmpty ? nil : $0 } ?? "~N"
            #expect(LegacySort.idBytes(v) == Array("\(ns)|\(nm)".utf8))
        }
        let custom = LegacySort.rank(orderFirst: ["Widget", "Service"], orderLast: ["ConfigMap"])
        for rank in [LegacySort.rank, custom] {
            let got = LegacySort.order(objects, rank: rank)
            #expect(Self.names(objects, got) == Self.names(objects, Self.reference(objects, rank: rank)))
        }
        // The public entry point sorts by the same order.
        #expect(LegacySort.sorted(objects) == LegacySort.order(objects, rank: LegacySort.rank).map { objects[$0] })
    }

    @Test func bytesPrecedeIsLexicographicOrderAtEveryLengthAndPosition() {
        // Equal prefixes of every length up to three words, then one differing byte (low and
        // high), or one array ending early.
        for length in 0...24 {
            let base = (0..<length).map { UInt8(truncatingIfNeeded: 0x41 + $0 * 7) }
            for at in 0...length {
                for (x, y) in [(UInt8(0x00), UInt8(0x01)), (0x7F, 0x80), (0x80, 0xFF), (0x61, 0x61)] {
                    var a = base, b = base
                    if at < length { a[at] = x; b[at] = y } else { a.append(x); b.append(y) }
                    #expect(LegacySort.bytesPrecede(a, b) == a.lexicographicallyPrecedes(b), "length \(length) at \(at): \(a) vs \(b)")
                    #expect(LegacySort.bytesPrecede(b, a) == b.lexicographicallyPrecedes(a), "length \(length) at \(at): \(b) vs \(a)")
                }
                let prefix = Array(base[0..<at])
                #expect(LegacySort.bytesPrecede(prefix, base) == prefix.lexicographicallyPrecedes(base))
                #expect(LegacySort.bytesPrecede(base, prefix) == base.lexicographicallyPrecedes(prefix))
            }
        }
    }
}
