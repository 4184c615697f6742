import Testing
import TestSupport
import PatternCore
@testable import PatternCompile

/// A repository with group `edge` (sites edge-0…edge-<n-1>, region eu for even, us for odd),
/// a `hub` site, and the rollout file `rollouts/r.yaml`.
func fleetRepo(edgeSites n: Int, rollout: String) -> Workspace {
    var files: [String: String] = [
        "patterns/p/pattern.yaml": """
            apiVersion: pattern.dev/v1alpha1
            kind: Pattern
            metadata: {name: p}
            spec:
              components:
              - {name: c, path: components/c}
            """,
        "patterns/p/components/c/m.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m, namespace: default}\n",
        "overlays/edge/overlay.yaml": "apiVersion: pattern.dev/v1alpha1\nkind: Group\nmetadata: {name: edge}\nspec:\n  pattern: {path: patterns/p}\n",
        "overlays/hub/overlay.yaml": "apiVersion: pattern.dev/v1alpha1\nkind: Site\nmetadata: {name: hub}\nspec:\n  pattern: {path: patterns/p}\n  cluster: {context: hub}\n",
        "rollouts/r.yaml": rollout,
    ]
    for i in 0..<n {
        files["overlays/edge-\(i)/overlay.yaml"] = """
            apiVersion: pattern.dev/v1alpha1
            kind: Site
            metadata: {name: edge-\(i)}
            spec:
              extends: [edge]
              cluster: {labels: {region: \(i % 2 == 0 ? "eu" : "us")}}
            """
    }
    return Workspace(tree: LocalTree(root: temporaryRepo(files)))
}

func rolloutErrors(_ rollout: String, sites: Int = 4) -> [Diagnostic] {
    do { _ = try RolloutFile.load("r", workspace: fleetRepo(edgeSites: sites, rollout: rollout)); return [] } catch { return error.items }
}

@Suite struct RolloutFileTests {
    @Test func wavesResolveBySitesSelectorAndCumulativePercentages() throws {
        let ws = fleetRepo(edgeSites: 20, rollout: """
            apiVersion: pattern.dev/v1alpha1
            kind: Rollout
            metadata: {name: r}
            spec:
              hub: hub
              group: edge
              retry: {attempts: 5, interval: 1m}
              defaults: {maxParallel: 2, soak: 10m, failureBudget: 1, health: {timeout: 5m}}
              waves:
              - {name: canary, sites: [edge-3]}
              - {name: ten, percent: 10%}
              - name: eu
                selector: region in (eu)
                failureBudget: 20%
                health:
                  timeout: 90s
                  checks:
                  - job: {namespace: web, name: smoke}
                  - condition: {apiVersion: apps/v1, kind: Deployment, namespace: web, name: web, type: Available}
              - {name: rest, percent: 100%, maxParallel: 10, soak: 0}
            """)
        let plan = try RolloutFile.load("r", workspace: ws)
        #expect(plan.hubSite == "hub")
        #expect(plan.retry == RolloutPlan.Retry(attempts: 5, intervalSeconds: 60))
        #expect(plan.waves.map(\.name) == ["canary", "ten", "eu", "rest"])
        #expect(plan.waves[0].sites == ["edge-3"])
        #expect(plan.waves[0].maxParallel == 2 && plan.waves[0].soakSeconds == 600 && plan.waves[0].failureBudget == .count(1))
        // 10% of 20 edge sites = 2, never the canary again.
        #expect(plan.waves[1].sites.count == 2 - (RolloutFile.percentSelection((0..<20).map { "edge-\($0)" }, percent: 10).contains("edge-3") ? 1 : 0))
        #expect(!plan.waves[1].sites.contains("edge-3"))
        // The selector wave takes the eu sites not placed earlier; the hub is not in the group.
        let placedEarlier = Set(plan.waves[0].sites + plan.waves[1].sites)
        let eu = (0..<20).filter { $0 % 2 == 0 }.map { "edge-\($0)" }.filter { !placedEarlier.contains($0) }
        #expect(Set(plan.waves[2].sites) == Set(eu))
        #expect(plan.waves[2].failureBudget == .percent(20) && plan.waves[2].health.timeoutSeconds == 90)
        #expect(plan.waves[2].health.checks == [.job(namespace: "web", name: "smoke"),
                                                .condition(apiVersion: "apps/v1", kind: "Deployment", namespace: "web", name: "web", type: "Available", status: "True")])
        // Every edge site exactly once; the hub never.
        let all = plan.waves.flatMap(\.sites)
        #expect(all.count == 20 && Set(all).count == 20 && !all.contains("hub"))
        #expect(plan.waves[3].maxParallel == 10 && plan.waves[3].soakSeconds == 0)
    }

    @Test func percentSelectionIsDeterministicAndStableAsSitesAreAdded() {
        let sites = (0..<200).map { "site-\($0)" }
        let ten = RolloutFile.percentSelection(sites, percent: 10)
        #expect(ten.count == 20)
        #expect(RolloutFile.percentSelection(sites.reversed(), percent: 10) == ten)
        // Adding sites one by one never drops more than one earlier choice, and a larger
        // percentage always contains the smaller one.
        var previous = ten
        for extra in 200..<230 {
            let now = RolloutFile.percentSelection((0...extra).map { "site-\($0)" }, percent: 10)
            #expect(Set(previous).subtracting(now).count <= 1)
            previous = now
        }
        #expect(Set(ten).isSubset(of: RolloutFile.percentSelection(sites, percent: 50)))
        #expect(RolloutFile.percentSelection(["a"], percent: 1) == ["a"])
    }

    @Test func mistakesAreErrorsAtTheirLineAndColumn() {
        let errors = rolloutErrors("""
            apiVersion: pattern.dev/v1alpha1
            kind: Rollout
            metadata: {name: r}
            spec:
              requireAl: true
              group: egde
              waves:
              - {name: canary, sites: [edge-9]}
              - {name: both, sites: [edge-1], percent: 10%}
              - {name: big, percent: 150%}
              - {name: slow, sites: [edge-2], soak: 10 minutes}
              - {name: budget, sites: [edge-0], failureBudget: lots}
              - {name: again, sites: [edge-1]}
            """)
        func at(_ line: Int, _ text: String) -> Diagnostic? {
            errors.first { $0.location.map { Int($0.mark.line) } == line && $0.message.contains(text) }
        }
        #expect(at(5, "unknown field 'requireAl'")?.fix == "did you mean 'requireAll'?")
        #expect(at(9, "exactly one of 'sites', 'selector' or 'percent'") != nil)
        #expect(at(10, "'percent' must be a percentage") != nil)
        #expect(at(11, "'soak' in wave 'slow' must be a duration") != nil)
        #expect(at(12, "'failureBudget' in wave 'budget'") != nil)
        #expect(errors.allSatisfy { $0.location?.file == "rollouts/r.yaml" })
        #expect(errors.allSatisfy { ($0.location?.mark.column ?? 0) > 0 })
    }

    /// Sites and groups are checked once the file itself is well formed.
    @Test func unknownSitesGroupsAndRepeatedSitesAreErrorsAtTheirLine() {
        let errors = rolloutErrors("""
            apiVersion: pattern.dev/v1alpha1
            kind: Rollout
            metadata: {name: r}
            spec:
              group: egde
              waves:
              - {name: canary, sites: [edge-9]}
              - {name: both, sites: [edge-1]}
              - {name: again, sites: [edge-1]}
            """)
        func at(_ line: Int, _ text: String) -> Diagnostic? {
            errors.first { $0.location.map { Int($0.mark.line) } == line && $0.message.contains(text) }
        }
        #expect(at(5, "no site extends a group named 'egde'")?.fix == "did you mean 'edge'?")
        #expect(at(7, "'edge-9' is not a site") != nil)
        #expect(at(9, "site 'edge-1' is already in wave 'both'") != nil)
        #expect(errors.allSatisfy { $0.location?.file == "rollouts/r.yaml" })
    }

    @Test func structureMistakes() {
        let noWaves = rolloutErrors("apiVersion: pattern.dev/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec: {}\n")
        #expect(noWaves.contains { $0.message == "spec needs 'waves'" })
        let wrongName = rolloutErrors("apiVersion: pattern.dev/v1alpha1\nkind: Rollout\nmetadata: {name: other}\nspec:\n  waves: [{name: w, sites: [edge-0]}]\n")
        #expect(wrongName.contains { $0.message.contains("differs from its file name") && $0.location?.mark.line == 3 })
        let badSelector = rolloutErrors("apiVersion: pattern.dev/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec:\n  waves:\n  - {name: w, selector: 'region in (eu'}\n")
        #expect(badSelector.contains { $0.message.contains("selector") && $0.location?.mark.line == 6 })
        let badCheck = rolloutErrors("apiVersion: pattern.dev/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec:\n  waves:\n  - name: w\n    sites: [edge-0]\n    health: {checks: [{job: {name: smoke}}]}\n")
        #expect(badCheck.contains { $0.message.contains("a job check needs 'namespace' and 'name'") && $0.location?.mark.line == 8 })
        #expect(rolloutErrors("apiVersion: pattern.dev/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec:\n  waves: [{name: w, sites: [edge-0]}]\n").isEmpty)
    }

    @Test func unknownRolloutSuggestsKnownOnes() {
        let ws = fleetRepo(edgeSites: 1, rollout: "apiVersion: pattern.dev/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec:\n  waves: [{name: w, sites: [edge-0]}]\n")
        do { _ = try RolloutFile.load("rr", workspace: ws); Issue.record("loaded a missing rollout") } catch {
            #expect(error.items.first?.fix == "did you mean 'r'?")
        }
        #expect(RolloutFile.names(in: ws) == ["r"])
    }

    @Test func selectorsFollowKubernetesSyntax() throws {
        let labels = ["region": "eu", "tier": "edge"]
        func m(_ s: String) throws -> Bool { try SiteSelector(parsing: s).matches(labels) }
        #expect(try m("region=eu,tier==edge"))
        #expect(try !m("region!=eu"))
        #expect(try m("region in (eu, us),tier notin (hub)"))
        #expect(try m("tier") && !(try m("!tier")) && (try m("!zone")))
        #expect(throws: Diagnostic.self) { try SiteSelector(parsing: "region in eu") }
        #expect(throws: Diagnostic.self) { try SiteSelector(parsing: "a,,b") }
    }

    @Test func durations() {
        #expect(RolloutFile.parseDuration("1h30m") == 5400)
        #expect(RolloutFile.parseDuration("45s") == 45)
        #expect(RolloutFile.parseDuration("10") == nil)
        #expect(RolloutFile.parseDuration("1.5h") == nil)
        #expect(RolloutFile.parseDuration("999d") == nil)
    }
}
