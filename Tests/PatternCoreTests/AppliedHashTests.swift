import Testing
@testable import PatternCore

/// Applied hashes: current ones compared as they are, legacy ones (earlier versions) recomputed.
@Suite struct AppliedHashFormatTests {
    static func object(hash: String?, revision: String? = "sha256:r") -> Value {
        var v: Value = [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": ["name": "a", "labels": ["pattern.dev/owner": "p.s"], "annotations": ["x": "1"]],
            "data": ["k": "v", "n": "é\"\n"],
        ]
        if let hash { v[path: ["metadata", "annotations", LabelKeys.appliedHash]] = .string(hash) }
        if let revision { v[path: ["metadata", "annotations", LabelKeys.revision]] = .string(revision) }
        return v
    }

    /// Known answers, computed outside Swift (Python's json.dumps with compact separators and
    /// hashlib.sha256) from the JSON the earlier versions hashed.
    @Test func legacyHashesAreWhatEarlierVersionsWrote() {
        #expect(AppliedHash.legacy(Self.object(hash: "v2-0000000000000000")) == "c0e0134e7d284025")
        #expect(AppliedHash.legacy(Self.object(hash: nil, revision: nil)) == "c0e0134e7d284025")
        let bare: Value = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "a", "annotations": [LabelKeys.revision: "r"]],
                           "data": ["k": "v"]]
        #expect(AppliedHash.legacy(bare) == "e62f4258a5f4dc7d")
    }

    @Test func currentAndLegacyHashesMatch() {
        let prepared = Self.object(hash: "v2-0123456789abcdef")
        #expect(AppliedHash.matches(prepared: prepared, live: Self.object(hash: "v2-0123456789abcdef", revision: "sha256:old")))
        #expect(!AppliedHash.matches(prepared: prepared, live: Self.object(hash: "v2-fedcba9876543210")))
        // Legacy: recomputed from what is applied.
        #expect(AppliedHash.matches(prepared: prepared, live: Self.object(hash: "c0e0134e7d284025")))
        #expect(!AppliedHash.matches(prepared: prepared, live: Self.object(hash: "e62f4258a5f4dc7d")))
        var changed = prepared
        changed[path: ["data", "k"]] = "w"
        #expect(!AppliedHash.matches(prepared: changed, live: Self.object(hash: "c0e0134e7d284025")))
        // No hash on either side: no match.
        #expect(!AppliedHash.matches(prepared: prepared, live: Self.object(hash: nil)))
        #expect(!AppliedHash.matches(prepared: Self.object(hash: nil), live: Self.object(hash: "c0e0134e7d284025")))
    }
}
