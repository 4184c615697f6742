import Testing
import PatternCore
import PatternDiff
@testable import ArgoCD

let chartYAML = "apiVersion: v2\nname: web\nversion: 1.0.0\n"
let chartTemplate = """
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: {{ .Release.Name }}-cfg}
    data:
      replicas: {{ .Values.replicas | quote }}
      tag: {{ .Values.image.tag | quote }}
      port: {{ .Values.port | kindOf | quote }}
      release-ns: {{ .Release.Namespace }}
      kube: {{ .Capabilities.KubeVersion.Version }}
      {{- if .Values.config }}
      config: {{ .Values.config | quote }}
      {{- end }}
    """

/// Helm sources: value layers in Argo CD's order, parameters, file parameters, release name,
/// CRDs, missing value files, capabilities.
@Suite struct HelmSourceTests {
    func repo() -> Repo {
        let r = Repo()
        r.write("charts/web/Chart.yaml", chartYAML)
        r.write("charts/web/values.yaml", "replicas: 1\nimage: {tag: \"1.0\"}\nport: 80\n")
        r.write("charts/web/values-hub.yaml", "replicas: 2\n")
        r.write("charts/web/templates/cm.yaml", chartTemplate)
        r.write("charts/web/crds/crd.yaml", """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: widgets.example.com}
            spec: {group: example.com, scope: Namespaced, names: {kind: Widget, plural: widgets}, versions: []}
            """)
        r.write("shared/common.yaml", "image: {tag: \"2.0\"}\n")
        r.write("files/config.txt", "a,b=c")
        return r
    }

    @Test func layersAndParameters() throws {
        let r = repo()
        let e = try r.expand(app("web", source: """
            repoURL: \(ownURL)
            path: charts/web
            helm:
              releaseName: shop
              valueFiles: [values-hub.yaml, /shared/common.yaml, missing.yaml]
              ignoreMissingValueFiles: true
              values: |
                replicas: 3
              parameters:
              - {name: image.tag, value: "3.1"}
              - {name: port, value: "8080", forceString: true}
              fileParameters:
              - {name: config, path: ../../files/config.txt}
              kubeVersion: "1.29.4"
            """))
        let cm = try #require(object(e, "ConfigMap", "shop-cfg"))
        #expect(cm["data"]?["replicas"] == "3")          // values over valueFiles
        #expect(cm["data"]?["tag"] == "3.1")             // parameters over values
        #expect(cm["data"]?["port"] == "string")         // forceString
        #expect(cm["data"]?["config"] == "a,b=c")        // fileParameters: the file's text
        #expect(cm["data"]?["release-ns"] == "web")      // destination namespace is .Release.Namespace
        #expect(cm["data"]?["kube"] == "v1.29.4")
        #expect(cm.metadataNamespace == "web")           // placed in the destination namespace
        #expect(object(e, "CustomResourceDefinition", "widgets.example.com")?.metadataNamespace == nil)
        #expect(e.applications == 1)
    }

    @Test func releaseNameDefaultsToTheApplicationAndSkipCrds() throws {
        let e = try repo().expand(app("web", source: "repoURL: \(ownURL)\npath: charts/web\nhelm: {skipCrds: true}"))
        #expect(object(e, "ConfigMap", "web-cfg") != nil)
        #expect(object(e, "CustomResourceDefinition", "widgets.example.com") == nil)
    }

    @Test func missingValueFileIsAnErrorAtItsLine() {
        let p = problems { () throws(Diagnostics) in try repo().expand(app("web", source: "repoURL: \(ownURL)\npath: charts/web\nhelm: {valueFiles: [nope.yaml]}")) }
        #expect(p.contains { $0.message.contains("charts/web/nope.yaml does not exist") && $0.location?.file == "apps/app.yaml" && $0.fix?.contains("ignoreMissingValueFiles") == true }, "\(p)")
    }

    @Test func valueFilesCannotLeaveTheRepository() {
        let p = problems { () throws(Diagnostics) in try repo().expand(app("web", source: "repoURL: \(ownURL)\npath: charts/web\nhelm: {valueFiles: [../../../../etc/passwd]}")) }
        #expect(p.contains { $0.message.contains("value file") && $0.fix?.contains("inside the repository") == true }, "\(p)")
    }

    @Test func multiSourceRefValueFiles() throws {
        let r = repo()
        let values = Repo()
        values.write("envs/hub.yaml", "replicas: 7\n")
        struct Resolver: ApplicationRepoResolver {
            let root: String
            func tree(url: String, revision: String?) throws -> (tree: any SourceTree, display: String) {
                guard url == "https://git.example.com/values.git", revision == "v1" else { throw SourceTreeError(path: url, message: "unknown") }
                return (LocalTree(root: root), "values@v1:")
            }
        }
        let e = try r.expand("""
            apiVersion: argoproj.io/v1alpha1
            kind: Application
            metadata: {name: web}
            spec:
              destination: {namespace: web}
              sources:
              - {repoURL: \(ownURL), path: charts/web, helm: {valueFiles: [$values/envs/hub.yaml]}}
              - {repoURL: https://git.example.com/values.git, targetRevision: v1, ref: values}
            """, context: r.context(resolver: Resolver(root: values.root)))
        #expect(object(e, "ConfigMap", "web-cfg")?["data"]?["replicas"] == "7")
        // A ref-only source renders nothing of its own.
        #expect(e.objects.count == 2)
    }

    @Test func unknownRefIsAnError() {
        let p = problems { () throws(Diagnostics) in try repo().expand(app("web", source: "repoURL: \(ownURL)\npath: charts/web\nhelm: {valueFiles: [$nope/x.yaml]}")) }
        #expect(p.contains { $0.message.contains("names ref 'nope'") }, "\(p)")
    }

    @Test func otherRepositoriesNeedAResolver() {
        let p = problems { () throws(Diagnostics) in try repo().expand(app("web", source: "repoURL: https://git.example.com/other.git\npath: charts/web")) }
        #expect(p.contains { $0.message.contains("is not the pattern's own repository") && $0.fix?.contains(ownURL) == true }, "\(p)")
    }

    @Test func chartRepositoriesAreNotAvailableYet() {
        let p = problems { () throws(Diagnostics) in
            try repo().expand(app("web", source: "repoURL: https://charts.example.com\nchart: redis\ntargetRevision: 1.2.3"))
        }
        #expect(p.contains { $0.message.contains("chart repositories are not available yet") && $0.fix?.contains("vendor the chart") == true }, "\(p)")
    }

    @Test func chartRepositoryResolverIsUsed() throws {
        let r = repo()
        struct Charts: ChartRepositoryResolver {
            let root: String
            func chart(repoURL: String, chart: String, version: String?) throws -> (tree: any SourceTree, path: TreePath, display: String) {
                #expect(repoURL == "oci://registry.example.com/charts" && chart == "web" && version == "1.0.0")
                return (LocalTree(root: root), try TreePath("charts/web"), "oci://registry.example.com/charts/web@1.0.0:")
            }
        }
        let e = try r.expand(app("web", source: "repoURL: oci://registry.example.com/charts\nchart: web\ntargetRevision: 1.0.0"),
                             context: r.context(charts: Charts(root: r.root)))
        #expect(object(e, "ConfigMap", "web-cfg") != nil)
    }

    /// A resolver's diagnostic is carried as its message and fix, not its printed form (which
    /// read "chart redis from …: error: cannot fetch …" with the resolver's fix lost in it).
    @Test func aChartFetchFailureKeepsTheResolversMessageAndFix() {
        struct Offline: ChartRepositoryResolver {
            func chart(repoURL: String, chart: String, version: String?) throws -> (tree: any SourceTree, path: TreePath, display: String) {
                throw Diagnostics([.error("cannot fetch chart redis '1.2.3': every URL failed", at: nil, fix: "add a reachable mirror")])
            }
        }
        let r = repo()
        let p = problems { () throws(Diagnostics) in
            try r.expand(app("web", source: "repoURL: https://charts.example.com\nchart: redis\ntargetRevision: 1.2.3"), context: r.context(charts: Offline()))
        }
        #expect(p.count == 1)
        #expect(p.first?.message == "chart redis from https://charts.example.com: cannot fetch chart redis '1.2.3': every URL failed", "\(p)")
        #expect(p.first?.fix == "add a reachable mirror; or vendor the chart into the repository (charts/redis) and point the source at it with path:")
    }
}

/// `source.kustomize`: the `kustomize edit` changes Argo CD makes before building.
@Suite struct KustomizeSourceTests {
    @Test func editsBeforeBuild() throws {
        let r = Repo()
        r.write("config/kustomization.yaml", "resources: [deploy.yaml]\nimages: [{name: nginx, newTag: \"1.0\"}]\n")
        r.write("config/deploy.yaml", """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web}
            spec:
              replicas: 1
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec: {containers: [{name: web, image: nginx}, {name: side, image: busybox}]}
            """)
        let e = try r.expand(app("cfg", source: """
            repoURL: \(ownURL)
            path: config
            kustomize:
              namePrefix: hub-
              nameSuffix: -v1
              images: [nginx:1.27, busybox=registry.example.com/busybox:2]
              commonLabels: {team: platform}
              commonAnnotations: {owner: ops}
              namespace: shop
              replicas: [{name: web, count: 4}]
              patches:
              - target: {kind: Deployment}
                patch: |-
                  - {op: add, path: /spec/minReadySeconds, value: 5}
            """))
        let d = try #require(object(e, "Deployment", "hub-web-v1"), "\(names(e))")
        #expect(d.metadataNamespace == "shop")                           // kustomize namespace wins over destination
        #expect(d[path: ["spec", "replicas"]] == 4)
        #expect(d[path: ["spec", "minReadySeconds"]] == 5)
        #expect(d.labels["team"] == "platform" && d.annotations["owner"] == "ops")
        let images = d[path: ["spec", "template", "spec", "containers"]]?.array?.compactMap { $0["image"]?.string }
        #expect(images == ["nginx:1.27", "registry.example.com/busybox:2"])
    }

    @Test func imageSyntax() {
        #expect(KustomizeEdits.image("nginx:1.2") == ["name": "nginx", "newTag": "1.2"])
        #expect(KustomizeEdits.image("nginx=quay.io/nginx@sha256:abc") == ["name": "nginx", "newName": "quay.io/nginx", "digest": "sha256:abc"])
        #expect(KustomizeEdits.image("registry:5000/app") == ["name": "registry:5000/app"])
    }
}

/// `directory` sources: recurse, include/exclude, the skip marker, Jsonnet refused.
@Suite struct DirectorySourceTests {
    func repo() -> Repo {
        let r = Repo()
        r.write("m/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
        r.write("m/b.json", #"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}}"#)
        r.write("m/notes.txt", "not a manifest")
        r.write("m/values.yaml", "replicas: 2\n")  // YAML that is not a manifest: skipped
        r.write("m/skip.yaml", "# +argocd:skip-file-rendering\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: skipped}\n")
        r.write("m/sub/c.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
        r.write("m/sub/deep/d.yml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\n")
        return r
    }

    func cms(_ directory: String) throws -> [String] {
        let e = try repo().expand(app("d", source: "repoURL: \(ownURL)\npath: m\n" + directory))
        return e.objects.compactMap(\.object.metadataName).sorted()
    }

    @Test func defaultsToTheTopDirectoryOnly() throws { #expect(try cms("") == ["a", "b"]) }
    @Test func recurse() throws { #expect(try cms("directory: {recurse: true}") == ["a", "b", "c", "d"]) }
    @Test func include() throws { #expect(try cms("directory: {recurse: true, include: '*.yaml'}") == ["a", "c"]) }
    @Test func includeAlternatives() throws { #expect(try cms("directory: {recurse: true, include: '{a.yaml,sub/deep/*}'}") == ["a", "d"]) }
    @Test func exclude() throws { #expect(try cms("directory: {recurse: true, exclude: 'sub/*'}") == ["a", "b"]) }

    @Test func jsonnetIsRefused() {
        let r = repo()
        r.write("m/x.jsonnet", "{}")
        let p = problems { () throws(Diagnostics) in try r.expand(app("d", source: "repoURL: \(ownURL)\npath: m")) }
        #expect(p.contains { $0.message.contains("m/x.jsonnet is Jsonnet") && $0.fix?.contains("exclude") == true }, "\(p)")
        // …unless it is excluded.
        #expect(problems { () throws(Diagnostics) in try r.expand(app("d", source: "repoURL: \(ownURL)\npath: m\ndirectory: {exclude: '*.jsonnet'}")) }.isEmpty)
    }

    @Test func detectsChartAndKustomizationWithoutExplicitType() throws {
        let r = repo()
        r.write("k/kustomization.yaml", "resources: [cm.yaml]\nnamePrefix: k-\n")
        r.write("k/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
        let e = try r.expand(app("k", source: "repoURL: \(ownURL)\npath: k"))
        #expect(names(e) == ["ConfigMap/web/k-x"])
    }
}

/// App of apps: recursion, cycles, depth, ordering, sync options and hooks.
@Suite struct AppOfAppsTests {
    @Test func nestedApplicationsExpandRecursivelyInWaveOrder() throws {
        let r = Repo()
        r.write("apps/first.yaml", app("first", source: "repoURL: \(ownURL)\npath: first", annotations: "argocd.argoproj.io/sync-wave: \"-1\""))
        r.write("apps/second.yaml", app("second", source: "repoURL: \(ownURL)\npath: second"))
        r.write("first/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: one}\n")
        r.write("second/cm.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: two}
            ---
            apiVersion: batch/v1
            kind: Job
            metadata:
              name: pre
              annotations: {argocd.argoproj.io/hook: PreSync}
            spec: {template: {spec: {restartPolicy: Never, containers: [{name: a, image: busybox}]}}}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: skipped
              annotations: {argocd.argoproj.io/hook: Skip}
            """)
        let e = try r.expand(app("root", source: "repoURL: \(ownURL)\npath: apps", namespace: "argocd"))
        #expect(Set(names(e)) == ["ConfigMap/web/one", "ConfigMap/web/two", "Job/web/pre"])
        #expect(e.applications == 3)
        // Wave -1 (first) before wave 0 (second); in second, the PreSync hook before the rest.
        let pre = try #require(object(e, "Job", "pre"))
        let two = try #require(object(e, "ConfigMap", "two"))
        #expect(pre.annotations["config.kubernetes.io/depends-on"] == "/namespaces/web/ConfigMap/one")
        #expect(two.annotations["config.kubernetes.io/depends-on"] == "batch/namespaces/web/Job/pre")
        #expect(object(e, "ConfigMap", "one")?.annotations["config.kubernetes.io/depends-on"] == nil)
        #expect(e.warnings.contains { $0.message.contains("skipped left out: hook: Skip") })
    }

    @Test func cyclesAreErrors() {
        let r = Repo()
        r.write("a/app.yaml", app("b", source: "repoURL: \(ownURL)\npath: b"))
        r.write("b/app.yaml", app("a", source: "repoURL: \(ownURL)\npath: a"))
        let p = problems { () throws(Diagnostics) in try r.expand(app("a", source: "repoURL: \(ownURL)\npath: a")) }
        #expect(p.contains { $0.message.contains("cycle: argocd/a → argocd/b → argocd/a") }, "\(p)")
    }

    @Test func depthIsBounded() {
        let r = Repo()
        for i in 0..<5 { r.write("l\(i)/app.yaml", app("l\(i + 1)", source: "repoURL: \(ownURL)\npath: l\(i + 1)")) }
        r.write("l5/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
        let p = problems { () throws(Diagnostics) in try r.expand(app("l0", source: "repoURL: \(ownURL)\npath: l0"), context: r.context(maxDepth: 3)) }
        #expect(p.contains { $0.message.contains("nested more than 3 levels") }, "\(p)")
        #expect(problems { () throws(Diagnostics) in try r.expand(app("l0", source: "repoURL: \(ownURL)\npath: l0")) }.isEmpty)
    }

    @Test func syncOptionsAndAnnotations() throws {
        let r = Repo()
        r.write("m/a.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: keep
              annotations: {argocd.argoproj.io/sync-options: "Prune=false,ServerSideApply=true"}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: plain}
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: reader}
            """)
        let e = try r.expand(app("m", source: "repoURL: \(ownURL)\npath: m",
                                 extra: "syncPolicy:\n  syncOptions: [CreateNamespace=true]\n  managedNamespaceMetadata: {labels: {env: hub}}"))
        #expect(object(e, "ConfigMap", "keep")?.annotations["pattern.dev/prune"] == "disabled")
        #expect(object(e, "ConfigMap", "plain")?.annotations["pattern.dev/prune"] == nil)
        #expect(object(e, "ClusterRole", "reader")?.metadataNamespace == nil)
        let ns = try #require(object(e, "Namespace", "web"))
        #expect(ns.labels["env"] == "hub")
        let all = try r.expand(app("m", source: "repoURL: \(ownURL)\npath: m", extra: "syncPolicy: {syncOptions: [Prune=false]}"))
        #expect(all.objects.allSatisfy { $0.object.annotations["pattern.dev/prune"] == "disabled" })
    }

    @Test func replaceAnnotationIsRefused() {
        let r = Repo()
        r.write("m/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations: {argocd.argoproj.io/sync-options: Replace=true}\n")
        let p = problems { () throws(Diagnostics) in try r.expand(app("m", source: "repoURL: \(ownURL)\npath: m")) }
        #expect(p.contains { $0.message.contains("Replace=true is not supported") && $0.location?.file.hasSuffix("m/a.yaml") == true }, "\(p)")
    }

    @Test func badWaveIsAnError() {
        let r = Repo()
        r.write("m/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations: {argocd.argoproj.io/sync-wave: soon}\n")
        let p = problems { () throws(Diagnostics) in try r.expand(app("m", source: "repoURL: \(ownURL)\npath: m")) }
        #expect(p.contains { $0.message.contains("sync-wave must be an integer") }, "\(p)")
    }

    @Test func ignoreDifferencesAreCollected() throws {
        let r = Repo()
        r.write("m/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
        let e = try r.expand(app("m", source: "repoURL: \(ownURL)\npath: m", extra: "ignoreDifferences: [{kind: ConfigMap, jsonPointers: [/data]}]"))
        #expect(e.ignoreRules.count == 1 && e.ignoreRules[0].kind == "ConfigMap")
    }

    /// An Application's `ignoreDifferences` cover only the objects it expanded into: another
    /// Application's ConfigMap with the same kind is still compared in full.
    @Test func ignoreDifferencesApplyOnlyToTheirApplicationsObjects() throws {
        let r = Repo()
        r.write("m/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {k: desired}\n")
        r.write("n/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y}\ndata: {k: desired}\n")
        let e = try r.expand(app("m", source: "repoURL: \(ownURL)\npath: m", extra: "ignoreDifferences: [{kind: ConfigMap, jsonPointers: [/data]}]")
                             + "\n---\n" + app("n", source: "repoURL: \(ownURL)\npath: n", namespace: "shop"))
        #expect(e.ignoreRules.count == 1)
        let x = ObjectKey(group: "", kind: "ConfigMap", namespace: "web", name: "x")
        let y = ObjectKey(group: "", kind: "ConfigMap", namespace: "shop", name: "y")
        #expect(e.ignoreRules[0].scope == [x])
        #expect(e.ignoreRules[0].matches(x) && !e.ignoreRules[0].matches(y))
        // Diff, drift and apply compare through respectLive: m's ConfigMap takes live's data,
        // n's keeps what it renders.
        for (key, kept) in [(x, "live"), (y, "desired")] {
            let desired = try #require(e.objects.first { $0.object.objectKey == key }).object
            var live = desired
            live[path: ["data", "k"]] = "live"
            #expect(IgnoreDifferences.respectLive(desired, live: live, rules: e.ignoreRules)[path: ["data", "k"]] == .string(kept))
        }
    }

    /// `spec.destination`: this cluster (in-cluster, or the site's own names) expands; another
    /// site's cluster is that site's Application (skipped here, with a warning); any other
    /// cluster is an error with a fix, never applied here.
    @Test func destinationsOtherThanThisClusterAreSkippedOrErrors() throws {
        let r = Repo()
        r.write("m/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
        func withDestination(_ d: String) -> String {
            app("m", source: "repoURL: \(ownURL)\npath: m").replacing("{server: https://kubernetes.default.svc, namespace: web}", with: d)
        }
        var context = r.context(clusters: [ApplicationSetCluster(name: "hub", server: "hub-1", labels: [:]),
                                           ApplicationSetCluster(name: "edge-eu", server: "edge-eu-1", labels: [:])])
        context.localCluster = LocalCluster(names: ["hub", "hub-1"])
        for here in ["{name: in-cluster, namespace: web}", "{name: hub, namespace: web}", "{server: hub-1, namespace: web}",
                     "{server: 'https://kubernetes.default.svc/', namespace: web}", "{namespace: web}"] {
            let e = try r.expand(withDestination(here), context: context)
            #expect(names(e) == ["ConfigMap/web/x"], "\(here)")
            #expect(e.warnings.isEmpty)
        }
        let other = try r.expand(withDestination("{name: edge-eu, namespace: web}"), context: context)
        #expect(other.objects.isEmpty && other.applications == 0)
        #expect(other.warnings.map(\.message) == ["Application m deploys to site 'edge-eu' (spec.destination), not to this one: it is expanded in edge-eu's render, not here"])
        let p = problems { () throws(Diagnostics) in try r.expand(withDestination("{server: 'https://prod.example.com:6443', namespace: web}"), context: context) }
        #expect(p.count == 1)
        #expect(p.first?.message == "Application m deploys to cluster 'https://prod.example.com:6443' (spec.destination.server), which is neither site 'hub''s cluster nor another site's")
        #expect(p.first?.fix?.contains("applications: keep") == true)
        #expect(p.first?.location?.file == "apps/app.yaml")
        let both = problems { () throws(Diagnostics) in try r.expand(withDestination("{server: hub-1, name: hub, namespace: web}"), context: context) }
        #expect(both.first?.message.contains("both spec.destination.server and spec.destination.name") == true)
    }

    @Test func objectsOutsideApplicationsPassThrough() throws {
        let e = try Repo().expand("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations: {argocd.argoproj.io/sync-wave: \"5\"}\n")
        #expect(names(e) == ["ConfigMap//x"] && e.applications == 0)
        #expect(e.objects[0].object.annotations["config.kubernetes.io/depends-on"] == nil)
        // Beside an expanded Application, too: waves order what Applications render, not the
        // site's own objects (those keep pattern's component and kind ordering).
        let r = Repo()
        r.write("m/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
        let mixed = try r.expand("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations: {argocd.argoproj.io/sync-wave: \"5\"}\n---\n"
                                 + app("m", source: "repoURL: \(ownURL)\npath: m"))
        #expect(Set(names(mixed)) == ["ConfigMap//x", "ConfigMap/web/a"])
        #expect(mixed.objects.allSatisfy { $0.object.annotations["config.kubernetes.io/depends-on"] == nil })
    }
}

/// ApplicationSets: list, clusters and git generators; fasttemplate and Go templates.
@Suite struct ApplicationSetTests {
    func appSet(_ generators: String, template: String = "{{name}}", goTemplate: Bool = false, path: String = "m") -> String {
        """
        apiVersion: argoproj.io/v1alpha1
        kind: ApplicationSet
        metadata: {name: set, namespace: argocd}
        spec:
          goTemplate: \(goTemplate)
          generators:
        \(generators.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
          template:
            metadata: {name: '\(template)'}
            spec:
              project: default
              source: {repoURL: \(ownURL), path: \(path)}
              destination: {namespace: '\(template)'}
        """
    }

    func repo() -> Repo {
        let r = Repo()
        r.write("m/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n")
        return r
    }

    @Test func listGenerator() throws {
        let e = try repo().expand(appSet("- list: {elements: [{name: a}, {name: b}]}"))
        #expect(Set(names(e)) == ["ConfigMap/a/cm", "ConfigMap/b/cm"])
        #expect(e.applications == 2)
    }

    @Test func clustersGeneratorWithSelectorAndLabels() throws {
        let r = repo()
        let clusters = [ApplicationSetCluster(name: "hub", server: "hub-1", labels: ["tier": "hub"]),
                        ApplicationSetCluster(name: "edge-eu", server: "edge-eu-1", labels: ["tier": "edge", "region": "eu"]),
                        ApplicationSetCluster(name: "edge-us", server: "edge-us-1", labels: ["tier": "edge", "region": "us"])]
        let e = try r.expand(appSet("- clusters: {selector: {matchLabels: {tier: edge}}}", template: "{{name}}-{{metadata.labels.region}}"),
                             context: r.context(clusters: clusters))
        #expect(Set(names(e)) == ["ConfigMap/edge-eu-eu/cm", "ConfigMap/edge-us-us/cm"])
        let expr = try r.expand(appSet("- clusters: {selector: {matchExpressions: [{key: region, operator: NotIn, values: [us]}]}}", template: "{{server}}"),
                                context: r.context(clusters: clusters))
        #expect(Set(names(expr)) == ["ConfigMap/hub-1/cm", "ConfigMap/edge-eu-1/cm"])
    }

    @Test func goTemplateMode() throws {
        let r = repo()
        let clusters = [ApplicationSetCluster(name: "hub", server: "hub-1", labels: ["tier": "hub"])]
        let e = try r.expand(appSet("- clusters: {}", template: "{{ .name | upper | lower }}-{{ index .metadata.labels \"tier\" }}", goTemplate: true),
                             context: r.context(clusters: clusters))
        #expect(names(e) == ["ConfigMap/hub-hub/cm"])
    }

    @Test func goTemplateMissingKeyError() {
        let r = repo()
        let text = appSet("- list: {elements: [{name: a}]}", template: "{{ .nope.x }}", goTemplate: true)
            .replacingGoOptions()
        let p = problems { () throws(Diagnostics) in try r.expand(text) }
        #expect(p.contains { $0.message.contains("ApplicationSet template") }, "\(p)")
    }

    @Test func gitDirectoriesGenerator() throws {
        let r = Repo()
        for env in ["dev", "prod", "old"] { r.write("envs/\(env)/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \(env)}\n") }
        r.write("envs/prod/nested/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: nested}\n")
        let e = try r.expand(appSet("""
            - git:
                repoURL: \(ownURL)
                directories: [{path: envs/*}, {path: envs/old, exclude: true}]
            """, template: "{{path.basename}}", path: "'{{path}}'"))
        #expect(Set(names(e)) == ["ConfigMap/dev/dev", "ConfigMap/prod/prod"])
    }

    @Test func gitFilesGenerator() throws {
        let r = repo()
        r.write("clusters/a/config.json", #"{"cluster": {"name": "alpha"}}"#)
        r.write("clusters/b/config.json", #"{"cluster": {"name": "beta"}}"#)
        let e = try r.expand(appSet("- git: {repoURL: \(ownURL), files: [{path: 'clusters/*/config.json'}]}", template: "{{cluster.name}}-{{path.basename}}"))
        #expect(Set(names(e)) == ["ConfigMap/alpha-a/cm", "ConfigMap/beta-b/cm"])
    }

    @Test func matrixIsAClearError() {
        let p = problems { () throws(Diagnostics) in try repo().expand(appSet("- matrix: {generators: []}")) }
        #expect(p.contains { $0.message.contains("matrix is not supported") && $0.fix?.contains("list generator") == true }, "\(p)")
    }

    @Test func unknownParametersAreKept() {
        #expect(ApplicationSetGenerator.fasttemplate("{{name}}-{{ other }}", ["name": "a"]) == "a-{{ other }}")
    }
}

extension String {
    func replacingGoOptions() -> String {
        replacingFirst("  goTemplate: true", with: "  goTemplate: true\n  goTemplateOptions: [\"missingkey=error\"]")
    }
    func replacingFirst(_ a: String, with b: String) -> String {
        guard let r = firstRange(of: a) else { return self }
        return self[..<r.lowerBound] + b + self[r.upperBound...]
    }
}
