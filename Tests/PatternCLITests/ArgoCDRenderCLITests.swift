import Testing
import TestSupport
import PatternCore

/// `pattern render <site> --[no-]expand-applications` over the app-of-apps fixture (whose
/// site says `applications: expand`).
@Suite struct ArgoCDRenderCLITests {
    let repo = RepositoryPaths.fixtures + "/argocd/app-of-apps"

    func kinds(_ r: CLI.Result) throws -> [String] {
        let list = try JSONParser.parse(r.stdout)
        return (list["items"]?.array ?? []).compactMap { $0.kindName }
    }

    @Test func flagOverridesTheSiteEitherWay() async throws {
        let expanded = await CLI.runInProcess(["render", "hub", "--repo", repo, "-o", "json"])
        #expect(expanded.status == 0, "\(expanded.stderr)")
        #expect(try kinds(expanded) == ["Namespace", "ConfigMap", "ConfigMap", "Deployment", "Job"])
        let kept = await CLI.runInProcess(["render", "hub", "--repo", repo, "-o", "json", "--no-expand-applications"])
        #expect(kept.status == 0, "\(kept.stderr)")
        #expect(try kinds(kept) == ["Application"])
        let forced = await CLI.runInProcess(["render", "hub", "--repo", repo, "-o", "json", "--expand-applications"])
        #expect(try kinds(forced) == kinds(expanded))
    }

    @Test func helpTeachesTheFlag() async {
        let r = await CLI.runInProcess(["render", "--help"])
        #expect(r.stdout.contains("--expand-applications") && r.stdout.contains("--no-expand-applications"))
        #expect(r.stdout.contains("Argo CD"))
    }
}
