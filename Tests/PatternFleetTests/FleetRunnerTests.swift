import Testing
import PatternCore
@testable import PatternFleet

/// Records how many operations run at once, overall and per cluster.
final class ConcurrencyProbe: @unchecked Sendable {
    private let lock = Lock()
    private var inFlight: [String: Int] = [:]
    private var total = 0
    private(set) var maxPerCluster: [String: Int] = [:]
    private(set) var maxTotal = 0
    private(set) var started: [String] = []

    func enter(_ s: FleetSite) {
        lock.withLock {
            inFlight[s.clusterKey, default: 0] += 1
            total += 1
            started.append(s.name)
            maxPerCluster[s.clusterKey] = max(maxPerCluster[s.clusterKey] ?? 0, inFlight[s.clusterKey]!)
            maxTotal = max(maxTotal, total)
        }
    }
    func leave(_ s: FleetSite) { lock.withLock { inFlight[s.clusterKey]! -= 1; total -= 1 } }
    func running(_ cluster: String) -> Int { lock.withLock { inFlight[cluster, default: 0] } }
    var snapshot: (maxPerCluster: [String: Int], maxTotal: Int, started: [String]) { lock.withLock { (maxPerCluster, maxTotal, started) } }
}

@Suite struct FleetRunnerTests {
    static func sites(_ spec: [(String, String)]) -> [FleetSite] { spec.map { FleetSite(name: $0.0, clusterKey: $0.1) } }

    @Test func perClusterBoundHoldsAndOtherClustersGoAhead() async {
        // a1..a4 share cluster A; b1..b4 each have their own cluster.
        let sites = Self.sites([("a1", "A"), ("a2", "A"), ("a3", "A"), ("a4", "A"), ("b1", "B1"), ("b2", "B2"), ("b3", "B3"), ("b4", "B4")])
        let probe = ConcurrencyProbe()
        let results = await FleetRunner.run(sites, limits: FleetLimits(parallel: 4, perCluster: 1)) { site in
            probe.enter(site)
            for _ in 0..<200 { await Task.yield() }
            probe.leave(site)
            return SiteResult(site: site.name, cluster: site.clusterKey, outcome: .inSync)
        }
        let snap = probe.snapshot
        #expect(snap.maxPerCluster["A"] == 1)
        #expect(snap.maxTotal <= 4)
        // Results come back in input order, one per site.
        #expect(results.map(\.site) == sites.map(\.name))
        // While a1 holds cluster A, the runner starts b1… instead of waiting on a2.
        #expect(Array(snap.started.prefix(4)) == ["a1", "b1", "b2", "b3"])
    }

    @Test func aLargerPerClusterBoundRunsSitesOfOneClusterTogether() async {
        let sites = Self.sites([("a1", "A"), ("a2", "A"), ("a3", "A")])
        let probe = ConcurrencyProbe()
        _ = await FleetRunner.run(sites, limits: FleetLimits(parallel: 8, perCluster: 2)) { site in
            probe.enter(site)
            // Wait (by yielding, not by time) until a second site of A runs or enough turns passed.
            var turns = 0
            while probe.running("A") < 2 && turns < 100_000 { await Task.yield(); turns += 1 }
            for _ in 0..<100 { await Task.yield() }
            probe.leave(site)
            return SiteResult(site: site.name, cluster: site.clusterKey, outcome: .changed)
        }
        #expect(probe.snapshot.maxPerCluster["A"] == 2)
    }

    @Test func cancelledRunStartsNothingNewAndNeverReportsInSync() async {
        let sites = Self.sites((1...6).map { ("s\($0)", "A") })
        let probe = ConcurrencyProbe()
        let box = CancelBox()
        let task = Task {
            await FleetRunner.run(sites, limits: FleetLimits(parallel: 4, perCluster: 1)) { site in
                probe.enter(site)
                // The first site cancels the whole run (as Ctrl-C does).
                while !box.cancel() { await Task.yield() }
                probe.leave(site)
                return SiteResult(site: site.name, cluster: site.clusterKey, outcome: .changed)
            }
        }
        box.set(task)
        let results = await task.value
        #expect(results.count == 6)
        #expect(probe.snapshot.started == ["s1"])
        #expect(results[0].outcome == .changed)
        let notStarted = results.dropFirst()
        #expect(notStarted.allSatisfy { $0.outcome == .failed && $0.message == "cancelled before it started" })
    }

    @Test func exitCodesCombine() {
        func report(_ outcomes: [SiteOutcome]) -> FleetReport {
            FleetReport(command: .diff, results: outcomes.enumerated().map { SiteResult(site: "s\($0.offset)", cluster: "c", outcome: $0.element) })
        }
        #expect(report([.inSync, .inSync]).exitCode == 0)
        #expect(report([.inSync, .changed]).exitCode == 1)
        #expect(report([.drifted]).exitCode == 1)
        #expect(report([.changed, .unreachable]).exitCode == 2)
        #expect(report([.inSync, .failed]).exitCode == 2)
        #expect(report([]).exitCode == 0)
    }

    @Test func matrixAndDocumentNameUnreachableSites() {
        var changed = SiteResult(site: "edge-eu", cluster: "eu", outcome: .changed)
        changed.created = 2; changed.changed = 1; changed.report = ["kind": "DiffReport"]
        var ok = SiteResult(site: "edge-us", cluster: "us", outcome: .inSync)
        ok.report = ["kind": "DiffReport"]
        let gone = SiteResult.failure(FleetSite(name: "edge-ap", clusterKey: "ap"), .unreachable, "cannot connect: connection refused")
        let r = FleetReport(command: .diff, results: [changed, ok, gone], selector: "tier=edge")
        let text = r.matrix()
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("SITE"))
        #expect(lines[1].hasPrefix("edge-eu") && lines[1].contains("changed"))
        #expect(lines[3].hasPrefix("edge-ap") && lines[3].contains(" -  ") && lines[3].hasSuffix("unreachable: cannot connect: connection refused"))
        #expect(lines[4].hasPrefix("TOTAL") && lines[4].contains("1 in-sync, 1 changed, 1 unreachable"))
        let doc = r.document
        #expect(doc["kind"]?.string == "FleetReport" && doc["apiVersion"]?.string == "pattern.dev/v1alpha1")
        #expect(doc[path: ["totals", "unreachable"]]?.int == 1)
        #expect(doc[path: ["totals", "objects", "created"]]?.int == 2)
        #expect(doc["exitCode"]?.int == 2)
        #expect(doc["sites"]?.array?.last?["outcome"]?.string == "unreachable")
        #expect(r.details(all: false).contains("== edge-ap (ap): unreachable"))
        #expect(!r.details(all: false).contains("edge-eu"))
    }
}

final class CancelBox: @unchecked Sendable {
    private let lock = Lock()
    private var task: Task<[SiteResult], Never>?
    func set(_ t: Task<[SiteResult], Never>) { lock.withLock { task = t } }
    /// Cancels the task once it is known; false until then.
    func cancel() -> Bool {
        guard let t = lock.withLock({ task }) else { return false }
        t.cancel()
        return true
    }
}
