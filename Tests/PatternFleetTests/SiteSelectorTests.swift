import Testing
@testable import PatternCore
@testable import PatternFleet

/// kubectl's label-selector grammar and semantics (k8s.io/apimachinery labels.Parse), table-driven.
@Suite struct SiteSelectorTests {
    static let eu: [String: String] = ["tier": "edge", "region": "eu", "gen": "3", "pattern.dev/site": "edge-eu", "group.pattern.dev/edge": ""]
    static let us: [String: String] = ["tier": "edge", "region": "us", "gen": "10", "pattern.dev/site": "edge-us"]
    static let hub: [String: String] = ["tier": "hub", "pattern.dev/site": "hub", "empty": ""]

    struct Case: Sendable, CustomStringConvertible {
        var selector: String
        var eu: Bool, us: Bool, hub: Bool
        var description: String { selector }
    }

    static let cases: [Case] = [
        Case(selector: "", eu: true, us: true, hub: true),
        Case(selector: "tier=edge", eu: true, us: true, hub: false),
        Case(selector: "tier==edge", eu: true, us: true, hub: false),
        Case(selector: "tier = edge", eu: true, us: true, hub: false),
        Case(selector: "tier!=edge", eu: false, us: false, hub: true),
        Case(selector: "region!=eu", eu: false, us: true, hub: true),          // unset key matches !=
        Case(selector: "region in (eu,us)", eu: true, us: true, hub: false),
        Case(selector: "region in ( eu , ap )", eu: true, us: false, hub: false),
        Case(selector: "region notin (eu)", eu: false, us: true, hub: true),   // unset key matches notin
        Case(selector: "region", eu: true, us: true, hub: false),
        Case(selector: "!region", eu: false, us: false, hub: true),
        Case(selector: "tier=edge,region in (eu,us)", eu: true, us: true, hub: false),
        Case(selector: "tier=edge,!group.pattern.dev/edge", eu: false, us: true, hub: false),
        Case(selector: "group.pattern.dev/edge", eu: true, us: false, hub: false),
        Case(selector: "pattern.dev/site=hub", eu: false, us: false, hub: true),
        Case(selector: "empty=", eu: false, us: false, hub: true),             // key=  : set and empty
        Case(selector: "empty in ()", eu: false, us: false, hub: true),        // () is the set {""}
        Case(selector: "region in (,eu)", eu: true, us: false, hub: false),
        Case(selector: "gen>5", eu: false, us: true, hub: false),              // integers, not strings
        Case(selector: "gen<5", eu: true, us: false, hub: false),
        Case(selector: "tier in (in,edge)", eu: true, us: true, hub: false),   // 'in' is a value in a list
        Case(selector: "tier=edge,tier!=edge", eu: false, us: false, hub: false),
    ]

    @Test(arguments: cases) func matches(_ c: Case) throws {
        let s = try SiteSelector(parsing: c.selector)
        #expect(s.matches(Self.eu) == c.eu, "eu")
        #expect(s.matches(Self.us) == c.us, "us")
        #expect(s.matches(Self.hub) == c.hub, "hub")
    }

    struct Bad: Sendable, CustomStringConvertible {
        var selector: String
        var column: Int
        var message: String
        var description: String { selector }
    }

    static let bad: [Bad] = [
        Bad(selector: "tier=edge,", column: 11, message: "expected: identifier after ','"),
        Bad(selector: "tier edge", column: 6, message: "found 'edge', expected: in, notin, =, ==, !=, gt, lt"),
        Bad(selector: "region in eu", column: 11, message: "found 'eu' expected: '('"),
        Bad(selector: "region in (eu", column: 14, message: "found '', expected: ',' or ')'"),
        Bad(selector: "region in (eu us)", column: 15, message: "found 'us', expected: ',' or ')'"),
        Bad(selector: ",tier", column: 1, message: "found ',', expected: !, identifier, or 'end of string'"),
        Bad(selector: "tier=a=b", column: 7, message: "found '=', expected: ',' or 'end of string'"),
        Bad(selector: "Bad Key=x", column: 5, message: "found 'Key'"),
        Bad(selector: "-tier=x", column: 1, message: "invalid label key \"-tier\""),
        Bad(selector: "a/b/c=x", column: 1, message: "at most one '/'"),
        Bad(selector: "Example.com/x=y", column: 1, message: "prefix part must be a DNS subdomain"),
        Bad(selector: "tier=edge/eu", column: 6, message: "invalid label value: \"edge/eu\""),
        Bad(selector: "gen>x", column: 5, message: "the value must be an integer"),
        Bad(selector: "!tier=edge", column: 6, message: "found '=', expected: ',' or 'end of string'"),
        Bad(selector: "région=x", column: 1, message: "invalid label key"),
        Bad(selector: "region=é", column: 8, message: "invalid label value"),
    ]

    @Test(arguments: bad) func rejects(_ b: Bad) {
        do {
            _ = try SiteSelector(parsing: b.selector)
            Issue.record("\(b.selector) parsed")
        } catch {
            #expect(error.location.map { Int($0.mark.column) } == b.column, "\(error)")
            #expect(error.location?.file == "--selector")
            #expect(error.message.contains(b.message), "\(error.message)")
            #expect(error.fix?.isEmpty == false)
        }
    }

    @Test func oversizedSelectorIsRefusedNotParsed() {
        let long = String(repeating: "a=b,", count: SiteSelector.maxLength / 4 + 1) + "a=b"
        #expect(throws: Diagnostic.self) { try SiteSelector(parsing: long) }
    }

    @Test func describesAsWritten() throws {
        #expect(try SiteSelector(parsing: "tier = edge, region in (us,eu),!x").description == "tier=edge,region in (eu,us),!x")
    }

    @Test func siteLabelsMergeTheChainAndNameSiteAndGroups() {
        let chain = [
            SiteLabels.Layer(name: "edge", clusterLabels: ["tier": "edge", "region": "global"]),
            SiteLabels.Layer(name: "eu", clusterLabels: ["region": "eu"], context: "ctx-eu"),
            SiteLabels.Layer(name: "edge-eu", clusterLabels: ["pattern.dev/site": "spoofed"], clusterName: "edge-eu-1"),
        ]
        let l = SiteLabels.labels(site: "edge-eu", chain: chain)
        #expect(l == ["tier": "edge", "region": "eu", "pattern.dev/site": "edge-eu", "group.pattern.dev/edge": "",
                      "group.pattern.dev/eu": "", "pattern.dev/cluster": "edge-eu-1", "pattern.dev/context": "ctx-eu"])
    }
}
