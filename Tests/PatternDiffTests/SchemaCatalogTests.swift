import Testing
import PatternCore
@testable import PatternDiff

private func yaml(_ s: String) -> Value { try! YAMLParser.parse(s) }

@Suite struct SchemaCatalogTests {
    static let catalog = SchemaCatalog(crds: [Fixture.value("crd-gateway-schema.yaml"), Fixture.value("crd-desired.yaml")])
    static let desired = yaml("""
        apiVersion: example.com/v1
        kind: Gateway
        metadata: {name: gw, namespace: rec, finalizers: [example.com/cleanup]}
        spec:
          listeners:
          - name: a
            hostname: a.example
            ports: [{port: 80}]
          - name: b
            hostname: b.example
          hosts: [x.example]
          selector: {app: gw}
          pinned: {zone: eu}
          routes:
            r1: [{path: /a, backend: svc-a}]
          args: [--v]
        """)

    @Test func readsListAndMapTypesFromTheCRD() {
        #expect(Self.catalog.kinds.map(\.description) == ["Gateway.example.com", "Widget.example.com"])
        let ctx = SchemaContext(object: Self.desired, catalog: Self.catalog)
        #expect(ctx.hasSchema)
        #expect(ctx.listType(["spec", "listeners"]) == .map(keys: ["name"], defaults: [:]))
        #expect(ctx.listType(["spec", "listeners", "ports"]) == .map(keys: ["port", "protocol"], defaults: ["protocol": "TCP"]))
        #expect(ctx.listType(["spec", "hosts"]) == .set)
        #expect(ctx.listType(["spec", "routes", "anything"]) == .map(keys: ["path"], defaults: [:]))
        #expect(ctx.listType(["spec", "args"]) == .atomic)
        #expect(ctx.listType(["metadata", "finalizers"]) == .set)  // metadata keeps the built-in table
        #expect(ctx.isAtomicMap(["spec", "pinned"]))
        #expect(!ctx.isAtomicMap(["spec", "selector"]))  // the schema says granular, unlike the name heuristic
        // Unknown version falls back to the storage version; unknown kinds to the built-in table.
        #expect(SchemaContext(object: ["apiVersion": "example.com/v2", "kind": "Gateway"], catalog: Self.catalog).hasSchema)
        #expect(!SchemaContext(object: ["apiVersion": "other.io/v1", "kind": "Gateway"], catalog: Self.catalog).hasSchema)
    }

    @Test func fieldSetKeysCustomResourceListsLikeTheServer() {
        let leaves = OwnedFields.fieldSet(of: Self.desired, schemas: Self.catalog).leaves.map(\.description)
        #expect(leaves == [
            ".metadata.finalizers[=example.com/cleanup]",
            ".spec.args",
            ".spec.hosts[=x.example]",
            ".spec.listeners[name=a].hostname",
            ".spec.listeners[name=a].name",
            ".spec.listeners[name=a].ports[port=80,protocol=TCP].port",
            ".spec.listeners[name=b].hostname",
            ".spec.listeners[name=b].name",
            ".spec.pinned",
            ".spec.routes.r1[path=/a].backend",
            ".spec.routes.r1[path=/a].path",
            ".spec.selector.app",
        ])
        let json = JSONWriter.string(OwnedFields.fieldSet(of: Self.desired, schemas: Self.catalog).fieldsV1)
        #expect(json.contains(#""k:{\"port\":80,\"protocol\":\"TCP\"}":{".":{},"f:port":{}}"#))
    }

    @Test func customResourceListsMatchByKeyWithTheSchema() {
        var live = Self.desired
        live[path: ["spec", "listeners"]] = yaml("""
            - {name: c, hostname: c.example}
            - {name: b, hostname: b.example}
            - {name: a, hostname: a.example, ports: [{port: 80, protocol: TCP}]}
            """)
        live[path: ["spec", "selector", "extra"]] = "from-someone-else"
        let opts = DiffOptions(schemas: Self.catalog)
        #expect(OwnedFields.compare(desired: Self.desired, live: live, manager: "pattern", options: opts).isEmpty)
        // Without the schema the list is compared whole (atomic) and `selector` is taken for an
        // atomic label selector by its name: both show as changes.
        #expect(OwnedFields.compare(desired: Self.desired, live: live, manager: "pattern").map(\.path.description)
                == [".spec.listeners", ".spec.selector"])
        // An atomic map from the schema is compared strictly.
        live[path: ["spec", "pinned", "rack"]] = "r1"
        #expect(OwnedFields.compare(desired: Self.desired, live: live, manager: "pattern", options: opts).map(\.path.description) == [".spec.pinned"])
    }

    @Test func removedCustomResourceListItemIsFoundWithTheSchema() {
        var live = Self.desired
        live[path: ["metadata", "managedFields"]] = [[
            "manager": "pattern", "operation": "Apply", "apiVersion": "example.com/v1", "fieldsType": "FieldsV1",
            "fieldsV1": OwnedFields.fieldSet(of: Self.desired, schemas: Self.catalog).fieldsV1,
        ]]
        var next = Self.desired
        next[path: ["spec", "listeners"]] = yaml("[{name: a, hostname: a.example, ports: [{port: 80}]}]")
        let opts = DiffOptions(schemas: Self.catalog)
        let d = ObjectDiffer.diff(desired: next, live: live, manager: "pattern", options: opts)
        #expect(d.changes.map { "\($0.kind.rawValue) \($0.path)" } == ["removed .spec.listeners[name=b]"])
        #expect(d.text.contains("-  - name: b\n-    hostname: b.example\n"))
    }
}
