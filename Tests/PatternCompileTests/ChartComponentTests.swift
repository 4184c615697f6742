import Testing
#if canImport(Glibc)
import Glibc
#endif
import PatternCore
import PatternDiff
@testable import PatternCompile
import Helm

@Suite struct ChartComponentTests {
    static let files: [String: String] = [
        "patterns/p/pattern.yaml": """
            apiVersion: pattern.dev/v1alpha1
            kind: Pattern
            metadata: {name: p}
            spec:
              values: {replicas: 2, tag: "1.0"}
              components:
              - {name: base, path: components/base}
              - name: web
                dependsOn: [base]
                chart:
                  path: charts/web
                  namespace: shop
                  valueFiles: [values-web.yaml]
                  values: {replicas: "${replicas}", image: {tag: "${tag}"}}
            """,
        "patterns/p/components/base/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
        "patterns/p/values-web.yaml": "greeting: from-file\n",
        "patterns/p/charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\nkubeVersion: '>=1.30.0-0'\n",
        "patterns/p/charts/web/values.yaml": "replicas: 1\nimage: {repo: example/web, tag: latest}\ngreeting: default\n",
        "patterns/p/charts/web/templates/deploy.yaml": """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: {{ .Release.Name }}}
            spec:
              replicas: {{ .Values.replicas }}
              template:
                spec:
                  containers:
                  - {name: web, image: "{{ .Values.image.repo }}:{{ .Values.image.tag }}", args: ["${NOT_A_PATTERN_VARIABLE}"]}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: cfg}
            data: {greeting: {{ .Values.greeting | quote }}, kube: {{ .Capabilities.KubeVersion.Version | quote }}}
            """,
        "patterns/p/charts/web/templates/hooks.yaml": """
            apiVersion: batch/v1
            kind: Job
            metadata:
              name: migrate
              annotations: {helm.sh/hook: pre-install, helm.sh/hook-weight: "1"}
            spec: {template: {spec: {restartPolicy: Never, containers: [{name: m, image: m}]}}}
            ---
            apiVersion: v1
            kind: ServiceAccount
            metadata:
              name: migrator
              annotations: {helm.sh/hook: pre-install, helm.sh/hook-weight: "-1"}
            ---
            apiVersion: batch/v1
            kind: Job
            metadata:
              name: smoke
              annotations: {helm.sh/hook: post-install}
            spec: {template: {spec: {restartPolicy: Never, containers: [{name: s, image: s}]}}}
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: test
              annotations: {helm.sh/hook: test}
            spec: {containers: [{name: t, image: t}]}
            """,
        "overlays/s/overlay.yaml": """
            apiVersion: pattern.dev/v1alpha1
            kind: Site
            metadata: {name: s}
            spec:
              pattern: {path: patterns/p}
              cluster: {kubeVersion: "1.31.4"}
              values: {replicas: 5}
            """,
    ]

    func compile(_ files: [String: String]) throws -> (RenderedSite, String) {
        let dir = temporaryRepo(files)
        do {
            return (try SiteCompiler(workspace: Workspace(tree: LocalTree(root: dir))).compile(site: "s"), dir)
        } catch {
            removeTree(dir)
            throw error
        }
    }

    @Test func chartComponentRendersWithSiteValuesAndCapabilities() throws {
        let (r, dir) = try compile(Self.files)
        defer { removeTree(dir) }
        let deploy = try #require(r.objects.first { $0.key.kind == "Deployment" })
        #expect(deploy.component == "web")
        #expect(deploy.file == "patterns/p/charts/web/templates/deploy.yaml")
        #expect(deploy.key.namespace == "shop")                                   // release namespace set
        #expect(deploy.object[path: ["spec", "replicas"]] == 5)                   // site value through ${replicas}
        let container = deploy.object[path: ["spec", "template", "spec", "containers"]]?.array?.first
        #expect(container?["image"] == "example/web:1.0")
        #expect(container?["args"] == ["${NOT_A_PATTERN_VARIABLE}"])              // chart output is not substituted
        let cm = try #require(r.objects.first { $0.key.kind == "ConfigMap" && $0.key.name == "cfg" })
        #expect(cm.object["data"] == ["greeting": "from-file", "kube": "v1.31.4"])
        #expect(!r.objects.contains { $0.key.name == "test" })                    // test hooks are not applied
    }

    @Test func hooksBecomePlanLevelsAroundTheChart() throws {
        let (r, dir) = try compile(Self.files)
        defer { removeTree(dir) }
        let plan = try Planner.plan(r.objects.map(\.object),
                                    options: .init(componentDependencies: Dictionary(uniqueKeysWithValues: r.components.map { ($0.name, $0.dependsOn) })))
        let level = plan.levelOf
        func at(_ kind: String, _ name: String) -> Int { level[r.objects.first { $0.key.kind == kind && $0.key.name == name }!.key]! }
        // pre-install hooks by weight, then the chart's objects, then post-install hooks.
        #expect(at("ServiceAccount", "migrator") < at("Job", "migrate"))
        #expect(at("Job", "migrate") < at("ConfigMap", "cfg"))
        #expect(at("Job", "migrate") < at("Deployment", "web"))
        #expect(at("Deployment", "web") < at("Job", "smoke"))
        #expect(at("ConfigMap", "cfg") < at("Job", "smoke"))
        #expect(at("Namespace", "shop") < at("ServiceAccount", "migrator"))      // component dependsOn still holds
    }

    /// Compile errors of `files`, removing the temporary repository afterwards.
    func errors(_ files: [String: String]) -> [Diagnostic] {
        let dir = temporaryRepo(files)
        defer { removeTree(dir) }
        do { _ = try SiteCompiler(workspace: Workspace(tree: LocalTree(root: dir))).compile(site: "s"); return [] } catch { return error.items }
    }

    @Test func chartErrorsAreDiagnosticsWithChartFiles() {
        let compileErrors = errors
        var files = Self.files
        files["overlays/s/overlay.yaml"] = files["overlays/s/overlay.yaml"]!.replacingOccurrences("1.31.4", "1.29")
        let errs = compileErrors(files)
        #expect(errs.contains { $0.message.contains("chart requires kubeVersion") && $0.location?.file == "patterns/p/charts/web/Chart.yaml" })
        files = Self.files
        files["patterns/p/charts/web/templates/bad.yaml"] = "x: {{ fail \"no\" }}\n"
        #expect(compileErrors(files).contains { $0.location?.file == "patterns/p/charts/web/templates/bad.yaml" })
        files = Self.files
        files["patterns/p/pattern.yaml"] = files["patterns/p/pattern.yaml"]!.replacingOccurrences("namespace: shop", "namespce: shop")
        #expect(compileErrors(files).contains { $0.message.contains("unknown field 'namespce' in chart") })
    }

    /// Chart render warnings reach the site's warnings (what `pattern render`/`validate`/
    /// `diff`/`apply` print), naming the component and the chart, at the chart's file.
    @Test func chartRenderWarningsReachTheSiteWarningsWithComponentChartAndFile() throws {
        var files = Self.files
        files["patterns/p/charts/web/Chart.yaml"] = """
            apiVersion: v2
            name: web
            version: 1.0.0
            dependencies:
            - {name: db, version: 1.0.0, condition: db.enabled}
            """
        files["patterns/p/charts/web/charts/db/Chart.yaml"] = "apiVersion: v2\nname: db\nversion: 1.0.0\n"
        files["patterns/p/charts/web/charts/db/templates/cm.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: db}\n"
        files["patterns/p/values-web.yaml"] = "greeting: from-file\ndb: {enabled: \"yes please\"}\n"
        files["patterns/p/charts/web/templates/odd.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: odd, annotations: {helm.sh/hook: pre-frobnicate}}\n"
        let (r, dir) = try compile(files)
        defer { removeTree(dir) }
        let condition = try #require(r.warnings.first { $0.message.contains("condition path 'db.enabled'") }, "\(r.warnings)")
        #expect(condition.message.hasPrefix("component 'web': chart web: "))
        #expect(condition.location?.file == "patterns/p/charts/web/Chart.yaml" && condition.location?.mark.line == 5)
        #expect(condition.severity == .warning && condition.fix?.contains("db.enabled") == true)
        let hook = try #require(r.warnings.first { $0.message.contains("unknown hook") }, "\(r.warnings)")
        #expect(hook.message == "component 'web': chart web: skipping unknown hook: \"pre-frobnicate\"")
        #expect(hook.location?.file == "patterns/p/charts/web/templates/odd.yaml")
        #expect(!r.objects.contains { $0.key.name == "odd" })
    }

    /// A Kustomize component's `helmCharts:` warnings reach the site's warnings too, at the
    /// chart's file under the pattern directory (they were dropped by the generator).
    @Test func kustomizeHelmChartsWarningsReachTheSiteWarnings() throws {
        var files = Self.files
        files["patterns/p/components/base/kustomization.yaml"] = "resources: [ns.yaml]\nhelmCharts:\n- {name: side, releaseName: s, namespace: shop}\n"
        files["patterns/p/components/base/charts/side/Chart.yaml"] = "apiVersion: v2\nname: side\nversion: 0.1.0\n"
        files["patterns/p/components/base/charts/side/templates/odd.yaml"] =
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: side-odd, annotations: {helm.sh/hook: post-frobnicate}}\n"
        files["patterns/p/components/base/charts/side/templates/cm.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: side, namespace: shop}\n"
        let (r, dir) = try compile(files)
        defer { removeTree(dir) }
        #expect(r.objects.contains { $0.key.name == "side" && $0.component == "base" })
        let hook = try #require(r.warnings.first { $0.message.contains("post-frobnicate") }, "\(r.warnings)")
        #expect(hook.severity == .warning)
        #expect(hook.message == "helmCharts chart side: skipping unknown hook: \"post-frobnicate\"")
        #expect(hook.location?.file == "patterns/p/components/base/charts/side/templates/odd.yaml")
    }
}

extension String {
    func replacingOccurrences(_ a: String, _ b: String) -> String { replacing(a, with: b) }
}

@Suite struct ChartHookNamespaceTests {
    @Test func aHookInANamespaceTheChartCreatesIsNoCycle() throws {
        var files = ChartComponentTests.files
        files["patterns/p/charts/web/templates/ns.yaml"] = "apiVersion: v1\nkind: Namespace\nmetadata: {name: jobs}\n"
        files["patterns/p/charts/web/templates/hooks.yaml"] = """
            apiVersion: batch/v1
            kind: Job
            metadata:
              name: migrate
              namespace: jobs
              annotations: {helm.sh/hook: pre-install}
            spec: {template: {spec: {restartPolicy: Never, containers: [{name: m, image: m}]}}}
            """
        let dir = temporaryRepo(files)
        defer { removeTree(dir) }
        let r = try SiteCompiler(workspace: Workspace(tree: LocalTree(root: dir))).compile(site: "s")
        let plan = try Planner.plan(r.objects.map(\.object))
        let level = plan.levelOf
        func at(_ kind: String, _ name: String) -> Int { level[r.objects.first { $0.key.kind == kind && $0.key.name == name }!.key]! }
        #expect(at("Namespace", "jobs") < at("Job", "migrate"))
        #expect(at("Job", "migrate") < at("Deployment", "web"))
    }
}

@Suite struct ChartReleaseTests {
    static var files: [String: String] {
        var f = ChartComponentTests.files
        f["patterns/p/charts/web/templates/release.yaml"] = """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: release}
            data: {install: "{{ .Release.IsInstall }}", upgrade: "{{ .Release.IsUpgrade }}", revision: "{{ .Release.Revision }}"}
            ---
            apiVersion: batch/v1
            kind: Job
            metadata:
              name: upgrade-only
              annotations: {helm.sh/hook: pre-upgrade}
            spec: {template: {spec: {restartPolicy: Never, containers: [{name: u, image: u}]}}}
            """
        return f
    }

    func compile(_ releases: ChartReleases) throws -> RenderedSite {
        let dir = temporaryRepo(Self.files)
        defer { removeTree(dir) }
        var c = SiteCompiler(workspace: Workspace(tree: LocalTree(root: dir)))
        c.chartReleases = releases
        return try c.compile(site: "s")
    }

    @Test func firstApplyIsAnInstallWithInstallHooks() throws {
        let r = try compile(.install)
        #expect(r.chartComponents == ["web"])
        let cm = try #require(r.objects.first { $0.key.name == "release" })
        #expect(cm.object["data"] == ["install": "true", "upgrade": "false", "revision": "1"])
        #expect(r.objects.contains { $0.key.name == "migrate" })             // pre-install hook
        #expect(!r.objects.contains { $0.key.name == "upgrade-only" })       // pre-upgrade-only hook not applied
    }

    @Test func upgradeRendersUpgradeHooksAndRevision() throws {
        let r = try compile(ChartReleases(upgraded: ["web"], revision: 7))
        let cm = try #require(r.objects.first { $0.key.name == "release" })
        #expect(cm.object["data"] == ["install": "false", "upgrade": "true", "revision": "7"])
        #expect(r.objects.contains { $0.key.name == "upgrade-only" })        // pre-upgrade hook now runs…
        #expect(!r.objects.contains { $0.key.name == "migrate" })            // …and the pre-install-only one does not
        let plan = try Planner.plan(r.objects.map(\.object))
        func at(_ name: String) -> Int { plan.levelOf[r.objects.first { $0.key.name == name }!.key]! }
        #expect(at("upgrade-only") < at("web"))                              // before the chart's objects
        #expect(try compile(ChartReleases(upgradeAll: true)).objects.contains { $0.key.name == "upgrade-only" })
    }

    @Test func ledgerAndInventoryDecideWhichChartsAreUpgrades() throws {
        let installed = try compile(.install)
        let deployKey = try #require(installed.objects.first { $0.key.kind == "Deployment" }).key
        // Objects of the chart in the inventory after a successful apply: an upgrade numbered after the ledger.
        let up = ChartReleases.fromRecords(installed, inventory: [deployKey], anySucceeded: true, nextSeq: 4)
        #expect(up.upgraded == ["web"] && up.revision == 4)
        // No successful apply yet (only failures recorded), or the chart's objects never recorded: install.
        #expect(ChartReleases.fromRecords(installed, inventory: [deployKey], anySucceeded: false, nextSeq: 3).upgraded.isEmpty)
        let nsKey = try #require(installed.objects.first { $0.key.kind == "Namespace" }).key   // the non-chart component's object
        #expect(ChartReleases.fromRecords(installed, inventory: [nsKey], anySucceeded: true, nextSeq: 3).upgraded.isEmpty)
    }
}

/// `cluster.helm`: the compiler feeds charts recorded cluster reads and collects the lookups a
/// live render must still read.
@Suite struct HelmClusterReadsCompileTests {
    static func files(helm: String) -> [String: String] {
        var f = ChartComponentTests.files
        f["patterns/p/charts/web/templates/seen.yaml"] = """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: seen}
            data:
              mode: {{ dig "data" "mode" "none" (lookup "v1" "ConfigMap" "shop" "settings") | quote }}
              kube: {{ .Capabilities.KubeVersion.Version | quote }}
              mon: {{ .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" | quote }}
            """
        f["overlays/s/overlay.yaml"] = f["overlays/s/overlay.yaml"]!.replacingOccurrences(
            "cluster: {kubeVersion: \"1.31.4\"}", "cluster: {kubeVersion: \"1.31.4\", helm: \(helm)}")
        return f
    }

    func seen(_ r: RenderedSite) -> Value? { r.objects.first { $0.key.name == "seen" }?.object["data"] }

    @Test func missesAreCollectedThenRecordedAnswersAndDiscoveryAreUsed() throws {
        let dir = temporaryRepo(Self.files(helm: "{lookup: live, capabilities: discover}"))
        defer { removeTree(dir) }
        var compiler = SiteCompiler(workspace: Workspace(tree: LocalTree(root: dir)))
        let misses = LookupMisses()
        compiler.lookupMisses = misses
        let first = try compiler.compile(site: "s")
        #expect(first.helm.lookup == .live && first.helm.capabilities == .discover)
        #expect(seen(first)?["mode"]?.string == "none")
        #expect(misses.missing == [LookupRecording.Key(apiVersion: "v1", kind: "ConfigMap", namespace: "shop", name: "settings")])

        var reads = HelmClusterReads(site: "s", kubeVersion: "v1.30.2", apiVersions: ["v1", "monitoring.coreos.com/v1"])
        reads.lookups.entries[misses.missing[0]] = ["apiVersion": "v1", "kind": "ConfigMap", "data": ["mode": "blue"]]
        // The recording survives its JSON form.
        let decoded = try HelmClusterReads(decoding: try JSONParser.parse(JSONWriter.string(reads.encoded())), file: "r.json")
        #expect(decoded == reads)

        compiler.helmReads = decoded
        compiler.lookupMisses = LookupMisses()
        let second = try compiler.compile(site: "s")
        #expect(compiler.lookupMisses!.missing.isEmpty)
        #expect(seen(second)?["mode"]?.string == "blue")
        #expect(seen(second)?["kube"]?.string == "v1.30.2")
        #expect(seen(second)?["mon"]?.string == "true")

        // Replay (no collector) of a recording without the call: empty map and a warning naming it.
        compiler.helmReads = HelmClusterReads(site: "s", kubeVersion: "v1.30.2", apiVersions: ["v1"])
        compiler.lookupMisses = nil
        let replay = try compiler.compile(site: "s")
        #expect(seen(replay)?["mode"]?.string == "none")
        #expect(replay.warnings.contains { $0.message.contains("lookup v1 ConfigMap shop/settings is not in the site's recorded cluster reads") })
    }

    @Test func offIsHelmTemplateAndARecordingIsIgnored() throws {
        let dir = temporaryRepo(Self.files(helm: "{lookup: off}"))
        defer { removeTree(dir) }
        var compiler = SiteCompiler(workspace: Workspace(tree: LocalTree(root: dir)))
        var reads = HelmClusterReads(site: "s", kubeVersion: "v1.30.2", apiVersions: ["v1"])
        reads.lookups.entries[LookupRecording.Key(apiVersion: "v1", kind: "ConfigMap", namespace: "shop", name: "settings")] = ["data": ["mode": "blue"]]
        compiler.helmReads = reads
        let r = try compiler.compile(site: "s")
        #expect(seen(r)?["mode"]?.string == "none")
        #expect(seen(r)?["kube"]?.string == "v1.31.4")
    }
}
