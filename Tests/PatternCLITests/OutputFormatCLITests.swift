import Foundation
import Testing
import TestSupport
import PatternCore
import KubeTestServer
#if canImport(Glibc)
import Glibc
#endif

/// `-o text|json|yaml` on the commands around the engine (values, facts, controller), the build
/// commit `pattern version` reports, and the PatternSync CRD as `pattern apply controller`
/// installs it.
@Suite struct OutputFormatCLITests {
    static let vpFixture = RepositoryPaths.fixtures + "/validated-patterns/vp-demo"

    @Test func valuesPrintsAValuesDocumentWithApiVersionAndKind() async throws {
        for format in ["json", "yaml"] {
            let r = await CLI.runInProcess(["values", "hub", "-o", format, "-C", Self.vpFixture])
            #expect(r.status == 0, "\(r.stderr)")
            let doc = try format == "json" ? JSONParser.parse(r.stdout) : YAMLParser.parse(r.stdout)
            #expect(doc["apiVersion"]?.string == "pattern.dev/v1alpha1" && doc["kind"]?.string == "Values", "\(r.stdout.prefix(200))")
            #expect(doc["site"]?.string == "hub")
            #expect(doc[path: ["values", "global", "pattern"]]?.string == "vp-demo")
            #expect(doc["sources"] == nil)   // only with --explain
        }
        let explained = try JSONParser.parse(await CLI.runInProcess(["values", "hub", "--explain", "-o", "json", "-C", Self.vpFixture]).stdout)
        #expect(explained["kind"]?.string == "Values" && explained["sources"]?.object?.isEmpty == false && explained["files"]?.array?.isEmpty == false)
        // text stays the merged values as YAML (no document header), or the annotated list.
        let text = await CLI.runInProcess(["values", "hub", "-C", Self.vpFixture])
        #expect(text.status == 0 && !text.stdout.contains("kind: Values") && text.stdout.contains("pattern: vp-demo"))
    }

    @Test func factsPrintsASiteFactsDocument() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let dir = TemporaryDirectories.make("facts-o")
        defer { TemporaryDirectories.remove(dir) }
        let kubeconfig = dir + "/kubeconfig"
        try server.kubeconfig().write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        _ = chmod(kubeconfig, 0o600)
        mkdir(dir + "/repo", 0o755)
        try "global: {pattern: p}\nmain: {clusterGroupName: hub}\n".write(toFile: dir + "/repo/values-global.yaml", atomically: true, encoding: .utf8)
        let cluster = ["-C", dir + "/repo", "--kubeconfig", kubeconfig, "--context", "test"]

        let printed = CLI.run(["facts", "hub", "--print", "-o", "json"] + cluster)
        #expect(printed.status == 0, "\(printed.stderr)")
        let doc = try JSONParser.parse(printed.stdout)
        #expect(doc["apiVersion"]?.string == "pattern.dev/v1alpha1" && doc["kind"]?.string == "SiteFacts")
        #expect(doc[path: ["metadata", "name"]]?.string == "hub")
        #expect(doc[path: ["spec", "kubeVersion"]]?.string?.hasPrefix("v1.") == true)
        #expect(access(dir + "/repo/overlays/hub/facts.yaml", F_OK) != 0)   // --print writes nothing

        // Without --print the file is written and the document printed; the file holds the same facts.
        let written = CLI.run(["facts", "hub", "-o", "yaml"] + cluster)
        #expect(written.status == 0, "\(written.stderr)")
        let y = try YAMLParser.parse(written.stdout)
        let file = try YAMLParser.parse(String(contentsOfFile: dir + "/repo/overlays/hub/facts.yaml", encoding: .utf8))
        #expect(y == file)
    }

    @Test func theControllerTakesOutputAsItsLogFormatAndRefusesYAML() async {
        let yaml = await CLI.runInProcess(["controller", "-o", "yaml", "--kubeconfig", "/nonexistent"])
        #expect(yaml.status == 1)
        #expect(yaml.stderr.contains("no YAML form") && yaml.stderr.contains("fix: use -o json"), "\(yaml.stderr)")
        let both = await CLI.runInProcess(["controller", "-o", "json", "--log-format", "text", "--kubeconfig", "/nonexistent"])
        #expect(both.status == 1 && both.stderr.contains("disagree"), "\(both.stderr)")
        // -o json passes the format check and fails only at the (missing) kubeconfig (a process:
        // the controller bootstraps the process-wide logging system).
        let json = CLI.run(["controller", "-o", "json", "--kubeconfig", "/nonexistent"])
        #expect(json.status == 1 && json.stderr.contains("cannot configure the cluster connection"), "\(json.stderr)")
    }

    /// The commit comes from GitInfoPlugin at build time: it must be the commit of the checkout
    /// the binary was built from (`swift test` rebuilds when HEAD moved), `PATTERN_GIT_COMMIT`
    /// when that is set, and "unknown" outside git.
    @Test func versionReportsTheCommitOfTheCheckoutItWasBuiltFrom() throws {
        let doc = try JSONParser.parse(CLI.run(["version", "-o", "json"]).stdout)
        #expect(doc["apiVersion"]?.string == "pattern.dev/v1alpha1" && doc["kind"]?.string == "Version")
        let commit = try #require(doc["commit"]?.string)
        let head = CLI.runShell("git -C '\(RepositoryPaths.root)' rev-parse HEAD")
        if let override = getenv("PATTERN_GIT_COMMIT").map({ String(cString: $0) }), !override.isEmpty {
            #expect(commit == override)
        } else if head.status == 0 {
            let expected = head.stdout.split(separator: "\n").first.map(String.init) ?? ""
            #expect(expected.count == 40)
            #expect(commit == expected, "the binary says \(commit), the checkout is at \(expected)")
            #expect(doc["dirty"]?.bool != nil)
            let text = CLI.run(["version"]).stdout
            #expect(text.contains("commit:   \(expected.prefix(12))"), "\(text)")
            #expect(CLI.run(["--version"]).stdout.contains("(commit \(expected.prefix(12))"))
        } else {
            #expect(commit == "unknown")
            #expect(doc["dirty"]?.isNull == true)
        }
    }

    /// The CRD `pattern apply controller` installs (the controller site's render, not only the
    /// file): the issue's printer columns, and the Validated Patterns multiSourceConfig schema
    /// the controller writes for a Pattern.
    @Test func theInstalledPatternSyncCRDHasTheColumnsAndTheMultiSourceSchema() async throws {
        let r = await CLI.runInProcess(["render", "controller", "-o", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let list = try JSONParser.parse(r.stdout)
        let crd = try #require(list["items"]?.array?.first { $0.kindName == "CustomResourceDefinition" && $0.metadataName == "patternsyncs.pattern.dev" })
        let version = try #require(crd[path: ["spec", "versions"]]?.array?.first)
        let columns = (version["additionalPrinterColumns"]?.array ?? []).filter { ($0["priority"]?.int ?? 0) == 0 }
        #expect(columns.compactMap { $0["name"]?.string } == ["Ready", "Status", "Suspended", "Revision", "Age"])
        #expect(columns.map { $0["jsonPath"]?.string ?? "" } == [#".status.conditions[?(@.type=="Ready")].status"#,
                                                                #".status.conditions[?(@.type=="Ready")].message"#,
                                                                ".spec.suspend", ".status.lastAppliedRevision", ".metadata.creationTimestamp"])
        // kubectl get -o wide adds these (Docs/operating.md lists them).
        let wide = (version["additionalPrinterColumns"]?.array ?? []).filter { ($0["priority"]?.int ?? 0) == 1 }
        #expect(wide.compactMap { $0["name"]?.string } == ["Site", "Cluster", "Drifted", "Commit"])
        let ms = version[path: ["schema", "openAPIV3Schema", "properties", "spec", "properties", "validatedPatterns", "properties", "multiSourceConfig", "properties"]]
        #expect(Set(ms?.object?.keys.map { $0 } ?? []) == ["enabled", "helmRepoUrl", "clusterGroupChartVersion", "clusterGroupGitRepoUrl", "clusterGroupChartGitRevision"])
    }
}
