import Testing
import PatternCore
import PatternCompile
@testable import PatternApply
import KubeTestServer

/// Null map fields in a render (`spec:` with nothing after it, as the Validated Patterns
/// clustergroup chart renders its Namespaces) mean "not set": they are neither applied nor
/// compared, so a re-apply writes nothing while the API server fills the field in.
@Suite struct NullFieldTests {
    @Test func aNamespaceRenderedWithANullSpecIsInSyncAfterApplyAndReappliesWithoutWrites() async throws {
        let root = makeTempDir()
        writeChartSite(root, pattern: "nulls", replicas: 1)
        writeFile(root + "/patterns/p/charts/web/templates/ns.yaml", """
            apiVersion: v1
            kind: Namespace
            metadata:
              name: {{ .Release.Name }}-extra
              labels:
            spec:
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: {{ .Release.Name }}-config}
            data:
              mode: {{ .Values.mode | default "on" | quote }}
            """)
        let site = try SiteCompiler(workspace: Workspace(tree: LocalTree(root: root))).compile(site: "s")
        let rendered = try #require(site.objects.first { $0.key.kind == "Namespace" && $0.key.name == "shop-extra" })
        #expect(rendered.object[path: ["spec"]]?.isNull == true)   // the render keeps what the chart wrote

        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let r1 = try await cluster.engine.apply(site, options: fastOptions())
        #expect(r1.succeeded, "\(r1.failed)")
        // The server filled in what the render left null.
        let live = try #require(cluster.server.store.get(resource: "namespaces", namespace: "", name: "shop-extra"))
        #expect(live[path: ["spec", "finalizers"]] == ["kubernetes"])

        let diffs = try await cluster.engine.diff(site).diffs
        let changed = diffs.filter { $0.action != .unchanged }
        #expect(changed.isEmpty, "\(changed.map { "\($0.key): \($0.changes)" })")

        let r2 = try await cluster.engine.apply(site, options: fastOptions())
        #expect(r2.succeeded, "\(r2.failed)")
        #expect(r2.writeRequests == 0, "\(r2.outcomes)")
    }

    @Test func nullMapFieldsAreDroppedAtAnyDepthAndNullListItemsStay() throws {
        let v = try YAMLParser.parse("""
            apiVersion: v1
            kind: Pod
            metadata: {name: p, annotations: null}
            spec:
              containers:
              - name: a
                resources: ~
                args: [x, null]
              volumes:
            """, file: "p.yaml")
        let d = NullFields.dropped(v)
        #expect(d[path: ["metadata"]] == ["name": "p"])
        #expect(d[path: ["spec", "volumes"]] == nil)
        #expect(d[path: ["spec", "containers"]] == [["name": "a", "args": ["x", .null]]])
        #expect(NullFields.contains(v))
        #expect(!NullFields.contains(d))
    }
}
