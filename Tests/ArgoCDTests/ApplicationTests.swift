import Testing
import PatternCore
import PatternDiff
@testable import ArgoCD

/// The Application model: what is read, and what is refused with file:line and a fix.
@Suite struct ApplicationModelTests {
    func decode(_ text: String) -> Result<Application, Diagnostics> {
        Result { () throws(Diagnostics) in try Application.decode(yaml(text, file: "apps/a.yaml")[0], file: "apps/a.yaml") }
    }

    func errors(_ text: String) -> [Diagnostic] {
        if case .failure(let d) = decode(text) { return d.items }
        return []
    }

    @Test func readsEveryHelmField() throws {
        let a = try decode(app("web", source: """
            repoURL: \(ownURL)
            path: charts/web
            targetRevision: main
            helm:
              releaseName: shop
              namespace: shop-ns
              valueFiles: [values-hub.yaml, $values/common.yaml]
              values: |
                replicas: 3
              parameters:
              - {name: image.tag, value: "1.2"}
              - {name: port, value: "80", forceString: true}
              fileParameters:
              - {name: config, path: files/config.txt}
              skipCrds: true
              ignoreMissingValueFiles: true
              kubeVersion: "1.30"
              apiVersions: [monitoring.coreos.com/v1]
            """, extra: "syncPolicy: {syncOptions: [CreateNamespace=true, Prune=false]}")).get()
        let h = try #require(a.sources.first?.helm)
        #expect(a.name == "web" && a.namespace == "argocd" && a.destination.namespace == "web")
        #expect(h.releaseName == "shop" && h.namespace == "shop-ns")
        #expect(h.valueFiles.map(\.path) == ["values-hub.yaml", "$values/common.yaml"])
        #expect(h.values?["replicas"]?.int == 3)
        #expect(h.parameters.map { "\($0.name)=\($0.value)/\($0.forceString)" } == ["image.tag=1.2/false", "port=80/true"])
        #expect(h.fileParameters.map(\.path) == ["files/config.txt"])
        #expect(h.skipCrds && h.ignoreMissingValueFiles && h.kubeVersion == "1.30" && h.apiVersions == ["monitoring.coreos.com/v1"])
        #expect(a.syncOptions.createNamespace && a.syncOptions.pruneDisabled)
    }

    @Test func valuesObjectWinsOverValues() throws {
        let a = try decode(app("web", source: """
            repoURL: \(ownURL)
            path: charts/web
            helm:
              values: "replicas: 1"
              valuesObject: {replicas: 5}
            """)).get()
        #expect(a.sources[0].helm?.values?["replicas"]?.int == 5)
    }

    @Test func multiSourceWithRefs() throws {
        let a = try decode("""
            apiVersion: argoproj.io/v1alpha1
            kind: Application
            metadata: {name: m}
            spec:
              destination: {namespace: web}
              sources:
              - {repoURL: \(ownURL), path: charts/web, helm: {valueFiles: [$values/v.yaml]}}
              - {repoURL: https://git.example.com/values.git, ref: values}
            """).get()
        #expect(a.isMultiSource && a.sources.count == 2 && a.sources[1].ref == "values")
    }

    /// Unknown and unsupported fields are errors at their line, with what to do.
    @Test(arguments: [
        ("helm:\n  valueFile: [x.yaml]", "unknown field 'valueFile' in spec.source.helm", 14, "did you mean 'valueFiles'?"),
        ("plugin: {name: cmp}", "spec.source.plugin is not supported", 13, "render the manifests into the repository"),
        ("directory: {jsonnet: {tlas: [{name: a, value: b}]}}", "spec.source.directory.jsonnet is not supported", 13, "jsonnet -y"),
        ("helm: {version: v2}", "helm.version v2 is not supported", 13, "Helm v3"),
        ("kustomize: {}\nhelm: {}", "sets more than one of helm, kustomize and directory", 11, "keep the one"),
    ])
    func refusesWithLocation(_ extra: String, _ message: String, _ line: Int, _ fix: String) {
        let e = errors(app("web", source: "repoURL: \(ownURL)\npath: x\n" + extra))
        let hit = e.first { $0.message.contains(message) }
        #expect(hit != nil, "\(e)")
        #expect(hit?.location?.file == "apps/a.yaml")
        #expect(hit?.location?.mark.line == UInt32(line), "\(String(describing: hit))")
        #expect(hit?.fix?.contains(fix) == true, "\(String(describing: hit?.fix))")
    }

    @Test(arguments: [
        ("Replace=true", "Replace=true is not supported"),
        ("Force=true", "Force=true is not supported"),
        ("Bogus=true", "unknown sync option 'Bogus'"),
        ("CreateNamespace", "is not Key=value"),
    ])
    func syncOptionErrors(_ option: String, _ message: String) {
        let e = errors(app("web", source: "repoURL: \(ownURL)\npath: x", extra: "syncPolicy: {syncOptions: [\(option)]}"))
        #expect(e.contains { $0.message.contains(message) && $0.location?.file == "apps/a.yaml" }, "\(e)")
    }

    @Test func acceptedSyncOptionsChangeNothingElse() throws {
        let a = try decode(app("web", source: "repoURL: \(ownURL)\npath: x",
                               extra: "syncPolicy: {syncOptions: [ServerSideApply=true, Validate=false, ApplyOutOfSyncOnly=true, RespectIgnoreDifferences=true, PruneLast=true]}")).get()
        #expect(a.syncOptions == SyncOptions())
    }

    @Test func ignoreDifferencesAreRead() throws {
        let a = try decode(app("web", source: "repoURL: \(ownURL)\npath: x", extra: """
            ignoreDifferences:
            - {group: apps, kind: Deployment, name: web, jsonPointers: [/spec/replicas]}
            - {kind: ConfigMap, jqPathExpressions: ['.data["a.b"]'], managedFieldsManagers: [kube-controller-manager]}
            """)).get()
        #expect(a.ignoreDifferences.count == 2)
        #expect(a.ignoreDifferences[0].group == "apps" && a.ignoreDifferences[0].kind == "Deployment" && a.ignoreDifferences[0].name == "web")
        #expect(a.ignoreDifferences[0].valuePaths.map(\.steps) == [[.field("spec"), .field("replicas")]])
        #expect(a.ignoreDifferences[1].group == "" && a.ignoreDifferences[1].managers == ["kube-controller-manager"])
        #expect(a.ignoreDifferences[1].valuePaths.map(\.steps) == [[.field("data"), .field("a.b")]])
    }

    @Test func needsASource() {
        let e = errors("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: x}\nspec: {destination: {namespace: a}}\n")
        #expect(e.contains { $0.message.contains("has no source") })
    }
}

@Suite struct RepoURLTests {
    @Test(arguments: [
        ("https://git.example.com/platform/apps.git", "https://git.example.com/platform/apps"),
        ("https://git.example.com/platform/apps/", "http://git.example.com/platform/apps.git"),
        ("git@git.example.com:platform/apps.git", "ssh://git@git.example.com/platform/apps"),
        ("https://user@GIT.example.com/Platform/Apps", "https://git.example.com/platform/apps"),
    ])
    func sameRepository(_ a: String, _ b: String) {
        #expect(RepoURL.normalized(a) == RepoURL.normalized(b))
    }

    @Test func differentRepositories() {
        #expect(RepoURL.normalized("https://git.example.com/platform/apps") != RepoURL.normalized("https://git.example.com/platform/apps2"))
        #expect(RepoURL.normalized("https://a.example.com/x") != RepoURL.normalized("https://b.example.com/x"))
    }
}

/// `directory.include`/`exclude` globs as Argo CD's `glob.Match` (no separators).
@Suite struct GlobTests {
    @Test(arguments: [
        ("*.yaml", "a.yaml", true), ("*.yaml", "sub/a.yaml", true), ("*.yaml", "a.yml", false),
        ("{a.yaml,b.yaml}", "b.yaml", true), ("{a.yaml,b.yaml}", "c.yaml", false),
        ("sub/*", "sub/x/y.json", true), ("sub/*", "other/x.yaml", false),
        ("?.yaml", "a.yaml", true), ("?.yaml", "ab.yaml", false),
        ("[ab]*.yaml", "beta.yaml", true), ("[!ab]*.yaml", "beta.yaml", false),
        ("*{prod,stage}*", "env/prod/app.yaml", true), ("\\*.yaml", "*.yaml", true), ("\\*.yaml", "a.yaml", false),
    ])
    func argoMatch(_ pattern: String, _ path: String, _ want: Bool) {
        #expect(Glob(pattern).matches(path) == want)
    }

    @Test func slashStopsForGitGenerators() {
        #expect(Glob("apps/*", slashStops: true).matches("apps/web"))
        #expect(!Glob("apps/*", slashStops: true).matches("apps/web/base"))
        #expect(Glob("apps/**", slashStops: true).matches("apps/web/base"))
    }

    @Test func manyStarsStayCheap() {
        // Memoized: a pathological pattern answers without exponential backtracking.
        let p = String(repeating: "*a", count: 30) + "b"
        #expect(!Glob(p).matches(String(repeating: "a", count: 200)))
    }
}
