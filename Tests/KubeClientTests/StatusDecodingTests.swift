import Foundation
import Testing
import PatternCore
@testable import KubeClient

/// Decoding of real API server answers (Tests/Fixtures/kube-api-client, copied from
/// shared/reference/kube-api-recordings beside the repository).
@Suite struct StatusDecodingTests {
    func decode(_ file: String, http: Int) throws -> KubeError {
        KubeError.from(httpStatus: http, body: try Fixtures.json(file))
    }

    @Test func applyConflictListsManagersAndFields() throws {
        let e = try decode("status-apply-conflict.json", http: 409)
        guard case .conflict(let s, let conflicts) = e else { Issue.record("\(e)"); return }
        #expect(s.reason == "Conflict")
        #expect(conflicts == [FieldConflict(manager: "kubectl-edit", field: ".data.a", message: "conflict with \"kubectl-edit\" using v1")])
        #expect("\(e)".contains("kubectl-edit"))
        #expect("\(e)".contains(".data.a"))
    }

    @Test func staleResourceVersionIsAConflictWithoutFields() throws {
        let e = try decode("status-stale-conflict.json", http: 409)
        guard case .conflict(_, let conflicts) = e else { Issue.record("\(e)"); return }
        #expect(conflicts.isEmpty)
    }

    @Test func notFoundAlreadyExistsInvalid() throws {
        let nf = try decode("status-not-found.json", http: 404)
        #expect(nf.isNotFound)
        #expect(nf.status?.name == "nope")
        #expect(nf.status?.kind == "configmaps")
        let ns = try decode("status-namespace-not-found.json", http: 404)
        #expect(ns.status?.kind == "namespaces")
        let ae = try decode("status-already-exists.json", http: 409)
        guard case .alreadyExists(let s) = ae else { Issue.record("\(ae)"); return }
        #expect(s.message == "configmaps \"demo\" already exists")
        let inv = try decode("status-invalid.json", http: 422)
        guard case .invalid(_, let causes) = inv else { Issue.record("\(inv)"); return }
        #expect(causes.first?.field == "metadata.name")
        #expect(causes.first?.reason == "FieldValueInvalid")
    }

    @Test func serverErrorWithoutReason() throws {
        let e = try decode("status-typed-patch-500.json", http: 500)
        guard case .serverError(let s) = e else { Issue.record("\(e)"); return }
        #expect(s.code == 500)
        #expect(s.message.contains("expected numeric"))
    }

    @Test func otherCodes() {
        #expect({ if case .forbidden = KubeError.from(httpStatus: 403, body: nil) { true } else { false } }())
        #expect({ if case .unauthorized = KubeError.from(httpStatus: 401, body: nil) { true } else { false } }())
        if case .tooManyRequests(_, let after) = KubeError.from(httpStatus: 429, body: nil, retryAfterHeader: "3") {
            #expect(after == 3)
        } else { Issue.record("429") }
        #expect({ if case .timeout = KubeError.from(httpStatus: 504, body: nil) { true } else { false } }())
        #expect(KubeError.from(httpStatus: 410, body: nil).isGone)
        // A non-JSON body still gives a readable message.
        let e = KubeClient.error(status: 502, body: Array("upstream connect error".utf8), retryAfter: nil)
        #expect("\(e)".contains("upstream connect error"))
    }

    @Test func watchEventsAndExpiredError() throws {
        let events = try Fixtures.json("watch-events.json").array ?? []
        let decoded = try events.map { try KubeClient.decodeWatchLine(JSONWriter.bytes($0)) }
        #expect(decoded.map(\.type) == [.modified, .deleted, .bookmark])
        #expect(decoded.last?.resourceVersion == "2277")
        let expired = try Fixtures.json("watch-expired-event.json")
        #expect {
            try KubeClient.decodeWatchLine(JSONWriter.bytes(expired))
        } throws: { e in (e as? KubeError)?.isGone == true && "\(e)".contains("too old resource version") }
    }

    @Test func discoveryDocuments() throws {
        let core = APIResource.parseList(try Fixtures.json("discovery-core-v1.json"))
        let cm = try #require(core.first { $0.kind == "ConfigMap" })
        #expect(cm.name == "configmaps" && cm.namespaced && cm.group == "" && cm.version == "v1")
        #expect(cm.path(namespace: "rec", name: "demo") == "/api/v1/namespaces/rec/configmaps/demo")
        let nsr = try #require(core.first { $0.kind == "Namespace" })
        #expect(!nsr.namespaced)
        #expect(nsr.path(namespace: "ignored", name: "x") == "/api/v1/namespaces/x")
        #expect(!core.contains { $0.name.contains("/") })
        let apps = APIResource.parseList(try Fixtures.json("discovery-apps-v1.json"))
        let d = try #require(apps.first { $0.kind == "Deployment" })
        #expect(d.path(namespace: nil) == "/apis/apps/v1/deployments")
        let ex = APIResource.parseList(try Fixtures.json("discovery-example-v1.json"))
        #expect(ex.map(\.name) == ["widgets"])
        #expect(ex.first?.group == "example.com")
    }

    @Test func listItemsGetTypeMeta() throws {
        let page = try Fixtures.json("list-page1.json")
        let r = APIResource(name: "configmaps", kind: "ConfigMap", group: "", version: "v1", namespaced: true)
        let item = KubeClient.withTypeMeta(page["items"]!.array![0], r)
        #expect(item.object?.keys.prefix(2) == ["apiVersion", "kind"])
        #expect(item.gvk == GroupVersionKind(group: "", version: "v1", kind: "ConfigMap"))
    }
}
