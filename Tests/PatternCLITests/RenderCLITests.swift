import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif
import PatternCore

/// Most run the command in-process (`CLI.runInProcess`); a few go through the real binary.
@Suite struct RenderCLITests {
    @Test func usageErrorsExitWithTwo() {
        let r = CLI.run(["render"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("give a site"))
        #expect(CLI.run(["render", "hub", "--bogus"]).status == 2)
    }

    @Test func unknownSiteIsAValidationErrorWithAHint() async {
        let r = await CLI.runInProcess(["render", "edge-e"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("no overlay named 'edge-e'"))
        #expect(r.stderr.contains("did you mean 'edge-eu'"))
        #expect(r.stdout.isEmpty)
    }

    @Test func helpTeaches() async {
        let r = await CLI.runInProcess(["render", "--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("apply order"))
        #expect(r.stdout.contains("Examples"))
    }
}

@Suite struct RenderOutputCLITests {
    func tempDir() -> String { TemporaryDirectories.make("pattern-out") }

    @Test func outDirWritesOneStableFilePerObjectAndRemovesStaleOnes() async throws {
        let out = tempDir()
        let r = await CLI.runInProcess(["render", "--all", "--out-dir", out])
        #expect(r.status == 0, "\(r.stderr)")
        let tree = LocalTree(root: out)
        #expect(Set(try tree.list(.root).map(\.name)) == ["controller", "dev", "edge-eu", "edge-us", "hub"])
        let file = try String(decoding: tree.read(TreePath("hub/hello-world/deployment.apps-hello-world.yaml")), as: UTF8.self)
        let obj = try YAMLParser.parse(file)
        #expect(obj.kindName == "Deployment" && obj.metadataName == "hello-world")
        #expect(tree.entryKind(try TreePath("hub/_cluster/customresourcedefinition.apiextensions.k8s.io-collectors.telemetry.pattern.dev.yaml")) == .file)
        // A stale file from an earlier render is removed; a second render is byte-identical.
        let stale = out + "/hub/hello-world/configmap-gone.yaml"
        let fd = open(stale, O_WRONLY | O_CREAT, 0o644); close(fd)
        let second = await CLI.runInProcess(["render", "hub", "--out-dir", out])
        #expect(second.status == 0)
        #expect(tree.entryKind(try TreePath("hub/hello-world/configmap-gone.yaml")) == nil)
        let again = try String(decoding: tree.read(TreePath("hub/hello-world/deployment.apps-hello-world.yaml")), as: UTF8.self)
        #expect(again == file)
    }

    @Test func jsonOutputIsAListInApplyOrder() async throws {
        let r = await CLI.runInProcess(["render", "edge-us", "-o", "json"])
        #expect(r.status == 0)
        let list = try JSONParser.parse(r.stdout)
        #expect(list["kind"] == "List")
        let kinds = list["items"]?.array?.compactMap(\.kindName) ?? []
        #expect(kinds.first == "Namespace" || kinds.first == "CustomResourceDefinition")
        #expect(kinds.contains("Collector"))
        let yaml = await CLI.runInProcess(["render", "edge-us"])
        let docs = try YAMLParser.parseStream(yaml.stdout).map(\.value)
        #expect(docs == (list["items"]?.array ?? []))
    }

    @Test func kustomizeDirectoryRenderIsWhatKubectlKustomizePrints() async throws {
        let r = await CLI.runInProcess(["render", "patterns/multicloud-platform/components/config-demo"])
        #expect(r.status == 0, "\(r.stderr)")
        let expected = try String(decoding: LocalTree(root: CLI.repoRoot + "/Tests/Fixtures").read(TreePath("render/config-demo.kustomize.yaml")), as: UTF8.self)
        #expect(r.stdout == expected)
    }
}

@Suite struct DiffExitCodeTests {
    @Test func errorsExitWithTwoAndSayWhy() {
        // kubectl diff semantics: 1 means "changes", so errors must be > 1, and explained.
        let r = CLI.run(["diff", "no-such-site", "--kubeconfig", "/nonexistent"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("no overlay named 'no-such-site'"))
        let d = CLI.run(["drift", "hub", "--kubeconfig", "/nonexistent/kubeconfig"])
        #expect(d.status == 2)
        #expect(!d.stderr.isEmpty)
    }
}
