import Testing
import PatternCore
@testable import PatternFleet

@Suite struct FleetReportTests {
    static func results(inSync: Int, changed: [String] = [], failed: [String] = []) -> [SiteResult] {
        var out: [SiteResult] = []
        for i in 0..<inSync {
            var r = SiteResult(site: "edge-\(i)", cluster: "edge-\(i)", outcome: .inSync)
            r.unchanged = 60
            r.report = .emptyObject
            out.append(r)
        }
        for s in changed {
            var r = SiteResult(site: s, cluster: s, outcome: .changed)
            r.changed = 2
            r.report = .emptyObject
            out.append(r)
        }
        for s in failed { out.append(.failure(FleetSite(name: s, clusterKey: s), .failed, "boom")) }
        return out
    }

    @Test func aLargeFleetsMatrixListsOnlySitesThatAreNotInSyncWithTotals() {
        let report = FleetReport(command: .diff, results: Self.results(inSync: 1000, changed: ["edge-x"], failed: ["edge-y"]))
        let compact = report.matrix(all: false)
        let lines = compact.split(separator: "\n").map(String.init)
        // Header, the two sites with something to say, the totals, the note: not 1,000 rows.
        #expect(lines.count == 5, "\(compact)")
        #expect(lines[1].hasPrefix("edge-x "))
        #expect(lines[2].hasPrefix("edge-y "))
        #expect(lines[3].hasPrefix("TOTAL") && lines[3].contains("1002 sites") && lines[3].contains("1000 in-sync, 1 changed, 1 failed"))
        #expect(lines[4] == "(1000 in-sync sites not listed; --detail lists every site)")
        // Totals count the hidden rows too.
        #expect(lines[3].contains(" 2 "))
        // --detail: every site.
        #expect(report.matrix(all: true).split(separator: "\n").count == 1002 + 2)
    }

    @Test func aSmallFleetAlwaysListsEverySite() {
        let report = FleetReport(command: .apply, results: Self.results(inSync: 3, changed: ["edge-x"]))
        #expect(report.matrix(all: false) == report.matrix(all: true))
        #expect(report.matrix(all: false).split(separator: "\n").count == 6)
    }

    @Test func statusColumnsAndExitCodes() {
        var applied = SiteResult(site: "edge-eu", cluster: "edge-eu", outcome: .inSync)
        var st = SiteStatus(renderedRevision: "sha256:" + String(repeating: "a", count: 64), objects: 4, ready: 4)
        st.appliedRevision = st.renderedRevision
        st.appliedAge = "3m"
        applied.status = st
        applied.report = .emptyObject
        var waiting = applied
        waiting.site = "edge-us"; waiting.cluster = "edge-us"; waiting.outcome = .progressing
        waiting.status?.ready = 3
        waiting.message = "1 of 4 objects not ready"
        let report = FleetReport(command: .status, results: [applied, waiting])
        let lines = report.matrix().split(separator: "\n").map(String.init)
        #expect(lines[0].split(separator: " ", omittingEmptySubsequences: true) == ["SITE", "CLUSTER", "APPLIED", "AGE", "READY", "DRIFTED", "RESULT"])
        #expect(lines[1].split(separator: " ", omittingEmptySubsequences: true).prefix(7)
                == ["edge-eu", "edge-eu", "sha256:aaaaaaaaaaaa", "3m", "4/4", "0", "in-sync"])
        #expect(lines[2].contains("3/4") && lines[2].hasSuffix("progressing: 1 of 4 objects not ready"))
        // Not ready is not "in sync": exit 1, as drift and changes.
        #expect(report.exitCode == 1)
        #expect(FleetReport(command: .status, results: [applied]).exitCode == 0)
        let doc = report.document
        #expect(doc["command"]?.string == "status")
        #expect(doc["sites"]?.array?[1]["status"]?["ready"]?.int == 3)
        #expect(doc[path: ["totals", "progressing"]]?.int == 1)
    }
}
