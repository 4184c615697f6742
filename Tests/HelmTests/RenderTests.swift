import Testing
import PatternCore
@testable import Helm

@Suite struct RenderTests {
    func shop() throws -> Chart {
        try ChartLoader().load(tree: LocalTree(root: helmFixtures), path: try TreePath("shop"), display: "shop")
    }

    func render(_ c: Chart, values: [ValueLayer] = [], release: ReleaseOptions = ReleaseOptions(name: "rel", namespace: "shop"),
                caps: Capabilities = Capabilities(), lookup: LookupMode = .empty, includeCRDs: Bool = true,
                skipTests: Bool = false) throws -> ChartRender {
        try ChartRenderer().render(ChartRenderRequest(chart: c, values: values, release: release, capabilities: caps, lookup: lookup,
                                                      includeCRDs: includeCRDs, skipTests: skipTests))
    }

    func object(_ r: ChartRender, _ kind: String, _ name: String) -> RenderedManifest? {
        r.all.first { $0.object.kindName == kind && $0.object.metadataName == name }
    }

    @Test func shopRendersAsHelmTemplate() throws {
        let r = try render(try shop())
        // Sources are Helm's template names; subchart templates under <parent>/charts/<sub>/templates.
        #expect(object(r, "Deployment", "rel-shop")?.source == "shop/templates/deployment.yaml")
        #expect(object(r, "StatefulSet", "rel-db")?.source == "shop/charts/db/templates/statefulset.yaml")
        // Library chart: only its partials are used; the disabled alias `redis` renders nothing.
        #expect(object(r, "ConfigMap", "library-charts-render-nothing") == nil)
        #expect(!r.all.contains { $0.source.contains("charts/cache") })
        // crds/ first, not templated; NOTES.txt and partials produce no objects; the empty document is dropped.
        #expect(r.crds.map(\.source) == ["shop/crds/widgets.yaml"])
        #expect(r.notes == "Thank you for installing shop as rel.\n")
        #expect(r.manifests.filter { $0.source == "shop/templates/service.yaml" }.count == 1)
        // Release namespace on namespaced objects without one, none on the CRD.
        #expect(object(r, "Service", "rel-shop")?.object.metadataNamespace == "shop")
        #expect(r.crds[0].object.metadataNamespace == nil)
        // Install order: Secret before ConfigMap before Service before Deployment before StatefulSet.
        let kinds = r.manifests.compactMap(\.object.kindName)
        #expect(kinds.firstIndex(of: "Secret")! < kinds.firstIndex(of: "ConfigMap")!)
        #expect(kinds.firstIndex(of: "Service")! < kinds.firstIndex(of: "Deployment")!)
        #expect(kinds.firstIndex(of: "Deployment")! < kinds.firstIndex(of: "StatefulSet")!)
    }

    @Test func valuesScopingGlobalsAndImports() throws {
        let r = try render(try shop())
        func env(_ m: RenderedManifest?, _ n: String) -> Value? {
            m?.object[path: ["spec", "template", "spec", "containers"]]?.array?.first?["env"]?.array?.first { $0["name"] == .string(n) }?["value"]
        }
        let web = object(r, "Deployment", "rel-shop")
        let db = object(r, "StatefulSet", "rel-db")
        #expect(env(web, "DB_HOST") == "db.internal")                  // import-values child/parent form
        #expect(r.values["dbPool"] == 10)                                  // import-values exports form
        #expect(env(db, "STORAGE") == "1Gi")                              // parent overrides subchart default
        #expect(env(db, "REGION") == "eu-west")                           // parent global wins
        #expect(env(db, "TIER") == "data")                                // subchart's own global stays
        #expect(env(db, "TEMPLATE") == "shop/charts/db/templates/statefulset.yaml")
        #expect(web?.object[path: ["spec", "template", "spec", "containers"]]?.array?.first?["image"] == "example/shop:4.5")
    }

    @Test func filesCapabilitiesReleaseTemplateAndTpl() throws {
        let caps = Capabilities(kubeVersion: KubeVersion("1.29.3")!).adding(apiVersions: ["monitoring.coreos.com/v1"])
        let r = try render(try shop(), caps: caps)
        let data = try #require(object(r, "ConfigMap", "rel-shop-files")?.object["data"])
        #expect(data["greeting"] == "hello from rel")                     // tpl with the chart's context
        #expect(data["app.conf"] == "listen = 8080\nworkers = 4")
        #expect(data["lines"] == "2")
        #expect(data["kube"] == "v1.29.3")
        #expect(data["monitoring"] == "true")
        #expect(data["revision"] == "1" && data["install"] == "true" && data["service"] == "Helm")
        #expect(data["basePath"] == "shop/templates")
        #expect(data["dbChart"] == "db")                                  // .Subcharts
        #expect(data["private"] == "" && data["backup"] == "")            // .helmignore'd files are not in .Files
        let conf = try #require(object(r, "ConfigMap", "rel-shop-conf")?.object["data"])
        #expect(conf == ["a.ini": "a = 1\n", "b.ini": "b = 2\n"])         // Glob + AsConfig
        #expect(object(r, "Secret", "rel-shop-secret")?.object["data"] == ["a.ini": "YSA9IDEK"])  // AsSecrets
    }

    @Test func hooksAreClassifiedAndOrderedByWeight() throws {
        let r = try render(try shop())
        #expect(r.hooks.map { $0.object.metadataName ?? "" } == ["rel-shop-migrate-config", "rel-shop-test", "rel-shop-notify", "rel-shop-migrate"])
        #expect(r.hooks.first { $0.object.metadataName == "rel-shop-migrate" }?.hook == HelmHook(events: [.preInstall, .preUpgrade], weight: 5, deletePolicies: ["before-hook-creation"]))
        #expect(!r.manifests.contains { $0.hook != nil })
        let skipped = try render(try shop(), skipTests: true)
        #expect(!skipped.hooks.contains { $0.hook?.isTest == true })
    }

    @Test func conditionsFromUserValues() throws {
        let r = try render(try shop(), values: [ValueLayer(file: "site.yaml", value: yaml("db: {enabled: false}\nredis: {enabled: true, size: large}\n"))])
        #expect(object(r, "StatefulSet", "rel-db") == nil)
        let cache = try #require(object(r, "Deployment", "rel-redis"))   // alias: .Chart.Name is the alias
        #expect(cache.source == "shop/charts/redis/templates/deployment.yaml")
        #expect(cache.object[path: ["spec", "template", "spec", "containers"]]?.array?.first?["image"] == "example/cache:large")
    }

    @Test func schemaErrorsNameTheValuesFileAndLine() throws {
        let text = "replicaCount: 2\nimage:\n  repository: \"\"\ndb:\n  storage: huge\n"
        let layer = ValueLayer(file: "prod.yaml", value: try HelmYAML.parse(Array(text.utf8), file: "prod.yaml"))
        do {
            _ = try render(try shop(), values: [layer])
            Issue.record("expected schema errors")
        } catch let e as ChartError {
            let repo = try #require(e.diagnostics.first { $0.message.contains("image.repository") })
            #expect(repo.location == SourceLocation(file: "prod.yaml", line: 3, column: 15))
            #expect(repo.message.contains("String length must be greater than or equal to 1"))
            let storage = try #require(e.diagnostics.first { $0.message.contains("chart db") })
            #expect(storage.location == SourceLocation(file: "prod.yaml", line: 5, column: 12))
            #expect(storage.fix?.contains("shop/charts/db/values.schema.json") == true)
        }
    }

    @Test func templateErrorsPointAtTheChartFile() throws {
        var c = try chart([chartYAML("bad"), file("templates/a.yaml", "a: {{ required \"need x\" .Values.x }}\n")], origin: "charts/bad")
        do {
            _ = try render(c)
            Issue.record("expected an error")
        } catch let e as ChartError {
            #expect(e.diagnostics[0].location?.file == "charts/bad/templates/a.yaml")
            #expect(e.diagnostics[0].location?.mark.line == 1)
            #expect(e.diagnostics[0].message.contains("need x"))
        }
        c = try chart([chartYAML("bad"), file("templates/a.yaml", "a: {{ .Values.x \n")], origin: "charts/bad")
        #expect(throws: ChartError.self) { try render(c) }
        // Output that is not YAML is reported with the template name.
        c = try chart([chartYAML("bad"), file("templates/a.yaml", "a: [\n")], origin: "charts/bad")
        do { _ = try render(c); Issue.record("expected an error") } catch let e as ChartError {
            #expect(e.diagnostics[0].message.hasPrefix("YAML parse error on bad/templates/a.yaml"))
        }
    }

    @Test func setIntegersAreInt64AndFileNumbersFloat64() throws {
        let c = try chart([chartYAML("n"), file("values.yaml", "big: 1000000\n"),
                           file("templates/a.yaml", "kind: ConfigMap\napiVersion: v1\nmetadata: {name: n}\ndata: {big: \"{{ .Values.big }}\", set: \"{{ .Values.s }}\", t: \"{{ kindOf .Values.s }}\"}\n")])
        var set = Value.emptyObject
        try StrVals.parse(into: &set, "s=1000000")
        let r = try render(c, values: [ValueLayer(file: "--set", value: HelmValues.markSetIntegers(set))])
        let data = r.manifests[0].object["data"]
        #expect(data?["big"] == "1e+06")      // float64 from the values file, printed as Go prints it
        #expect(data?["set"] == "1000000")    // int64 from --set
        #expect(data?["t"] == "int64")
    }

    @Test func lookupEmptyLiveRecordedAndReplayed() throws {
        struct Reader: LiveObjectReader {
            func get(apiVersion: String, kind: String, namespace: String, name: String) throws -> Value? {
                name == "shop-settings" ? ["apiVersion": "v1", "kind": "ConfigMap", "data": ["mode": "blue"]] : nil
            }
            func list(apiVersion: String, kind: String, namespace: String) throws -> [Value] { [] }
        }
        let c = try shop()
        func seen(_ r: ChartRender) -> Value? { object(r, "ConfigMap", "rel-shop-seen")?.object[path: ["data", "existing"]] }
        #expect(seen(try render(c)) == "absent")                              // helm template: empty map
        let live = try render(c, lookup: .live(Reader()))
        #expect(seen(live) == "blue")
        let key = LookupRecording.Key(apiVersion: "v1", kind: "ConfigMap", namespace: "shop", name: "shop-settings")
        #expect(live.lookups.entries[key]?[path: ["data", "mode"]] == "blue")
        // The recording survives JSON and replays offline to the same output.
        let decoded = try LookupRecording(decoding: try JSONParser.parse(JSONWriter.string(live.lookups.encoded())), file: "rec.json")
        let replay = try render(c, lookup: .replay(decoded))
        #expect(seen(replay) == "blue")
        #expect(replay.yaml() == live.yaml())
        // A replay that misses a call warns.
        let empty = try render(c, lookup: .replay(LookupRecording()))
        #expect(empty.warnings.contains { $0.message.contains("not in the lookup recording") })
    }

    @Test func kubeVersionConstraintAndLibraryCharts() throws {
        do {
            _ = try render(try shop(), caps: Capabilities(kubeVersion: KubeVersion("1.20")!))
            Issue.record("expected an error")
        } catch let e as ChartError {
            #expect(e.diagnostics[0].message == "chart requires kubeVersion: >=1.25.0-0 which is incompatible with Kubernetes v1.20.0")
            #expect(e.diagnostics[0].location?.file == "shop/Chart.yaml")
        }
        let lib = try chart([chartYAML("lib", extra: "type: library\n")])
        #expect(throws: ChartError.self) { try render(lib) }
    }

    @Test func tgzSubchartRendersWithItsArchivePath() throws {
        let sub = ChartArchive.write(top: "metrics", files: [chartYAML("metrics", version: "0.3.0"),
            file("templates/sm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Chart.Name }}-{{ .Values.port }}}\n"),
            file("values.yaml", "port: 9\n")])
        let c = try chart([chartYAML("app"), ChartFile(name: "charts/metrics-0.3.0.tgz", data: sub)], origin: "app")
        let r = try render(c, values: [ValueLayer(file: "v.yaml", value: yaml("metrics: {port: 7}\n"))])
        #expect(r.manifests.map(\.source) == ["app/charts/metrics/templates/sm.yaml"])
        #expect(r.manifests[0].object.metadataName == "metrics-7")
    }

    @Test func v1ChartWithRequirements() throws {
        let c = try ChartLoader().load(tree: LocalTree(root: helmFixtures), path: try TreePath("legacy"), display: "legacy")
        let r = try render(c)
        #expect(r.manifests.map { $0.object.metadataName ?? "" }.sorted() == ["old", "sub-rel"])
        let off = try render(c, values: [ValueLayer(file: "v", value: yaml("sub: {on: false}\n"))])
        #expect(off.manifests.map { $0.object.metadataName ?? "" } == ["old"])
        #expect(r.manifests.first { $0.object.metadataName == "old" }?.object[path: ["data", "api"]] == "v1")
    }
}
