import Testing
import PatternCore
@testable import PatternRecord

private func key(_ g: String, _ k: String, _ ns: String, _ n: String) -> ObjectKey {
    ObjectKey(group: g, kind: k, namespace: ns, name: n)
}

@Suite struct NamingTests {
    @Test func ownerValueIsAValidLabelValue() {
        #expect(Ownership.ownerValue(pattern: "web", site: "edge-eu") == "web.edge-eu")
        let long = Ownership.ownerValue(pattern: String(repeating: "p", count: 40), site: String(repeating: "s", count: 40))
        #expect(long.count == 63)
        #expect(Ownership.isValidLabelValue(long))
        #expect(long.hasSuffix("-" + String(SHA256.hex(String(repeating: "p", count: 40) + "." + String(repeating: "s", count: 40)).prefix(10))))
        // Distinct long inputs stay distinct.
        #expect(Ownership.ownerValue(pattern: String(repeating: "p", count: 40), site: String(repeating: "s", count: 41)) != long)
        let odd = Ownership.labelValue("team/app:v1")
        #expect(Ownership.isValidLabelValue(odd) && odd.hasPrefix("team-app-v1-"))
        #expect(!Ownership.isValidLabelValue("-a") && !Ownership.isValidLabelValue("a-") && Ownership.isValidLabelValue("a.b_c-d"))
    }

    @Test func objectNamesAreDNSNames() {
        #expect(Ownership.objectName(prefix: "pattern-inventory", ["web", "edge-eu"]) == "pattern-inventory-web-edge-eu")
        let n = Ownership.objectName(prefix: "pattern-ledger", ["Web_App", "EU"])
        #expect(n.hasPrefix("pattern-ledger-web-app-eu-") && n.count == "pattern-ledger-web-app-eu-".count + 10)
    }

    @Test func applySetIDFollowsKEP3659() {
        // Reference value: base64url(sha256("pattern-inventory-web-edge-eu.pattern-system.ConfigMap.")), no padding.
        #expect(Ownership.applySetID(name: "pattern-inventory-web-edge-eu", namespace: "pattern-system")
                == "applyset-dTUyP4hpRcH5d0CYyPFPFcVX0h980eCz1NFtnYzHR1I-v1")
        #expect(Ownership.ownerSelector(pattern: "web", site: "edge-eu") == "pattern.dev/owner=web.edge-eu")
    }
}

@Suite struct InventoryTests {
    static let keys: Set<ObjectKey> = [
        key("", "Namespace", "", "app"), key("apps", "Deployment", "app", "web"), key("", "ConfigMap", "app", "cfg"),
        key("apiextensions.k8s.io", "CustomResourceDefinition", "", "widgets.example.com"),
    ]

    @Test func encodesOneCompactShardWithApplySetParentKeys() {
        let inv = Inventory(pattern: "web", site: "edge-eu", objects: Self.keys)
        let cms = inv.encode()
        #expect(cms.count == 1)
        let cm = cms[0]
        #expect(cm.metadataName == "pattern-inventory-web-edge-eu" && cm.metadataNamespace == "pattern-system")
        #expect(cm["data"]?["objects"]?.string == """
            |ConfigMap|app|cfg
            |Namespace||app
            apiextensions.k8s.io|CustomResourceDefinition||widgets.example.com
            apps|Deployment|app|web

            """)
        #expect(cm.labels["app.kubernetes.io/managed-by"] == "pattern")
        #expect(cm.labels["pattern.dev/site"] == "edge-eu" && cm.labels["pattern.dev/pattern"] == "web")
        #expect(cm.labels["applyset.kubernetes.io/id"]?.string == inv.applySetID)
        #expect(cm.annotations["applyset.kubernetes.io/contains-group-kinds"]
                == "ConfigMap,CustomResourceDefinition.apiextensions.k8s.io,Deployment.apps,Namespace")
        #expect(cm.annotations["applyset.kubernetes.io/tooling"] == "pattern/v1")
        #expect(cm.annotations["pattern.dev/shard"] == "0/1")
        // Deterministic bytes.
        #expect(JSONWriter.string(cm) == JSONWriter.string(Inventory(pattern: "web", site: "edge-eu", objects: Self.keys).encode()[0]))
    }

    @Test func roundTripsThroughShards() throws {
        var many = Set<ObjectKey>()
        for i in 0..<500 { many.insert(key("", "ConfigMap", "ns\(i % 7)", "cm-\(i)")) }
        let inv = Inventory(pattern: "web", site: "edge-eu", objects: many)
        let cms = inv.encode(maxShardBytes: 2000)
        #expect(cms.count > 5)
        #expect(cms.allSatisfy { ($0["data"]?["objects"]?.string?.utf8.count ?? 0) <= 2000 })
        #expect(cms.map { $0.metadataName! }.prefix(3) == ["pattern-inventory-web-edge-eu", "pattern-inventory-web-edge-eu-1", "pattern-inventory-web-edge-eu-2"])
        let back = try Inventory.decode(cms.reversed())
        #expect(back == inv)
        #expect(try Inventory.decode(inv.encode()) == inv)
    }

    /// Lines are read as bytes: every shape of line, as the old `split` on characters read it.
    @Test func inventoryLinesAreReadAsBytes() throws {
        let good: [(String, ObjectKey)] = [
            ("|ConfigMap|ns|a", key("", "ConfigMap", "ns", "a")),
            ("apps|Deployment|ns|web", key("apps", "Deployment", "ns", "web")),
            ("|Namespace||ns", key("", "Namespace", "", "ns")),
            ("x.io|Käse|ns|grün", key("x.io", "Käse", "ns", "grün")),
        ]
        for (line, k) in good {
            #expect(Inventory.parseLine(Substring(line)) == k, "\(line)")
            #expect(Inventory.line(k) == line)
        }
        for bad in ["", "|ConfigMap|ns", "||ns|a", "|ConfigMap|ns|", "a|b|c|d|e", "|ConfigMap|ns|a\r", "no bars"] {
            #expect(Inventory.parseLine(Substring(bad)) == nil, "\(bad)")
        }
        var objects: Set<ObjectKey> = []
        #expect(Inventory.parseLines("\n|ConfigMap|ns|a\n\napps|Deployment|ns|web\n", into: &objects) == nil)
        #expect(objects == [key("", "ConfigMap", "ns", "a"), key("apps", "Deployment", "ns", "web")])
        #expect(Inventory.parseLines("|ConfigMap|ns|a\n|ConfigMap|ns\n|ConfigMap|ns|b", into: &objects) == "|ConfigMap|ns")
        // Windows line ends are not an inventory this tool wrote: refused, not read as names ending in CR.
        var crlf = Inventory(pattern: "p", site: "s", objects: [key("", "ConfigMap", "n", "a")]).encode()
        crlf[0][path: ["data", "objects"]] = "|ConfigMap|n|a\r\n|ConfigMap|n|b\r\n"
        #expect(throws: Diagnostic.self) { try Inventory.decode(crlf) }
    }

    @Test func missingOrTornShardsRefuseToDecode() {
        var many = Set<ObjectKey>()
        for i in 0..<100 { many.insert(key("", "ConfigMap", "n", "cm-\(i)")) }
        let cms = Inventory(pattern: "p", site: "s", objects: many).encode(maxShardBytes: 500)
        #expect(throws: Diagnostic.self) { try Inventory.decode(Array(cms.dropLast())) }
        #expect(throws: Diagnostic.self) { try Inventory.decode(Array(cms.dropFirst())) }
        var other = many
        other.insert(key("", "Secret", "n", "x"))
        let newer = Inventory(pattern: "p", site: "s", objects: other).encode(maxShardBytes: 500)
        do {
            _ = try Inventory.decode([newer[0]] + cms.dropFirst())
            Issue.record("torn write accepted")
        } catch {
            #expect(error.message.contains("torn write"))
        }
    }

    @Test func staleShardsAfterShrinking() {
        let inv = Inventory(pattern: "p", site: "s")
        #expect(inv.staleShards(existing: [inv.shardName(0), inv.shardName(1), inv.shardName(2)], newCount: 1)
                == [inv.shardName(1), inv.shardName(2)])
    }

    @Test func pruneCandidatesAndSafety() throws {
        let inv = Inventory(pattern: "p", site: "s", objects: Self.keys)
        let desired = [key("", "Namespace", "", "app"), key("apps", "Deployment", "app", "web")]
        #expect(inv.pruneCandidates(desired: desired) == [
            key("", "ConfigMap", "app", "cfg"), key("apiextensions.k8s.io", "CustomResourceDefinition", "", "widgets.example.com"),
        ])
    }
}

@Suite struct PrunePolicyTests {
    static let ns = key("", "Namespace", "", "app"), web = key("apps", "Deployment", "app", "web"),
               cfg = key("", "ConfigMap", "app", "cfg"), crd = key("apiextensions.k8s.io", "CustomResourceDefinition", "", "widgets.example.com")

    static func live(_ k: ObjectKey, owner: String = "p.s", annotations: Object = [:]) -> Value {
        var m: Value = ["name": .string(k.name), "labels": ["pattern.dev/owner": .string(owner), "pattern.dev/pattern": "p",
                                                           "pattern.dev/site": .string(String(owner.split(separator: ".").last!))]]
        if !annotations.isEmpty { m["annotations"] = .object(annotations) }
        return ["kind": .string(k.kind), "metadata": m]
    }
    static func owns(_ v: Value) -> Bool { v.labels["pattern.dev/owner"]?.string == "p.s" }
    static var allLive: [ObjectKey: Value] { Dictionary(uniqueKeysWithValues: [ns, web, cfg, crd].map { ($0, live($0)) }) }

    @Test func candidatesAreDeletedWithinTheBudget() throws {
        let inv = Inventory(pattern: "p", site: "s", objects: [Self.ns, Self.web, Self.cfg, Self.crd])
        let d = try PrunePolicy().decide(inventory: inv, desired: [Self.ns, Self.web, Self.crd], live: Self.allLive, owns: Self.owns, staleSource: false)
        #expect(d.delete == [Self.cfg])
        #expect(d.skipped == nil)
    }

    @Test func emptyRenderAndOverBudgetAreRefusedListingTheObjects() {
        let inv = Inventory(pattern: "p", site: "s", objects: [Self.ns, Self.web, Self.cfg, Self.crd])
        #expect(throws: PruneRefusal.emptyRender(wouldDelete: [Self.cfg, Self.web, Self.ns, Self.crd].sorted(), cascade: 0)) {
            try PrunePolicy().decide(inventory: inv, desired: [], live: Self.allLive, owns: Self.owns, staleSource: false)
        }
        #expect(throws: PruneRefusal.self) {
            try PrunePolicy().decide(inventory: inv, desired: [Self.ns], live: Self.allLive, owns: Self.owns, staleSource: false)
        }
        let confirmed = try? PrunePolicy(confirmed: true).decide(inventory: inv, desired: [], live: Self.allLive, owns: Self.owns, staleSource: false)
        #expect(confirmed?.delete.count == 4)
    }

    @Test func cascadesCountAgainstTheBudget() {
        // One candidate of four is within 50%, but the namespace holds 5 more objects.
        let inv = Inventory(pattern: "p", site: "s", objects: [Self.ns, Self.web, Self.cfg, Self.crd])
        let desired: Set<ObjectKey> = [Self.web, Self.cfg, Self.crd]
        #expect(throws: PruneRefusal.overBudget(wouldDelete: [Self.ns], cascade: 5, inventory: 4, limit: 0.5)) {
            try PrunePolicy().decide(inventory: inv, desired: desired, live: Self.allLive, owns: Self.owns, staleSource: false,
                                     cascades: [Self.ns: Cascade(inside: 5)])
        }
        let d = try? PrunePolicy().decide(inventory: inv, desired: desired, live: Self.allLive, owns: Self.owns, staleSource: false,
                                          cascades: [Self.ns: Cascade(inside: 1)])
        #expect(d?.delete == [Self.ns] && d?.cascade == 1)
    }

    @Test func aContainerHoldingAnotherSitesObjectsIsKept() throws {
        let inv = Inventory(pattern: "p", site: "s", objects: [Self.ns, Self.web, Self.cfg, Self.crd])
        let theirs = key("example.com", "Widget", "", "w1")
        let d = try PrunePolicy().decide(inventory: inv, desired: [Self.ns, Self.web, Self.cfg], live: Self.allLive, owns: Self.owns,
                                         staleSource: false, cascades: [Self.crd: Cascade(inside: 1, foreign: [theirs: "p/edge"])])
        #expect(d.delete.isEmpty)
        #expect(d.keep[Self.crd]?.contains("owned by p/edge") == true)
    }

    @Test func staleSourceOptOutAllowlistAndForeignOwnersAreNotDeleted() throws {
        let inv = Inventory(pattern: "p", site: "s", objects: [Self.ns, Self.web, Self.cfg, Self.crd])
        let desired: Set<ObjectKey> = [Self.ns, Self.crd]
        // A stale source prunes nothing unless allowed.
        let stale = try PrunePolicy().decide(inventory: inv, desired: desired, live: Self.allLive, owns: Self.owns, staleSource: true)
        #expect(stale.delete.isEmpty && stale.skipped?.contains("stale") == true)
        let allowed = try PrunePolicy(allowStaleSource: true).decide(inventory: inv, desired: desired, live: Self.allLive, owns: Self.owns, staleSource: true)
        #expect(allowed.delete == [Self.cfg, Self.web])
        // Opt-out annotation, a kind outside the allowlist, another owner: released, not deleted.
        var live = Self.allLive
        live[Self.cfg] = Self.live(Self.cfg, annotations: ["pattern.dev/prune": "disabled"])
        let d1 = try PrunePolicy().decide(inventory: inv, desired: desired, live: live, owns: Self.owns, staleSource: false)
        #expect(d1.delete == [Self.web] && d1.release[Self.cfg]?.contains("disabled") == true)
        let d2 = try PrunePolicy(kinds: [GroupKind(group: "", kind: "ConfigMap")]).decide(inventory: inv, desired: desired, live: Self.allLive, owns: Self.owns, staleSource: false)
        #expect(d2.delete == [Self.cfg] && d2.release[Self.web] != nil)
        live[Self.web] = Self.live(Self.web, owner: "p.edge")
        let d3 = try PrunePolicy().decide(inventory: inv, desired: desired, live: live, owns: Self.owns, staleSource: false)
        #expect(d3.delete.isEmpty && d3.release[Self.web]?.contains("p/edge") == true)
        // Gone: released silently.
        live[Self.web] = nil
        #expect(try PrunePolicy().decide(inventory: inv, desired: desired, live: live, owns: Self.owns, staleSource: false).release[Self.web] == "")
    }
}

@Suite struct LedgerTests {
    static func entry(_ i: Int, changed: Int = 1) -> LedgerEntry {
        LedgerEntry(time: "2026-11-21T19:\(10 + i % 50):00Z", revision: "rev\(i)",
                    source: .init(url: "https://git.example/p.git", ref: "main", commit: "c0ffee\(i)", path: "overlays/eu"),
                    client: .init(user: "ci", host: "runner-1", tool: "pattern", version: "0.1.0"),
                    counts: .init(created: 1, updated: changed - 1, unchanged: 3),
                    changed: (0..<changed).map { "update ConfigMap app/c\($0)" }, result: .succeeded)
    }

    @Test func appendsNumbersAndTrims() {
        var l = Ledger(pattern: "web", site: "edge-eu", limit: 3)
        for i in 1...5 { l.append(Self.entry(i)) }
        #expect(l.entries.map(\.seq) == [3, 4, 5])
        #expect(l.entries.map(\.revision) == ["rev3", "rev4", "rev5"])
    }

    @Test func repeatedIdenticalFailuresCollapseIntoOneEntry() throws {
        var l = Ledger(pattern: "web", site: "edge-eu", limit: 5)
        l.append(Self.entry(1))
        func failure(_ t: String, _ message: String = "ConfigMap app/c0: connection refused") -> LedgerEntry {
            LedgerEntry(time: t, revision: "rev2", counts: .init(failed: 1), changed: ["failed ConfigMap app/c0"], result: .failed, message: message)
        }
        for i in 0..<6 { l.append(failure("2026-11-21T20:00:0\(i)Z")) }
        #expect(l.entries.count == 2, "six identical retries take one slot")
        #expect(l.entries.last?.repeats == 6)
        #expect(l.entries.last?.firstTime == "2026-11-21T20:00:00Z" && l.entries.last?.time == "2026-11-21T20:00:05Z")
        // A different failure is a new entry; the count survives the ConfigMap round trip.
        l.append(failure("2026-11-21T20:01:00Z", "ConfigMap app/c0: forbidden"))
        #expect(l.entries.count == 3)
        let back = try Ledger.decode(l.encode(), pattern: "web", site: "edge-eu", limit: 5)
        #expect(back.entries.map(\.repeats) == [1, 6, 1])
        // Successes never collapse.
        l.append(Self.entry(9)); l.append(Self.entry(9))
        #expect(l.entries.count == 5)
    }

    @Test func boundsChangedListAndMessage() {
        var l = Ledger(pattern: "web", site: "edge-eu")
        var e = Self.entry(1, changed: 250)
        e.message = String(repeating: "é", count: 2000)
        let stored = l.append(e)
        #expect(stored.changed.count == Ledger.maxChanged)
        #expect(stored.changedTotal == 250)
        #expect(stored.message.utf8.count <= Ledger.maxMessageBytes && stored.message.hasSuffix("..."))
    }

    @Test func roundTripsThroughConfigMap() throws {
        var l = Ledger(pattern: "web", site: "edge-eu")
        for i in 1...12 { l.append(Self.entry(i, changed: i)) }
        l.entries[3].result = .failed
        l.entries[3].message = "apply failed: conflict with \"kubectl-edit\" on .data.a"
        let cm = l.encode()
        #expect(cm.metadataName == "pattern-ledger-web-edge-eu")
        #expect(cm.labels["pattern.dev/ledger"] == "web.edge-eu")
        #expect(cm["data"]?["entry-00000012"]?.string?.hasPrefix("{\"seq\":12,\"time\":") == true)
        let back = try Ledger.decode(cm, pattern: "web", site: "edge-eu")
        #expect(back == l)
        // Through YAML text too (as stored by the API and read back).
        let text = YAMLEmitter().emit(cm)
        #expect(try Ledger.decode(try YAMLParser.parse(text), pattern: "web", site: "edge-eu") == l)
        #expect(try Ledger.decode(nil, pattern: "web", site: "edge-eu").entries.isEmpty)
        #expect(throws: Diagnostic.self) { try Ledger.decode(["kind": "ConfigMap", "data": ["x": "y"]], pattern: "w", site: "e") }
    }

    @Test func sizeStaysFarBelowTheConfigMapLimit() {
        var l = Ledger(pattern: "web", site: "edge-eu")
        for i in 1...40 {
            var e = Self.entry(i, changed: 1000)
            e.changed = e.changed.map { $0 + String(repeating: "x", count: 200) }
            e.message = String(repeating: "m", count: 5000)
            l.append(e)
        }
        let bytes = JSONWriter.bytes(l.encode()).count
        #expect(bytes < 1024 * 1024)
    }
}

@Suite struct EngineHelperTests {
    @Test func inventoryIntentAddsBeforeAndRemovesAfter() {
        let a = key("", "ConfigMap", "n", "a"), b = key("", "ConfigMap", "n", "b"), c = key("", "ConfigMap", "n", "c")
        let old = Inventory(pattern: "p", site: "s", objects: [a, b])
        let intent = old.adding([b, c])
        #expect(intent.objects == [a, b, c])
        #expect(intent.covers([a, c]) && !old.covers([a, c]))
        #expect(intent.removing([a]).objects == [b, c])
        #expect(intent.pattern == "p" && intent.site == "s")
    }

    @Test func memberLabelsAreAddedAndOthersKept() {
        let obj: Value = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c", "labels": ["app": "x"]]]
        let id = Inventory(pattern: "web", site: "eu").applySetID
        let out = Ownership.withMemberLabels(obj, pattern: "web", site: "eu", applySetID: id)
        #expect(out.labels == ["app": "x", "app.kubernetes.io/managed-by": "pattern", "pattern.dev/owner": "web.eu",
                               "applyset.kubernetes.io/part-of": .string(id)])
        let bare = Ownership.withMemberLabels(["kind": "Namespace", "metadata": ["name": "n"]], pattern: "web", site: "eu", applySetID: id)
        #expect(bare.labels["pattern.dev/owner"] == "web.eu")
        // Exactly `memberLabels`, in its order, whatever shape metadata and labels had (a
        // missing or non-map one becomes a map, as the path setter makes it); the input is
        // left as it was.
        let expected = Ownership.memberLabels(ownerValue: "web.eu", applySetID: id)
        for shape: Value in [["kind": "A"], ["kind": "A", "metadata": "x"], ["kind": "A", "metadata": ["labels": 3]],
                             ["kind": "A", "metadata": ["labels": [:]]], .null] {
            let labelled = Ownership.withMemberLabels(shape, ownerValue: "web.eu", applySetID: id)
            #expect(labelled.labels.keys == expected.map(\.0), "\(shape)")
            #expect(labelled.labels.values == expected.map { Value.string($0.1) }, "\(shape)")
        }
        #expect(obj.labels == ["app": "x"])
    }
}
