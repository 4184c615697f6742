import Foundation
import Testing
import TestSupport
import PatternCLI
import PatternCore
import KubeTestServer

/// A pattern repository with a fleet: group `edge` (tier=edge) and sites edge-eu, edge-us,
/// edge-ap (each on the cluster of its own context) and hub (tier=hub); edge-ap's context
/// refuses connections. Every site renders namespace `fleet-<site>` and `objects` ConfigMaps
/// `<site>-config-<i>` in it.
struct FleetRepo {
    let dir: TemporaryDirectory
    var root: String { dir.path }

    init(objects: Int = 3, sites: [(name: String, context: String, labels: String)]? = nil) throws {
        dir = TemporaryDirectory("fleet-repo")
        let fm = FileManager.default
        func write(_ path: String, _ text: String) throws {
            let full = dir.path + "/" + path
            try fm.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }
        try write("patterns/fleet-demo/pattern.yaml", """
            apiVersion: pattern.dev/v1alpha1
            kind: Pattern
            metadata:
              name: fleet-demo
            spec:
              version: 1.0.0
              components:
              - name: app
                path: components/app

            """)
        var objs = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: fleet-${site.name}\n"
        for i in 0..<objects {
            objs += "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${site.name}-config-\(i)\n  namespace: fleet-${site.name}\ndata:\n  site: ${site.name}\n"
        }
        try write("patterns/fleet-demo/components/app/objects.yaml", objs)
        try write("overlays/edge/overlay.yaml", """
            apiVersion: pattern.dev/v1alpha1
            kind: Group
            metadata:
              name: edge
            spec:
              pattern:
                path: patterns/fleet-demo
              cluster:
                labels:
                  tier: edge

            """)
        let all = sites ?? [("edge-eu", "edge-eu", "region: eu"), ("edge-us", "edge-us", "region: us"),
                            ("edge-ap", "edge-ap", "region: ap"), ("hub", "hub", "tier: hub")]
        for s in all {
            let extends = s.name == "hub" ? "  pattern:\n    path: patterns/fleet-demo\n" : "  extends: [edge]\n"
            try write("overlays/\(s.name)/overlay.yaml", """
                apiVersion: pattern.dev/v1alpha1
                kind: Site
                metadata:
                  name: \(s.name)
                spec:
                \(extends)  cluster:
                    context: \(s.context)
                    labels:
                      \(s.labels)

                """)
        }
    }
}

@Suite(.serialized) struct FleetCLITests {
    func run(_ args: [String], repo: FleetRepo, clusters: TestClusters) async -> CLI.Result {
        await CLI.runInProcess(args + ["-C", repo.root, "--kubeconfig", clusters.kubeconfigPath])
    }

    /// Site × outcome from a FleetReport.
    func outcomes(_ json: String) throws -> [String: String] {
        let doc = try JSONParser.parse(json)
        var out: [String: String] = [:]
        for s in doc["sites"]?.array ?? [] { out[s["site"]?.string ?? ""] = s["outcome"]?.string }
        return out
    }

    @Test func diffApplyMatrixWithAChangedAnInSyncAndAnUnreachableSite() async throws {
        let repo = try FleetRepo()
        let clusters = try TestClusters(["edge-eu", "edge-us", "hub"], refused: ["edge-ap"])
        defer { clusters.stop() }
        // edge-us is applied first: in sync afterwards. edge-eu stays unapplied: changes.
        let one = await run(["apply", "edge-us", "--yes", "--no-wait"], repo: repo, clusters: clusters)
        #expect(one.status == 0, "\(one.stderr)")

        let diff = await run(["diff", "edge-eu", "edge-us", "edge-ap"], repo: repo, clusters: clusters)
        #expect(diff.status == 2, "\(diff.stdout)\(diff.stderr)")
        let lines = diff.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("SITE") == true)
        let eu = lines.first { $0.hasPrefix("edge-eu ") } ?? ""
        let us = lines.first { $0.hasPrefix("edge-us ") } ?? ""
        let ap = lines.first { $0.hasPrefix("edge-ap ") } ?? ""
        #expect(eu.split(separator: " ").prefix(7).map(String.init) == ["edge-eu", "edge-eu", "4", "0", "0", "0", "changed"], "\(diff.stdout)")
        #expect(us.hasSuffix("in-sync"), "\(diff.stdout)")
        #expect(ap.contains("unreachable"), "\(diff.stdout)")
        #expect(lines.contains { $0.hasPrefix("TOTAL") && $0.contains("1 in-sync, 1 changed, 1 unreachable") }, "\(diff.stdout)")
        // Unreachable sites get their detail without --detail; the others do not.
        #expect(diff.stdout.contains("== edge-ap (edge-ap): unreachable"))
        #expect(!diff.stdout.contains("== edge-eu"))
        // Diff wrote nothing anywhere.
        #expect(clusters["edge-eu"].requestLog.writes.isEmpty)

        let json = await run(["diff", "edge-eu", "edge-us", "edge-ap", "-o", "json"], repo: repo, clusters: clusters)
        #expect(json.status == 2)
        #expect(try outcomes(json.stdout) == ["edge-eu": "changed", "edge-us": "in-sync", "edge-ap": "unreachable"])
        let doc = try JSONParser.parse(json.stdout)
        #expect(doc["kind"]?.string == "FleetReport")
        #expect(doc[path: ["totals", "unreachable"]]?.int == 1)

        // Apply over the three: edge-eu is created, edge-us stays, edge-ap is reported and skipped.
        let apply = await run(["apply", "edge-eu", "edge-us", "edge-ap", "--yes", "--no-wait", "-o", "json"], repo: repo, clusters: clusters)
        #expect(apply.status == 2, "\(apply.stderr)")
        #expect(try outcomes(apply.stdout) == ["edge-eu": "changed", "edge-us": "in-sync", "edge-ap": "unreachable"])
        #expect(apply.stderr.contains("Plan for 3 sites"))
        #expect(clusters["edge-eu"].store.get(resource: "configmaps", namespace: "fleet-edge-eu", name: "edge-eu-config-0")?[path: ["data", "site"]]?.string == "edge-eu")
        #expect(clusters["hub"].requestLog.entries.isEmpty)

        // Now both reachable edge sites are in sync: exit 0 without the dead one.
        let clean = await run(["diff", "--selector", "tier=edge,region in (eu,us)"], repo: repo, clusters: clusters)
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
        #expect(clean.stdout.contains("TOTAL") && clean.stdout.contains("2 in-sync"))
    }

    @Test func selectorChoosesSitesAndBadSelectorsPointAtTheColumn() async throws {
        let repo = try FleetRepo()
        let clusters = try TestClusters(["edge-eu", "edge-us", "hub"], refused: ["edge-ap"])
        defer { clusters.stop() }
        let r = await run(["diff", "--selector", "region notin (ap),group.pattern.dev/edge", "-o", "json"], repo: repo, clusters: clusters)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(try Set(outcomes(r.stdout).keys) == ["edge-eu", "edge-us"])
        #expect(clusters["hub"].requestLog.entries.isEmpty)

        let hub = await run(["drift", "--selector", "tier!=edge", "-o", "json"], repo: repo, clusters: clusters)
        #expect(try outcomes(hub.stdout) == ["hub": "drifted"], "\(hub.stdout)")   // never applied: not in sync

        let bad = await run(["diff", "--selector", "tier=edge,"], repo: repo, clusters: clusters)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--selector:1:11"), "\(bad.stderr)")
        #expect(bad.stderr.contains("fix:"))

        let none = await run(["diff", "--selector", "tier=core"], repo: repo, clusters: clusters)
        #expect(none.status == 2)
        #expect(none.stderr.contains("no site matches --selector tier=core"))
    }

    @Test func twoSitesOnOneClusterNeverOverlapWithAPerClusterBoundOfOne() async throws {
        // Three sites on one context, 12 objects each; apply writes are attributed to sites by
        // object name (`<site>-config-<i>`) from the server's request log.
        let repo = try FleetRepo(objects: 12, sites: [("a", "shared", "tier: edge"), ("b", "shared", "tier: edge"), ("c", "shared", "tier: edge")])
        let clusters = try TestClusters(["shared"])
        defer { clusters.stop() }
        let r = await run(["apply", "--all", "--yes", "--no-wait", "--parallel", "3", "--per-cluster", "1", "-o", "json"], repo: repo, clusters: clusters)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try outcomes(r.stdout) == ["a": "changed", "b": "changed", "c": "changed"])
        let order = writeOrder(clusters["shared"])
        #expect(order.count == 36, "\(order)")
        var blocks: [String] = []
        for s in order where blocks.last != s { blocks.append(s) }
        // With a bound of 1 each site's writes form one block: a, b, c in some order.
        #expect(blocks.count == 3, "site writes interleave: \(order)")
        #expect(Set(blocks) == ["a", "b", "c"])
    }

    @Test func withoutTheBoundSitesOfOneClusterDoRunTogether() async throws {
        // The counterpart: --per-cluster 3 lets the same three sites overlap (the check above is not vacuous).
        let repo = try FleetRepo(objects: 12, sites: [("a", "shared", "tier: edge"), ("b", "shared", "tier: edge"), ("c", "shared", "tier: edge")])
        let clusters = try TestClusters(["shared"])
        defer { clusters.stop() }
        clusters["shared"].faults.add(FaultRule(times: nil, predicate: { $0.verb == "apply" }, action: .delay(0.02)))
        let r = await run(["apply", "--all", "--yes", "--no-wait", "--parallel", "3", "--per-cluster", "3", "--concurrency", "1"], repo: repo, clusters: clusters)
        #expect(r.status == 0, "\(r.stderr)")
        let order = writeOrder(clusters["shared"])
        var blocks: [String] = []
        for s in order where blocks.last != s { blocks.append(s) }
        #expect(blocks.count > 3, "\(order)")
    }

    @Test func oneQuestionForTheFleetAndPrunesNeedYesWithoutATerminal() async throws {
        let repo = try FleetRepo(sites: [("edge-eu", "edge-eu", "region: eu"), ("edge-us", "edge-us", "region: us")])
        let clusters = try TestClusters(["edge-eu", "edge-us"])
        defer { clusters.stop() }
        // At a terminal: one question for both sites; "n" writes nothing anywhere.
        final class Asked: @unchecked Sendable { var count = 0 }
        let asked = Asked()
        let t = Terminal(isInteractive: true, readLine: { asked.count += 1; return "n" })
        let no = await Terminal.$override.withValue(t) { await run(["apply", "--all", "--no-wait"], repo: repo, clusters: clusters) }
        #expect(no.status == 1, "\(no.stderr)")
        #expect(asked.count == 1)
        #expect(no.stderr.contains("Apply to 2 sites? [yN]"), "\(no.stderr)")
        #expect(no.stdout.contains("Plan for 2 sites"))
        #expect(clusters["edge-eu"].requestLog.writes.isEmpty && clusters["edge-us"].requestLog.writes.isEmpty)

        // Without a terminal, creates go ahead without --yes …
        let first = await run(["apply", "--all", "--no-wait"], repo: repo, clusters: clusters)
        #expect(first.status == 0, "\(first.stderr)")
        // … but once the render drops an object, the planned prune needs --yes: nothing is written.
        let objects = repo.root + "/patterns/fleet-demo/components/app/objects.yaml"
        var text = try String(contentsOfFile: objects, encoding: .utf8)
        text = String(text[..<text.range(of: "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${site.name}-config-2")!.lowerBound])
        try text.write(toFile: objects, atomically: true, encoding: .utf8)
        clusters["edge-eu"].requestLog.reset(); clusters["edge-us"].requestLog.reset()
        let refused = await run(["apply", "--all", "--no-wait"], repo: repo, clusters: clusters)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("refusing to prune 2 objects across the fleet without confirmation"), "\(refused.stderr)")
        #expect(clusters["edge-eu"].requestLog.writes.isEmpty && clusters["edge-us"].requestLog.writes.isEmpty)
        let yes = await run(["apply", "--all", "--no-wait", "--yes", "-o", "json"], repo: repo, clusters: clusters)
        #expect(yes.status == 0, "\(yes.stderr)")
        let doc = try JSONParser.parse(yes.stdout)
        #expect(doc[path: ["totals", "objects", "pruned"]]?.int == 2)
        #expect(clusters["edge-eu"].store.get(resource: "configmaps", namespace: "fleet-edge-eu", name: "edge-eu-config-2") == nil)
    }

    @Test func aSiteThatDoesNotCompileStopsTheWholeApply() async throws {
        let repo = try FleetRepo(sites: [("edge-eu", "edge-eu", "region: eu"), ("edge-us", "edge-us", "region: us")])
        try "apiVersion: pattern.dev/v1alpha1\nkind: Site\nmetadata:\n  name: edge-us\nspec:\n  pattern:\n    path: patterns/missing\n  cluster:\n    context: edge-us\n"
            .write(toFile: repo.root + "/overlays/edge-us/overlay.yaml", atomically: true, encoding: .utf8)
        let clusters = try TestClusters(["edge-eu", "edge-us"])
        defer { clusters.stop() }
        let r = await run(["apply", "--all", "--yes", "--no-wait"], repo: repo, clusters: clusters)
        #expect(r.status == 2)
        #expect(r.stderr.contains("1 of 2 sites do not compile; nothing was written to any cluster"), "\(r.stderr)")
        #expect(clusters["edge-eu"].requestLog.entries.isEmpty)
        #expect(clusters["edge-us"].requestLog.entries.isEmpty)
    }

    @Test func statusOverManySitesReportsAppliedBehindDriftedNeverAppliedAndUnreachable() async throws {
        let repo = try FleetRepo()
        let clusters = try TestClusters(["edge-eu", "edge-us", "hub"], refused: ["edge-ap"])
        defer { clusters.stop() }
        let applied = await run(["apply", "edge-eu", "edge-us", "--yes", "--no-wait"], repo: repo, clusters: clusters)
        #expect(applied.status == 0, "\(applied.stderr)")
        // Both applied and untouched: in sync, every object ready; exit 0.
        let clean = await run(["status", "edge-eu", "edge-us"], repo: repo, clusters: clusters)
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
        let header = clean.stdout.split(separator: "\n").first.map { $0.split(separator: " ").map(String.init) }
        #expect(header == ["SITE", "CLUSTER", "APPLIED", "AGE", "READY", "DRIFTED", "RESULT"], "\(clean.stdout)")
        #expect(clean.stdout.contains("4/4"))
        #expect(clean.stdout.contains("2 in-sync"))

        // A hand edit on edge-eu: drifted. hub was never applied; edge-ap cannot be reached.
        let info = try #require(clusters["edge-eu"].store.resource(group: "", version: "v1", resource: "configmaps"))
        _ = try clusters["edge-eu"].store.update(info, namespace: "fleet-edge-eu", name: "edge-eu-config-1", manager: "kubectl-edit",
                                                 dryRun: false, precondition: nil) { o in
            var o = o
            o[path: ["data", "site"]] = "edited"
            return o
        }
        let all = await run(["status", "--all", "-o", "json"], repo: repo, clusters: clusters)
        #expect(all.status == 2, "\(all.stderr)")
        #expect(try outcomes(all.stdout) == ["edge-eu": "drifted", "edge-us": "in-sync", "edge-ap": "unreachable", "hub": "drifted"], "\(all.stdout)")
        let doc = try JSONParser.parse(all.stdout)
        #expect(doc["command"]?.string == "status")
        let us = doc["sites"]?.array?.first { $0["site"]?.string == "edge-us" }
        #expect(us?[path: ["status", "appliedSeq"]]?.int == 1)
        #expect(us?[path: ["status", "appliedRevision"]]?.string == us?[path: ["status", "renderedRevision"]]?.string)
        #expect(us?[path: ["status", "ready"]]?.int == 4)
        let hub = doc["sites"]?.array?.first { $0["site"]?.string == "hub" }
        #expect(hub?["message"]?.string == "never applied to this cluster")
        // Status only reads.
        #expect(clusters["hub"].requestLog.writes.isEmpty)

        // The repository moves on: edge-us is behind (changed), not in sync; exit 1.
        let objects = repo.root + "/patterns/fleet-demo/components/app/objects.yaml"
        try (try String(contentsOfFile: objects, encoding: .utf8) + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${site.name}-new\n  namespace: fleet-${site.name}\n")
            .write(toFile: objects, atomically: true, encoding: .utf8)
        let behind = await run(["status", "--selector", "region=us", "-o", "json"], repo: repo, clusters: clusters)
        #expect(behind.status == 1, "\(behind.stderr)")
        #expect(try outcomes(behind.stdout) == ["edge-us": "changed"])
        #expect(behind.stdout.contains("behind: the repository renders"))

        // One name without --all/--selector is still the PatternSync status.
        let one = await run(["status", "edge-us"], repo: repo, clusters: clusters)
        #expect(one.stderr.contains("PatternSync") || one.stderr.contains("cannot read PatternSyncs"), "\(one.stderr)")
    }

    @Test func aBrokenOverlayChainUnderASelectorIsThatSitesFailureAndApplyWritesNothing() async throws {
        let repo = try FleetRepo(sites: [("edge-eu", "edge-eu", "region: eu"), ("edge-us", "edge-us", "region: us")])
        try "apiVersion: pattern.dev/v1alpha1\nkind: Site\nmetadata:\n  name: edge-us\nspec:\n  extends: [nowhere]\n  cluster:\n    context: edge-us\n"
            .write(toFile: repo.root + "/overlays/edge-us/overlay.yaml", atomically: true, encoding: .utf8)
        let clusters = try TestClusters(["edge-eu", "edge-us"])
        defer { clusters.stop() }
        let diff = await run(["diff", "--selector", "tier=edge", "-o", "json"], repo: repo, clusters: clusters)
        #expect(diff.status == 2, "\(diff.stderr)")
        #expect(try outcomes(diff.stdout) == ["edge-eu": "changed", "edge-us": "failed"], "\(diff.stdout)\(diff.stderr)")
        let us = try JSONParser.parse(diff.stdout)["sites"]?.array?.first { $0["site"]?.string == "edge-us" }
        #expect(us?["message"]?.string?.contains("overlay chain does not load") == true)
        #expect(us?["message"]?.string?.contains("--selector cannot be evaluated") == true)
        // The safety rule stays: a site that does not load stops every write.
        let apply = await run(["apply", "--selector", "tier=edge", "--yes", "--no-wait"], repo: repo, clusters: clusters)
        #expect(apply.status == 2)
        #expect(apply.stderr.contains("nothing was written to any cluster"), "\(apply.stderr)")
        #expect(clusters["edge-eu"].requestLog.writes.isEmpty)
    }

    @Test func aRefusedConnectionIsNotSentToRBAC() async throws {
        let repo = try FleetRepo(sites: [("edge-ap", "edge-ap", "region: ap")])
        let clusters = try TestClusters(["hub"], refused: ["edge-ap"])
        defer { clusters.stop() }
        let r = await run(["drift", "edge-ap"], repo: repo, clusters: clusters)
        #expect(r.status != 0)
        #expect(r.stderr.contains("fix:"), "\(r.stderr)")
        #expect(!r.stderr.contains("may list ConfigMaps"), "\(r.stderr)")
        #expect(r.stderr.contains("up and reachable"), "\(r.stderr)")
    }

    /// The site of every ConfigMap apply, in the order the server received them.
    func writeOrder(_ server: TestAPIServer) -> [String] {
        var out: [String] = []
        for e in server.requestLog.entries where e.verb == "apply" && e.resource == "configmaps" && e.namespace?.hasPrefix("fleet-") == true {
            guard let name = e.name, let dash = name.firstIndex(of: "-") else { continue }
            out.append(String(name[..<dash]))
        }
        return out
    }
}
