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
        #expect(try inv.safePruneCandidates(desired: desired, renderSucceeded: true).count == 2)
        #expect(throws: Inventory.PruneRefusal.renderFailed) { try inv.safePruneCandidates(desired: desired, renderSucceeded: false) }
        #expect(throws: Inventory.PruneRefusal.emptyRender(wouldDelete: 4)) { try inv.safePruneCandidates(desired: [], renderSucceeded: true) }
        #expect(try inv.safePruneCandidates(desired: [], renderSucceeded: true, allowEmpty: true).count == 4)
        #expect(throws: Inventory.PruneRefusal.overBudget(wouldDelete: 2, budget: 1)) {
            try inv.safePruneCandidates(desired: desired, renderSucceeded: true, budget: 1)
        }
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
    @Test func nextInventoryKeepsFailedPrunesAndMaybeExistingFailedApplies() {
        let a = key("", "ConfigMap", "n", "a"), b = key("", "ConfigMap", "n", "b"), c = key("", "ConfigMap", "n", "c"),
            d = key("", "ConfigMap", "n", "d"), e = key("", "ConfigMap", "n", "e")
        let old = Inventory(pattern: "p", site: "s", objects: [a, b, c])
        // render: a, d, e; pruning b failed; applying d (new) and a (old) failed.
        let next = old.next(rendered: [a, d, e], applyFailed: [a, d], pruneFailed: [b])
        #expect(next.objects == [a, b, e])
        #expect(next.pattern == "p" && next.site == "s")
    }

    @Test func memberLabelsAreAddedAndOthersKept() {
        let obj: Value = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c", "labels": ["app": "x"]]]
        let id = Inventory(pattern: "web", site: "eu").applySetID
        let out = Ownership.withMemberLabels(obj, pattern: "web", site: "eu", applySetID: id)
        #expect(out.labels == ["app": "x", "app.kubernetes.io/managed-by": "pattern", "pattern.dev/owner": "web.eu",
                               "applyset.kubernetes.io/part-of": .string(id)])
        let bare = Ownership.withMemberLabels(["kind": "Namespace", "metadata": ["name": "n"]], pattern: "web", site: "eu", applySetID: id)
        #expect(bare.labels["pattern.dev/owner"] == "web.eu")
    }
}
