import Testing
import TestSupport
import PatternCore
import PatternCompile
#if canImport(Glibc)
import Glibc
#endif

/// The post-render step in the site compiler: `applications: expand | keep`, the override,
/// the overlay fields and ApplicationSet clusters from the pattern's sites.
@Suite struct SiteExpansionTests {
    let fixture = RepositoryPaths.fixtures + "/argocd/app-of-apps"

    func compile(_ root: String, site: String = "hub", expand: Bool? = nil) throws(Diagnostics) -> RenderedSite {
        var c = SiteCompiler(workspace: Workspace(tree: LocalTree(root: root)))
        c.expandApplications = expand
        return try c.compile(site: site)
    }

    @Test func expandsTheAppOfAppsFixture() throws {
        let site = try compile(fixture)
        let names = site.objects.map { "\($0.object.kindName!)/\($0.object.metadataNamespace ?? "")/\($0.object.metadataName!)" }
        #expect(names == ["Namespace//web", "ConfigMap/web/hub-platform", "ConfigMap/web/shop-settings", "Deployment/web/shop", "Job/web/shop-migrate"])
        let settings = try #require(site.objects.first { $0.object.metadataName == "shop-settings" })
        #expect(settings.object["data"]?["greeting"] == "hello from the hub")          // values-hub.yaml
        #expect(settings.component == "root")                                          // the Application's component
        #expect(settings.file == "charts/web/templates/app.yaml")
        #expect(settings.object.labels["pattern.dev/component"] == "root")
        let deploy = try #require(site.objects.first { $0.object.kindName == "Deployment" })
        #expect(deploy.object[path: ["spec", "template", "spec", "containers"]]?.array?.first?["image"] == "nginx:1.27")  // parameters
        #expect(site.objects.first { $0.object.metadataName == "hub-platform" }?.object.labels["team"] == "platform")
        #expect(site.expandedApplications == 3 && site.applications == .expand)
        #expect(site.ignoreDifferences.map { $0.kind ?? "*" } == ["ConfigMap", "Deployment"])
    }

    @Test func keepLeavesApplicationsAsObjects() throws {
        let site = try compile(fixture, expand: false)
        #expect(site.objects.map { $0.object.kindName } == ["Application"])
        #expect(site.applications == .keep && site.expandedApplications == 0)
        #expect(site.ignoreDifferences.count == 1)  // the overlay's own rule still applies
    }

    /// The fixture with its hub overlay's spec replaced by `pattern` plus `extra` (one line).
    func fixtureWithHub(_ extra: String) -> TemporaryDirectory {
        let root = TemporaryDirectory("argocd-site")
        copy(fixture, to: root.path)
        write(root.path + "/overlays/hub/overlay.yaml", """
            apiVersion: pattern.dev/v1alpha1
            kind: Site
            metadata: {name: hub}
            spec:
              pattern: {path: patterns/apps}
              \(extra)
            """)
        return root
    }

    @Test func defaultIsKeepAndTheFlagExpands() throws {
        let root = fixtureWithHub(#"values: {global: {repoURL: "https://git.example.com/platform/apps.git"}}"#)
        defer { root.remove() }
        #expect(try compile(root.path).objects.map { $0.object.kindName } == ["Application"])
        #expect(try compile(root.path, expand: true).objects.count == 5)
    }

    @Test(arguments: [
        ("applications: sometimes", "'applications' in spec must be expand or keep", 6),
        ("ignoreDifferences: [{kind: ConfigMap, jsonPointers: [data]}]", "must start with '/'", 6),
        ("ignoreDifferences: {kind: ConfigMap}", "must be a list", 6),
    ])
    func overlayFieldsAreTypeChecked(_ field: String, _ message: String, _ line: Int) {
        let root = fixtureWithHub(field)
        defer { root.remove() }
        do {
            _ = try compile(root.path)
            Issue.record("no error")
        } catch {
            let hit = error.items.first { $0.message.contains(message) }
            #expect(hit?.location?.file == "overlays/hub/overlay.yaml" && hit?.location?.mark.line == UInt32(line), "\(error.items)")
        }
    }

    @Test func applicationSetClustersAreTheSites() throws {
        let root = TemporaryDirectory("argocd-site")
        defer { root.remove() }
        write(root.path + "/patterns/p/pattern.yaml", "apiVersion: pattern.dev/v1alpha1\nkind: Pattern\nmetadata: {name: p}\nspec:\n  components: [{name: sets, path: sets}]\n")
        write(root.path + "/patterns/p/sets/set.yaml", """
            apiVersion: argoproj.io/v1alpha1
            kind: ApplicationSet
            metadata: {name: per-site, namespace: argocd}
            spec:
              generators: [{clusters: {selector: {matchLabels: {tier: edge}}}}]
              template:
                metadata: {name: 'agent-{{name}}'}
                spec:
                  source: {repoURL: https://git.example.com/p.git, path: agent}
                  destination: {namespace: 'agent-{{metadata.labels.region}}'}
            """)
        write(root.path + "/agent/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: agent}\n")
        for (name, region) in [("edge-eu", "eu"), ("edge-us", "us")] {
            write(root.path + "/overlays/\(name)/overlay.yaml", """
                apiVersion: pattern.dev/v1alpha1
                kind: Site
                metadata: {name: \(name)}
                spec:
                  pattern: {path: patterns/p}
                  applications: expand
                  cluster: {labels: {tier: edge, region: \(region)}}
                  values: {global: {repoURL: https://git.example.com/p}}
                """)
        }
        let site = try compile(root.path, site: "edge-eu")
        #expect(Set(site.objects.map { $0.object.metadataNamespace ?? "" }) == ["agent-eu", "agent-us"])
    }
}

func copy(_ from: String, to: String) {
    let tree = LocalTree(root: from)
    func walk(_ p: TreePath) {
        for e in (try? tree.list(p)) ?? [] {
            let c = p.appending(e.name)
            if e.kind == .directory { walk(c) } else if e.kind == .file {
                write(to + "/" + c.string, String(decoding: (try? tree.read(c)) ?? [], as: UTF8.self))
            }
        }
    }
    walk(.root)
}

func write(_ path: String, _ text: String) {
    var cur = ""
    for c in path.split(separator: "/").dropLast() { cur += "/" + c; mkdir(cur, 0o755) }
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
    close(fd)
}
