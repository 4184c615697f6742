
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
