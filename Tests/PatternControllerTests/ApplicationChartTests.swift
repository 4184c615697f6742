import Foundation
import Testing
import TestSupport
import PatternCore
import PatternCompile
import PatternSource
import PatternController
import PatternApply
import KubeClient

/// Argo CD Application sources with `chart:` and a chart-repository `repoURL`, expanded by the
/// site compiler through `GitPatternResolver` (PatternSource's chart cache), as the CLI and
/// the controller run it.
@Suite(.serialized) struct ApplicationChartTests {
    /// A pattern whose one component is an Application of chart `podinfo` at `constraint`.
    func pattern(_ root: TemporaryDirectory, repoURL: String, constraint: String) throws {
        func write(_ rel: String, _ text: String) throws {
            let path = root.path + "/" + rel
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        }
        try write("patterns/apps/pattern.yaml", """
            apiVersion: pattern.dev/v1alpha1
            kind: Pattern
            metadata: {name: apps}
            spec:
              components:
              - name: root
                path: components/app-of-apps
            """)
        try write("patterns/apps/components/app-of-apps/app.yaml", """
            apiVersion: argoproj.io/v1alpha1
            kind: Application
            metadata: {name: podinfo, namespace: openshift-gitops}
            spec:
              destination: {server: https://kubernetes.default.svc, namespace: web}
              source:
                repoURL: \(repoURL)
                chart: podinfo
                targetRevision: "\(constraint)"
                helm:
                  values: |
                    greeting: from-the-application
            """)
        try write("overlays/hub/overlay.yaml", """
            apiVersion: pattern.dev/v1alpha1
            kind: Site
            metadata: {name: hub}
            spec:
              pattern: {path: patterns/apps}
              applications: expand
            """)
    }

    func chart(_ tmp: TemporaryDirectory, _ version: String) throws -> [UInt8] {
        try chartArchive(tmp, name: "podinfo", version: version, files: [
            "values.yaml": "greeting: default\n",
            "templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: podinfo}\ndata: {version: \"{{ .Chart.Version }}\", greeting: {{ .Values.greeting | quote }}}\n",
        ])
    }

    func compile(_ root: TemporaryDirectory, cache: String, offline: Bool = false) throws(Diagnostics) -> RenderedSite {
        let resolver = GitPatternResolver(resolver: SourceResolver(cache: SourceCache(directory: cache), offline: offline))
        let compiler = SiteCompiler(workspace: Workspace(tree: LocalTree(root: root.path)), resolver: resolver)
        return try compiler.compile(site: "hub")
    }

    @Test func aChartFromAChartRepositoryIsExpandedThroughTheSourceCacheAndReplayedOffline() throws {
        let tmp = TemporaryDirectory("app-chart")
        defer { tmp.remove() }
        let server = try ChartRepoServer()
        defer { server.stop() }
        let (v1, v2) = (try chart(tmp, "1.2.0"), try chart(tmp, "1.3.0"))
        server.put("/charts/podinfo-1.2.0.tgz", v1)
        server.put("/charts/podinfo-1.3.0.tgz", v2)
        server.put("/charts/index.yaml", chartIndex("podinfo", [
            ("1.2.0", server.url + "/podinfo-1.2.0.tgz", nil), ("1.3.0", server.url + "/podinfo-1.3.0.tgz", nil), ("2.0.0", server.url + "/podinfo-2.0.0.tgz", nil),
        ]))
        let root = TemporaryDirectory("app-chart-repo")
        defer { root.remove() }
        try pattern(root, repoURL: server.url, constraint: ">=1.0 <2")
        let cache = tmp.sub("cache")

        let site = try compile(root, cache: cache)
        let cm = try #require(site.objects.first { $0.object.kindName == "ConfigMap" })
        #expect(cm.object["data"]?["version"]?.string == "1.3.0")                      // highest match of the constraint
        #expect(cm.object["data"]?["greeting"]?.string == "from-the-application")      // the Application's helm values
        #expect(cm.object.metadataNamespace == "web")                                   // the destination namespace
        #expect(site.objects.allSatisfy { $0.object.kindName != "Application" })
        #expect(server.requests.contains("/charts/podinfo-1.3.0.tgz"))

        // The repository goes away: offline renders replay the cached version.
        server.stop()
        let again = try compile(root, cache: cache, offline: true)
        #expect(again.objects.first { $0.object.kindName == "ConfigMap" }?.object["data"]?["version"]?.string == "1.3.0")
    }

    @Test func aMissingChartIsATypedErrorAtTheApplication() throws {
        let tmp = TemporaryDirectory("app-chart-missing")
        defer { tmp.remove() }
        let server = try ChartRepoServer()
        defer { server.stop() }
        server.put("/charts/index.yaml", chartIndex("other", [("1.0.0", server.url + "/other-1.0.0.tgz", nil)]))
        let root = TemporaryDirectory("app-chart-missing-repo")
        defer { root.remove() }
        try pattern(root, repoURL: server.url, constraint: "1.0.0")
        do {
            _ = try compile(root, cache: tmp.sub("cache"))
            Issue.record("expected an error")
        } catch {
            let d = try #require(error.items.first)
            #expect(d.message.contains("chart podinfo from \(server.url)"))
            #expect(d.location?.file.hasSuffix("components/app-of-apps/app.yaml") == true)
            #expect(!d.message.contains("not available yet"))
        }
    }
    @Test func anOCIRepoURLWithAChartIsPulledFromTheRegistry() throws {
        let tmp = TemporaryDirectory("app-chart-oci")
        defer { tmp.remove() }
        let registry = try OCIRegistryServer()
        defer { registry.stop() }
        registry.push("charts/podinfo", tag: "1.2.0", chart: try chart(tmp, "1.2.0"))
        registry.push("charts/podinfo", tag: "1.3.0", chart: try chart(tmp, "1.3.0"))
        let root = TemporaryDirectory("app-chart-oci-repo")
        defer { root.remove() }
        // Argo CD's `repoURL: oci://host/path` + `chart: podinfo` is oci://host/path/podinfo.
        // (The test registry speaks plain HTTP, which Application sources never use: the
        // resolver tries https and the failure names the registry.)
        try pattern(root, repoURL: registry.url("charts"), constraint: "~1.2")
        do {
            _ = try compile(root, cache: tmp.sub("cache"))
            Issue.record("expected an error: https to a plain-HTTP registry")
        } catch {
            let d = try #require(error.items.first)
            #expect(d.message.contains("chart podinfo from \(registry.url("charts"))") && d.message.contains("oci://\(registry.host)/charts/podinfo"), "\(d.message)")
            #expect(!d.message.contains("not supported"), "\(d.message)")
        }
    }

    /// An Argo CD repository Secret in the render gives an Application's chart source its
    /// registry credentials: Argo CD's Helm OCI form (`repoURL` without a scheme, the Secret's
    /// `type: helm` + `enableOCI: "true"`), the registry's token flow with the Secret's
    /// username and password, `insecureOCIForceHttp` for the loopback registry. The expanded
    /// chart is applied to the test API server; the password appears in no object but the
    /// Secret and in no message.
    @Test func anOCIChartBehindTokenAuthIsPulledWithTheRepositorySecretAndApplied() async throws {
        let tmp = TemporaryDirectory("app-chart-oci-auth")
        defer { tmp.remove() }
        let registry = try OCIRegistryServer()
        defer { registry.stop() }
        registry.auth = .token(user: "deploy")
        registry.push("charts/podinfo", tag: "1.3.0", chart: try chart(tmp, "1.3.0"))
        let root = TemporaryDirectory("app-chart-oci-auth-repo")
        defer { root.remove() }
        let repoURL = "\(registry.host)/charts"
        try pattern(root, repoURL: repoURL, constraint: "1.3.0")
        let secret = """
            apiVersion: v1
            kind: Secret
            metadata:
              name: charts-registry
              namespace: openshift-gitops
              labels: {argocd.argoproj.io/secret-type: repository}
            stringData:
              type: helm
              name: charts
              url: \(repoURL)
              enableOCI: "true"
              insecureOCIForceHttp: "true"
              username: deploy
              password: \(registry.tokenPassword)

            """
        try Data(secret.utf8).write(to: URL(fileURLWithPath: root.path + "/patterns/apps/components/app-of-apps/repo-secret.yaml"))

        let site = try compile(root, cache: tmp.sub("cache"))
        let cm = try #require(site.objects.first { $0.object.kindName == "ConfigMap" })
        #expect(cm.object["data"]?["version"]?.string == "1.3.0")
        #expect(cm.object["data"]?["greeting"]?.string == "from-the-application")
        let log = registry.requests
        #expect(log.contains { $0.hasPrefix("GET /token?") && $0.hasSuffix("auth=Basic") }, "\(log)")
        #expect(log.contains("GET /v2/charts/podinfo/manifests/1.3.0 auth=Bearer"), "\(log)")
        #expect(site.warnings.allSatisfy { !$0.description.contains(registry.tokenPassword) })

        // Applied: the chart's ConfigMap lands in the destination namespace.
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        for ns in ["web", "openshift-gitops"] {
            _ = try await cluster.client.apply(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(ns)]], fieldManager: "test")
        }
        var options = ApplyOptions()
        options.pollIntervalSeconds = 0.05
        options.waitTimeoutSeconds = 20
        _ = try await ApplyEngine(client: cluster.client).apply(site, options: options)
        let live = try #require(cluster.server.store.get(group: "", resource: "configmaps", namespace: "web", name: "podinfo"))
        #expect(live["data"]?["version"]?.string == "1.3.0")

        // Without the Secret, the registry refuses the anonymous token request: a typed error
        // at the Application, with no password in it.
        try FileManager.default.removeItem(atPath: root.path + "/patterns/apps/components/app-of-apps/repo-secret.yaml")
        do {
            _ = try compile(root, cache: tmp.sub("cache-2"))
            Issue.record("expected an authentication error")
        } catch {
            let d = try #require(error.items.first)
            #expect(d.message.contains("chart podinfo from \(repoURL)"), "\(d.message)")
            #expect(d.location?.file.hasSuffix("components/app-of-apps/app.yaml") == true)
        }
    }

    @Test func anInsecureRepositorySecretIsRefusedAtTheSecret() throws {
        let tmp = TemporaryDirectory("app-chart-oci-insecure")
        defer { tmp.remove() }
        let root = TemporaryDirectory("app-chart-oci-insecure-repo")
        defer { root.remove() }
        try pattern(root, repoURL: "oci://registry.example.com/charts", constraint: "1.3.0")
        try Data("""
            apiVersion: v1
            kind: Secret
            metadata: {name: creds, namespace: openshift-gitops, labels: {argocd.argoproj.io/secret-type: repo-creds}}
            stringData: {type: helm, url: "oci://registry.example.com", enableOCI: "true", insecure: "true", password: s3cret-value}

            """.utf8).write(to: URL(fileURLWithPath: root.path + "/patterns/apps/components/app-of-apps/creds.yaml"))
        do {
            _ = try compile(root, cache: tmp.sub("cache"))
            Issue.record("expected an error")
        } catch {
            let d = try #require(error.items.first)
            #expect(d.message.contains("insecure"), "\(d.message)")
            #expect(d.location?.file.hasSuffix("creds.yaml") == true, "\(String(describing: d.location))")
            #expect(!d.description.contains("s3cret-value"))
        }
    }
}
