import Testing
import PatternCore
import KubeClient
import PatternController

/// The controller check of `pattern apply` from a LIST of PatternSyncs made earlier (while the
/// site rendered): the same answers as a LIST made at the check.
@Suite struct SiteClaimsTests {
    let gvk = GroupVersionKind(group: "pattern.dev", version: "v1alpha1", kind: "PatternSync")

    func sync(_ name: String, site: String, suspended: Bool = false, created: String) -> Value {
        ["apiVersion": "pattern.dev/v1alpha1", "kind": "PatternSync",
         "metadata": ["name": .string(name), "namespace": "ops", "creationTimestamp": .string(created)],
         "spec": ["site": .string(site), "suspend": .bool(suspended)]]
    }

    @Test func listedPatternSyncsNameTheSitesClaimantsOldestFirst() throws {
        let items = [sync("b", site: "dev", created: "2026-11-02T00:00:00Z"), sync("other", site: "prod", created: "2026-11-01T00:00:00Z"),
                     sync("a", site: "dev", suspended: true, created: "2026-11-01T00:00:00Z")]
        let c = try SiteClaims.claimants(listed: .success(items), pattern: "p", site: "dev", recordNamespace: nil)
        #expect(c.map(\.name) == ["a", "b"])
        #expect(c.map(\.suspended) == [true, false])
    }

    @Test func aClusterWithoutPatternSyncHasNoClaimants() throws {
        #expect(try SiteClaims.claimants(listed: .failure(.unknownKind(gvk)), pattern: "p", site: "dev", recordNamespace: nil).isEmpty)
        #expect(try SiteClaims.claimants(listed: .failure(.notFound(Status(code: 404))), pattern: "p", site: "dev", recordNamespace: nil).isEmpty)
    }

    @Test func aListThatFailedOtherwiseIsAnError() {
        #expect(throws: KubeError.self) {
            try SiteClaims.claimants(listed: .failure(.forbidden(Status(code: 403))), pattern: "p", site: "dev", recordNamespace: nil)
        }
    }
}
