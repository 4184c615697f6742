import Testing
import TestSupport
import PatternCore
import PatternCompile
import ValidatedPatterns
import Helm
#if canImport(Glibc)
import Glibc
#endif

/// A Validated Patterns checkout renders as a pattern repo without overlay files.
@Suite struct LayoutTests {
    @Test func hubRendersFromValuesFilesWithoutAnOverlayFile() throws {
        let site = try compile("hub")
        #expect(site.pattern == "vp-demo")
        // values-hub.yaml namespaces + values-AWS.yaml (platform fact from overlays/hub/facts.yaml).
        #expect(site.names("Namespace") == ["aws-storage", "config-demo", "external-secrets-operator", "hello-world"])
        #expect(site.names("OperatorGroup") == ["config-demo-operator-group", "external-secrets-operator-operator-group", "hello-world-operator-group"])
        // The templated sharedValueFiles entry /overrides/values-{{ clusterPlatform }}.yaml added `ebs`.
        #expect(site.names("Subscription") == ["aws-ebs-csi-driver-operator", "openshift-external-secrets-operator"])
        #expect(site.names("Application") == ["config-demo", "hello-world"])
        // targetNamespaces: [] gives an OperatorGroup without spec (all namespaces).
        #expect(site.object("OperatorGroup", "external-secrets-operator-operator-group")?["spec"] == nil)
        let app = try #require(site.object("Application", "config-demo"))
        #expect(app[path: ["metadata", "namespace"]]?.string == "openshift-gitops")
        #expect(app[path: ["spec", "source", "repoURL"]]?.string == "https://git.example.com/platform/vp-demo.git")
        #expect(app[path: ["spec", "source", "path"]]?.string == "charts/all/config-demo")
        let files = (app[path: ["spec", "source", "helm", "valueFiles"]]?.array ?? []).compactMap(\.string)
        #expect(files == ["/values-global.yaml", "/values-hub.yaml", "/values-AWS.yaml", "/values-AWS-4.18.yaml",
                          "/values-AWS-hub.yaml", "/values-4.18-hub.yaml", "/overrides/values-AWS.yaml", "/overrides/values-4.18-hub.yaml"])
        // Objects carry the pattern's ownership labels and the clustergroup component.
        #expect(site.objects.allSatisfy { $0.component == "clustergroup" })
        #expect(site.objects.first?.file.hasPrefix("common/clustergroup/templates/") == true)
    }

    @Test func spokeSitesExtendAManagedClusterGroup() throws {
        let site = try compile("factory-1")
        #expect(site.names("Namespace") == ["hello-world"])
        #expect(site.names("Subscription").isEmpty)
        #expect(site.cluster.context == "factory-1")
        // clusterSelector.matchLabels of the managed group became the group's cluster labels.
        #expect(site.cluster.labels == ["clusterGroup": "factory"])
        let app = try #require(site.object("Application", "hello-world"))
        let params = app[path: ["spec", "source", "helm", "parameters"]]?.array ?? []
        func param(_ n: String) -> String? { params.first { $0["name"]?.string == n }?["value"]?.string }
        #expect(param("global.clusterPlatform") == "BareMetal")         // the site overlay's fact
        #expect(param("global.localClusterDomain") == "apps.factory-1.example.com")
        #expect(param("replicas") == "2")                               // values-factory.yaml
        let files = (app[path: ["spec", "source", "helm", "valueFiles"]]?.array ?? []).compactMap(\.string)
        #expect(files.contains("/values-factory.yaml") && !files.contains("/values-AWS.yaml"))
    }

    @Test func sitesAreTheHubAndOverlayFiles() throws {
        #expect(try workspace().siteNames() == ["factory-1", "hub"])
        // A managed group is a group, not a site of its own.
        #expect(try workspace().loadOverlay("factory", mark: nil, from: nil).kind == .group)
    }

    @Test func valueFilesFollowTheOperatorsOrder() throws {
        let plan = try #require(try ValidatedPatternsLayout().plan(site: "hub", workspace: workspace()))
        #expect(plan.clusterGroup == "hub" && plan.isHub)
        #expect(plan.releaseName == "vp-demo-hub")
        #expect(plan.chart == .path("common/clustergroup"))
        // newApplicationValueFiles: global, group, platform, platform-version, platform-group,
        // version-group, cluster name (here "hub" again: listed once, at that later place, where
        // Helm's second read of it decides), then the rendered sharedValueFiles.
        #expect(plan.files.map(\.path) == ["values-global.yaml", "values-AWS.yaml", "values-AWS-4.18.yaml",
                                           "values-AWS-hub.yaml", "values-4.18-hub.yaml", "values-hub.yaml",
                                           "overrides/values-AWS.yaml", "overrides/values-4.18-hub.yaml"])
        #expect(plan.files.map(\.present) == [true, true, false, false, false, true, true, false])
        // Read as the operator lists it: twice.
        #expect(plan.layers.map(\.file).filter { $0 == "values-hub.yaml" }.count == 2)
    }

    /// Without facts (no overlays/hub/facts.yaml), a value file named after a fact is listed
    /// with the fact in its place, says which fact is missing and hints at `pattern facts`, and
    /// is not read; no file is listed twice (not `values-.yaml` for both the platform and the
    /// cluster name); the operator's order is kept.
    @Test func explainWithoutFactsNamesTheMissingFactsNotValuesDashYaml() throws {
        let root = fixtureCopy()
        #expect(unlink(root + "/overlays/hub/facts.yaml") == 0)
        // A file literally named as an empty fact would make: not the operator's, never read.
        writeFile(root + "/values-.yaml", "clusterGroup: {fromEmptyFact: true}\n")
        let e = try #require(try ValidatedPatternsLayout().explain(site: "hub", workspace: workspace(root)))
        let paths = e.files.map(\.path)
        #expect(paths == ["values-global.yaml", "values-hub.yaml", "values-<clusterPlatform>.yaml",
                          "values-<clusterPlatform>-<clusterVersion>.yaml", "values-<clusterPlatform>-hub.yaml",
                          "values-<clusterVersion>-hub.yaml", "values-<localClusterName>.yaml",
                          "overrides/values-<clusterPlatform>.yaml", "overrides/values-<clusterVersion>-hub.yaml"])
        #expect(Set(paths).count == paths.count)
        #expect(!e.text.contains("values-.yaml") && !e.text.contains("values--"))
        #expect(e.text.contains("#   values-<clusterPlatform>-<clusterVersion>.yaml  (not read: global.clusterPlatform, global.clusterVersion not set)\n"))
        #expect(e.text.contains("run `pattern facts hub`"), "\(e.text)")
        #expect(e.values[path: ["clusterGroup", "fromEmptyFact"]] == nil)
        let files = e.document["files"]?.array ?? []
        #expect(files.map { $0["missingFacts"] ?? .null } == [nil, nil, ["global.clusterPlatform"], ["global.clusterPlatform", "global.clusterVersion"],
                                                              ["global.clusterPlatform"], ["global.clusterVersion"], ["global.localClusterName"],
                                                              ["global.clusterPlatform"], ["global.clusterVersion"]])
    }

    @Test func explainNamesTheFileAndLineOfEveryLeaf() throws {
        let e = try #require(try ValidatedPatternsLayout().explain(site: "hub", workspace: workspace()))
        func at(_ dotted: String) -> String? { e.leaves.first { $0.dotted == dotted }.map(ExplainedValues.location) }
        #expect(at("clusterGroup.subscriptions.ebs.name") == "overrides/values-AWS.yaml:4:13")
        #expect(at("global.pattern") == "values-global.yaml:3:12")
        #expect(at("global.clusterPlatform") == "overlays/hub/facts.yaml:10:22")
        #expect(at("global.repoURL") == "values-global.yaml:10:14")                 // main.git.repoURL
        #expect(at("global.vpArgoNamespace") == "common/clustergroup/values.yaml:4:20") // chart default
        #expect(at("global.namespace") == "(default)")
        #expect(at("clusterGroup.name") == "values-hub.yaml:2:9")
        #expect(e.values[path: ["clusterGroup", "namespaces", "aws-storage", "operatorGroup"]]?.bool == false)
        #expect(e.text.contains("values-AWS-4.18.yaml  (missing)"))
        // `config-demo:` (null) stays, as Helm keeps user nulls the chart has no key for.
        #expect(at("clusterGroup.namespaces.config-demo")?.hasPrefix("values-hub.yaml:") == true)
        #expect(e.document["sources"]?["global.clusterPlatform"]?.string == "overlays/hub/facts.yaml:10:22")
    }

    @Test func aUserNullDeletesOnlyTheChartsKey() {
        let e = ExplainedValues.merge([ValueLayer(file: "a.yaml", value: ["x": nil, "z": nil]), ValueLayer(file: "b.yaml", value: ["w": 1])],
                                      defaults: ValueLayer(file: "chart/values.yaml", value: ["x": 1, "y": 2]))
        #expect(e.values["x"] == nil)                       // deleted from the chart defaults
        #expect(e.values["z"]?.isNull == true)              // kept: the chart has no z
        #expect(e.leaves.map { "\($0.dotted)=\($0.file)" } == ["z=a.yaml", "w=b.yaml", "y=chart/values.yaml"])
    }

    /// `main.applications: expand` in values-global.yaml expands the clustergroup's
    /// Applications without an overlay file or a flag; an overlay's `applications` still wins.
    @Test func mainApplicationsInValuesGlobalExpandsWithoutAnOverlayOrFlag() throws {
        let root = fixtureCopy()
        let global = String(decoding: try LocalTree(root: root).read(TreePath("values-global.yaml")), as: UTF8.self)
        #expect(try compile("hub", root: root).names("Application") == ["config-demo", "hello-world"])
        writeFile(root + "/values-global.yaml", global.replacing("  clusterGroupName: hub\n", with: "  clusterGroupName: hub\n  applications: expand\n"))
        let site = try compile("hub", root: root)
        #expect(site.names("Application").isEmpty)
        #expect(site.applications == .expand && site.expandedApplications == 2)
        #expect(site.object("ConfigMap", "config-demo")?["data"]?["platform"]?.string == "AWS")
        // The command-line override still wins.
        var c = SiteCompiler(workspace: workspace(root))
        c.expandApplications = false
        #expect(try c.compile(site: "hub").names("Application") == ["config-demo", "hello-world"])

        writeFile(root + "/values-global.yaml", global.replacing("  clusterGroupName: hub\n", with: "  clusterGroupName: hub\n  applications: sometimes\n"))
        let d = diagnostics("hub", root: root)
        #expect(d.first?.message == "main.applications in values-global.yaml must be expand or keep, found \"sometimes\"")
        #expect(d.first?.location?.description.hasPrefix("values-global.yaml:9:") == true, "\(d)")
    }

    @Test func anOverlayFileWinsOverTheImpliedSite() throws {
        let root = fixtureWithHubOverlay("""
              cluster: {context: hub-admin}
              values: {global: {clusterPlatform: Azure}}
            """)
        let site = try compile("hub", root: root)
        #expect(site.cluster.context == "hub-admin")
        #expect(!site.names("Namespace").contains("aws-storage"))                  // values-AWS.yaml no longer applies
        #expect(site.names("Subscription") == ["openshift-external-secrets-operator"])
    }

    @Test func overlayPatchesApplyToTheClustergroupRender() throws {
        let root = fixtureWithHubOverlay("""
              patches:
              - target: {kind: Subscription, name: openshift-external-secrets-operator}
                patch: |-
                  - {op: replace, path: /spec/channel, value: stable-v2}
            """)
        let site = try compile("hub", root: root)
        #expect(site.object("Subscription", "openshift-external-secrets-operator")?[path: ["spec", "channel"]]?.string == "stable-v2")
    }

    @Test func aChartFromAChartRepositoryIsATypedErrorUntilItCanBeFetched() throws {
        let root = fixtureCopy()
        writeFile(root + "/values-global.yaml", """
            global: {pattern: vp-demo}
            main:
              clusterGroupName: hub
              multiSourceConfig: {enabled: true, clusterGroupChartVersion: "0.9.*"}
            """)
        let d = diagnostics("hub", root: root)
        #expect(d.count == 1)
        #expect(d.first?.message.contains("clustergroup 0.9.* from https://charts.validatedpatterns.io/") == true)
        #expect(d.first?.location?.file == "values-global.yaml")
        #expect(d.first?.location?.mark.line == 4)      // main.multiSourceConfig
        #expect(d.first?.fix?.contains("main.multiSourceConfig.enabled: false") == true)

        // A failed fetch points at the same line and adds how to render without the chart server.
        let ws = Workspace(tree: LocalTree(root: root), layout: ValidatedPatternsLayout(chartResolver: UnreachableCharts()))
        var items: [Diagnostic] = []
        do { _ = try SiteCompiler(workspace: ws).compile(site: "hub") } catch let e as Diagnostics { items = e.items }
        let f = try #require(items.first)
        #expect(f.location?.description.hasPrefix("values-global.yaml:4:") == true, "\(items)")
        #expect(f.fix?.hasPrefix("check the URL, network and credentials; add a reachable mirror; or vendor the chart") == true, "\(f.fix ?? "")")
        #expect(f.fix?.contains("main.multiSourceConfig.enabled: false") == true)
    }

    @Test func aMissingHubNameIsAnErrorWithAFix() throws {
        let root = fixtureCopy()
        writeFile(root + "/values-global.yaml", "global: {pattern: vp-demo}\nmain: {git: {revision: main}}\n")
        let d = diagnostics("hub", root: root)
        #expect(d.first?.message.contains("does not name the hub clusterGroup") == true)
        #expect(d.first?.fix?.contains("clusterGroupName") == true)
    }

    /// A root values-global.yaml without `main:` is a value file of our own layout: the repo's
    /// sites render as before and no site is implied.
    @Test func valuesGlobalWithoutMainIsNotAValidatedPatternsCheckout() throws {
        let root = TemporaryDirectories.make("vp-own")
        writeFile(root + "/values-global.yaml", "replicas: 2\n")
        writeFile(root + "/patterns/p/pattern.yaml", """
            apiVersion: pattern.dev/v1alpha1
            kind: Pattern
            metadata: {name: p}
            spec:
              valueFiles: [/values-global.yaml]
              components: [{name: c, path: c}]
            """)
        writeFile(root + "/patterns/p/c/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: default}\ndata: {r: \"${replicas}\"}\n")
        writeFile(root + "/overlays/dev/overlay.yaml", "apiVersion: pattern.dev/v1alpha1\nkind: Site\nmetadata: {name: dev}\nspec: {pattern: {path: patterns/p}}\n")
        #expect(try workspace(root).siteNames() == ["dev"])
        let site = try compile("dev", root: root)
        #expect(site.object("ConfigMap", "cm")?[path: ["data", "r"]]?.string == "2")
        #expect(diagnostics("hub", root: root).first?.message.contains("no overlay named 'hub'") == true)
    }

    @Test func aSiteOutsideTheClusterGroupsIsAnErrorNamingThem() throws {
        let root = fixtureCopy()
        writeFile(root + "/overlays/lab/overlay.yaml", """
            apiVersion: pattern.dev/v1alpha1
            kind: Site
            metadata: {name: lab}
            """)
        let d = diagnostics("lab", root: root)
        #expect(d.first?.message.contains("neither the hub clusterGroup 'hub' nor extends a managed cluster group") == true)
        #expect(d.first?.fix?.contains("hub, factory") == true)
    }

    @Test func aSharedValueFileThatDoesNotRenderIsSkippedWithAWarning() throws {
        let root = fixtureCopy()
        var hub = String(decoding: try LocalTree(root: root).read(try TreePath("values-hub.yaml")), as: UTF8.self)
        hub = hub.replacingFirst("  sharedValueFiles:\n", with: "  sharedValueFiles:\n    - '/overrides/values-{{ $.Values.global.nope.deeper }}.yaml'\n")
        writeFile(root + "/values-hub.yaml", hub)
        // The operator's planning skips it (the chart's own `tpl` then fails the render, as in Argo CD).
        let plan = try #require(try ValidatedPatternsLayout().plan(site: "hub", workspace: workspace(root)))
        #expect(plan.warnings.contains { $0.message.contains("does not render") && $0.location?.file == "values-hub.yaml" })
        #expect(plan.files.map(\.path).suffix(2) == ["overrides/values-AWS.yaml", "overrides/values-4.18-hub.yaml"])
    }

    @Test func theFactsFileRejectsUnknownKeys() throws {
        let root = fixtureCopy()
        writeFile(root + "/overlays/hub/facts.yaml", """
            apiVersion: pattern.dev/v1alpha1
            kind: SiteFacts
            metadata: {name: hub}
            spec:
              global: {clusterPlatfrom: AWS}
            """)
        let d = diagnostics("hub", root: root)
        #expect(d.first?.message == "unknown fact 'global.clusterPlatfrom'")
        #expect(d.first?.location?.file == "overlays/hub/facts.yaml")
        #expect(d.first?.location?.mark.line == 5)
    }

    @Test func factsFileTextRoundTrips() throws {
        let root = fixtureCopy()
        let facts = SiteFacts(global: ["clusterPlatform": "GCP", "clusterVersion": "4.19"], kubeVersion: "v1.32.1")
        writeFile(root + "/overlays/hub/facts.yaml", facts.fileText(site: "hub"))
        let loaded = try #require(try SiteFacts.load(site: "hub", workspace: workspace(root)))
        #expect(loaded.kubeVersion == "v1.32.1")
        #expect(loaded.layer[path: ["global", "clusterPlatform"]]?.string == "GCP")
        #expect(loaded.layer[path: ["global", "clusterVersion"]]?.string == "4.19")
    }
}

/// A fixture copy with `overlays/hub/overlay.yaml` whose spec is `spec` (indented two spaces).
func fixtureWithHubOverlay(_ spec: String) -> String {
    let root = fixtureCopy()
    writeFile(root + "/overlays/hub/overlay.yaml", "apiVersion: pattern.dev/v1alpha1\nkind: Site\nmetadata: {name: hub}\nspec:\n" + spec + "\n")
    return root
}

extension String {
    func replacingFirst(_ s: String, with r: String) -> String {
        guard let range = range(of: s) else { return self }
        return replacingCharacters(in: range, with: r)
    }
}

/// Validated Patterns repositories set no `main.git.repoURL`: `make install` passes the
/// checkout's `origin` (rewritten to https) and branch, and so does `pattern`.
@Suite struct CheckoutGitDefaultsTests {
    /// The fixture without `main.git`, as a git checkout of branch `feature` whose origin is an
    /// scp-like SSH remote.
    static func checkout(expand: Bool) throws -> String {
        let root = fixtureCopy()
        writeFile(root + "/values-global.yaml", """
            global: {pattern: vp-demo}
            main:
              clusterGroupName: hub
            \(expand ? "  applications: expand\n" : "")  multiSourceConfig: {enabled: false}
            """)
        try git(["init", "-q", "-b", "feature"], in: root)
        try git(["remote", "add", "origin", "git@git.example.com:me/vp-demo.git"], in: root)
        return root
    }

    @Test func globalRepoURLAndRevisionComeFromTheCheckoutsOriginAndBranch() throws {
        let root = try Self.checkout(expand: false)
        let app = try #require(try compile("hub", root: root).object("Application", "config-demo"))
        #expect(app[path: ["spec", "source", "repoURL"]]?.string == "https://git.example.com/me/vp-demo.git")
        #expect(app[path: ["spec", "source", "targetRevision"]]?.string == "feature")
        // --explain names where they came from.
        let e = try #require(try ValidatedPatternsLayout().explain(site: "hub", workspace: workspace(root)))
        #expect(e.leaves.first { $0.dotted == "global.repoURL" }.map(ExplainedValues.location) == "(git checkout)")
        #expect(e.leaves.first { $0.dotted == "global.targetRevision" }.map(ExplainedValues.location) == "(git checkout)")
        // main.git.repoURL in values-global.yaml still wins.
        let global = String(decoding: try LocalTree(root: root).read(TreePath("values-global.yaml")), as: UTF8.self)
        writeFile(root + "/values-global.yaml", global + "\n  git: {repoURL: 'https://git.example.com/upstream/vp-demo.git'}\n")
        let pinned = try #require(try compile("hub", root: root).object("Application", "config-demo"))
        #expect(pinned[path: ["spec", "source", "repoURL"]]?.string == "https://git.example.com/upstream/vp-demo.git")
    }

    /// Before: every Application had `repoURL: null` and `--expand-applications` failed with
    /// "spec.source needs repoURL".
    @Test func applicationsOfACheckoutWithoutMainGitExpand() throws {
        let root = try Self.checkout(expand: true)
        let site = try compile("hub", root: root)
        #expect(site.expandedApplications == 2)
        #expect(site.names("Application").isEmpty)
        #expect(site.object("ConfigMap", "config-demo")?["data"]?["platform"]?.string == "AWS")
    }

    @Test func remoteURLsAreRewrittenAsTheMakefileDoes() {
        #expect(VPGitDefaults.httpsURL("git@github.com:me/multicloud-gitops.git") == "https://github.com/me/multicloud-gitops.git")
        #expect(VPGitDefaults.httpsURL("ssh://git@github.com:22/me/mcg.git") == "https://github.com/me/mcg.git")
        #expect(VPGitDefaults.httpsURL("https://github.com/me/mcg") == "https://github.com/me/mcg")
        // A token in the remote never reaches the rendered Applications.
        #expect(VPGitDefaults.httpsURL("https://me:ghp_secret@github.com/me/mcg.git") == "https://github.com/me/mcg.git")
        #expect(VPGitDefaults.httpsURL("/srv/git/mcg.git") == "/srv/git/mcg.git")
        #expect(VPGitDefaults.httpsURL("file:///srv/git/mcg.git") == "file:///srv/git/mcg.git")
    }
}

/// A chart resolver that cannot reach the chart repository (offline, server down).
private struct UnreachableCharts: ClusterGroupChartResolver {
    func chart(_ source: ClusterGroupChartSource, limits: YAMLLimits) throws(Diagnostics) -> Chart {
        throw Diagnostics([.error("cannot fetch chart clustergroup '0.9.*': every URL failed", at: SourceLocation(file: "values-global.yaml"),
                                  fix: "check the URL, network and credentials; add a reachable mirror")])
    }
}

/// `helmOverrides` reach the spoke's clustergroup render as acm-chart passes them: Argo CD Helm
/// parameters, which Helm types as `--set` does.
@Suite struct HelmOverridesTests {
    @Test func aStringOverrideIsTypedAsHelmSetTypesIt() throws {
        let root = fixtureCopy()
        let hub = String(decoding: try LocalTree(root: root).read(TreePath("values-hub.yaml")), as: UTF8.self)
        writeFile(root + "/values-hub.yaml", hub.replacing("          value: false\n", with: """
                      value: "false"
                    - {name: clusterGroup.replicas, value: "3"}
                    - {name: clusterGroup.note, value: "a,b"}

            """))
        // The chart's schema says boolean, as the clustergroup chart's values.schema.json does.
        writeFile(root + "/common/clustergroup/values.schema.json", """
            {"type": "object", "properties": {"clusterGroup": {"type": "object", "properties": {"isHubCluster": {"type": ["boolean", "null"]}}}}}
            """)
        let e = try #require(try ValidatedPatternsLayout().explain(site: "factory-1", workspace: workspace(root)))
        #expect(e.values[path: ["clusterGroup", "isHubCluster"]] == .bool(false))
        #expect(e.values[path: ["clusterGroup", "replicas"]] == .int(3))
        #expect(e.values[path: ["clusterGroup", "note"]] == .string("a,b"))     // Argo CD escapes the comma
        // Before: values-hub.yaml:…: error: … clusterGroup.isHubCluster: Invalid type. Expected: boolean, null, given: string
        #expect(try compile("factory-1", root: root).names("Namespace") == ["hello-world"])
    }
}

/// The operator passes `global.multiSourceSupport`, `multiSourceRepoUrl` and
/// `multiSourceTargetRevision` to the clustergroup chart; its multi-source Applications (`chart:`
/// with `chartVersion`) take their `repoURL` from `multiSourceRepoUrl`.
@Suite struct MultiSourceParametersTests {
    @Test func theOperatorsMultiSourceParametersReachTheChart() throws {
        let plain = try #require(try ValidatedPatternsLayout().explain(site: "hub", workspace: workspace()))
        #expect(plain.values[path: ["global", "multiSourceSupport"]] == .bool(false))           // enabled: false in the fixture
        #expect(plain.values[path: ["global", "multiSourceRepoUrl"]]?.string == "https://charts.validatedpatterns.io/")
        #expect(plain.values[path: ["global", "multiSourceTargetRevision"]]?.string == "0.9.*")
        #expect(plain.leaves.first { $0.dotted == "global.multiSourceRepoUrl" }?.file == "(operator parameters)")

        let root = fixtureCopy()
        let global = String(decoding: try LocalTree(root: root).read(TreePath("values-global.yaml")), as: UTF8.self)
        writeFile(root + "/values-global.yaml", global.replacing("  multiSourceConfig:\n    enabled: false\n", with: """
              multiSourceConfig:
                enabled: true
                helmRepoUrl: https://charts.example.com/vp/
                clusterGroupChartVersion: "0.9.7"

            """))
        // The vendored chart still renders (no resolver); an Application with chartVersion
        // takes its chart from the configured repository.
        writeFile(root + "/common/clustergroup/templates/multisource.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: multisource}
            data:
              repoURL: {{ $.Values.global.multiSourceRepoUrl | quote }}
              support: {{ $.Values.global.multiSourceSupport | quote }}
              revision: {{ $.Values.global.multiSourceTargetRevision | quote }}
            """)
        let layout = ValidatedPatternsLayout(multiSourceConfig: MultiSourceConfig(enabled: false, helmRepoUrl: "https://charts.example.com/vp/",
                                                                                  clusterGroupChartVersion: "0.9.7"))
        let ws = Workspace(tree: LocalTree(root: root), layout: layout)
        let cm = try #require(try SiteCompiler(workspace: ws).compile(site: "hub").object("ConfigMap", "multisource"))
        #expect(cm["data"]?["repoURL"]?.string == "https://charts.example.com/vp/")
        #expect(cm["data"]?["support"]?.string == "false")
        #expect(cm["data"]?["revision"]?.string == "0.9.7")
        let fromValuesGlobal = try #require(try ValidatedPatternsLayout().explain(site: "hub", workspace: workspace(root)))
        #expect(fromValuesGlobal.values[path: ["global", "multiSourceRepoUrl"]]?.string == "https://charts.example.com/vp/")
        #expect(fromValuesGlobal.values[path: ["global", "multiSourceSupport"]] == .bool(true))
    }
}
