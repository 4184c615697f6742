import Testing
import PatternCore
@testable import Kustomize

/// `KResource` keeps its build bookkeeping in a copy-on-write box: a copy of a resource (an
/// index snapshot, a base accumulated twice) must never see the other copy's changes.
@Suite struct ResourceStorageTests {
    static func resource() throws -> KResource {
        let v = try YAMLParser.parse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n", file: "cm.yaml")
        return KResource(value: v, file: "cm.yaml")
    }

    @Test func copiesKeepTheirOwnBookkeeping() throws {
        var a = try Self.resource()
        a.prefixes.append("p-")
        let b = a
        a.storePreviousId()
        a.setName("p-cm")
        a.prefixes.append("q-")
        a.suffixes.append("-s")
        a.refVars.append("V")
        a.transformations.append("- t\n")
        a.needsHashSuffix = true
        a.behavior = .merge
        a.file = "other.yaml"
        a.generatedBy = GeneratorOrigin(kind: "ConfigMapGenerator", name: nil)
        // The copy taken before the changes is as it was.
        #expect(b.prefixes == ["p-"])
        #expect(b.prevIds.isEmpty)
        #expect(b.suffixes.isEmpty && b.refVars.isEmpty && b.transformations.isEmpty)
        #expect(!b.needsHashSuffix && b.behavior == .create && b.generatedBy == nil)
        #expect(b.file == "cm.yaml" && b.name == "cm")
        // The changed one has every change, and its original id.
        #expect(a.prefixes == ["p-", "q-"])
        #expect(a.prevIds.map(\.name) == ["cm"])
        #expect(a.suffixes == ["-s"] && a.refVars == ["V"] && a.transformations == ["- t\n"])
        #expect(a.needsHashSuffix && a.behavior == .merge && a.file == "other.yaml")
        #expect(a.orgId.name == "cm" && a.curId.name == "p-cm")
    }

    /// Two objects with the same identity are refused, and the key used for that compares the
    /// effective namespace ("" and "default" are one namespace for a namespaced kind).
    @Test func identityKeyUsesTheEffectiveNamespace() throws {
        var m = ResMap()
        try m.append(try Self.resource())
        var dup = try Self.resource()
        dup.setNamespace("default")
        #expect(throws: Diagnostic.self) { try m.append(dup) }
        var other = try Self.resource()
        other.setNamespace("team-a")
        try m.append(other)
        #expect(m.count == 2)
    }
}
