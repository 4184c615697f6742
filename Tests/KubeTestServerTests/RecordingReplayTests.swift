import Foundation
import PatternCore
import Testing
@testable import KubeTestServer

/// Replays every recorded request of Tests/Fixtures/kube-api (a real kube-apiserver session)
/// in order against one TestAPIServer, and compares: status codes, Status reasons, messages and
/// causes, object data (server-set identity and timestamps excluded), generation, managedFields
/// (manager, operation, apiVersion, subresource, fieldsV1 — structurally), whether
/// resourceVersion changed or not between steps, list continue tokens, watch events.
///
/// Documented exceptions (see Docs/test-api-server.md, "Recording replay"):
/// - 01: only resources the server models are compared; the recording lists more (bindings,
///   componentstatuses, …) that the test server does not serve.
/// - 03 step 1: the recording shows kube-controller-manager's status write after the apply. The
///   replay performs the same write through `store.setStatus` (as manager kube-controller-manager,
///   subresource status) with the recorded status, so later managedFields can be compared. From
///   then on `status` and the `deployment.kubernetes.io/revision` annotation are controller-timed
///   and excluded; after 03 step 5 the replay again writes the recorded controller status.
/// - 04: the recorded CRD already existed from an earlier run (step 0 finds it, step 1 answers
///   200). The replay applies the same CRD first, so both steps see the recorded situation.
/// - 06 step 3: the watch is opened after the changes it reports (the recording ran it
///   concurrently), from the LIST's resourceVersion, with timeoutSeconds=1 instead of 6.
@Suite("Recording replay")
struct RecordingReplayTests {
    final class Replay {
        let server: TestAPIServer
        var failures: [String] = []
        var lastRecordedRV: [String: String] = [:]
        var lastOurRV: [String: String] = [:]
        var controllerTimed = false
        var lastListRV: String? = nil
        var lastContinue: String? = nil
        var compared = 0

        init(server: TestAPIServer) { self.server = server }

        func fail(_ where_: String, _ msg: String) { failures.append("\(where_): \(msg)") }

        static let dropMetadata: Set<String> = ["uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "managedFields"]

        func normalize(_ v: Value) -> Value {
            var o = v
            if var md = o["metadata"]?.object {
                for k in Replay.dropMetadata { md.removeValue(forKey: k) }
                if controllerTimed, var ann = md["annotations"]?.object {
                    ann.removeValue(forKey: "deployment.kubernetes.io/revision")
                    if ann.isEmpty { md.removeValue(forKey: "annotations") } else { md.set("annotations", .object(ann)) }
                }
                o["metadata"] = .object(md)
            }
            if controllerTimed && o["kind"]?.string == "Deployment" { o["status"] = nil }
            if var st = o["status"], let conds = st["conditions"]?.array {
                st["conditions"] = .array(conds.map { c in
                    var c = c
                    for k in ["lastTransitionTime", "lastUpdateTime", "lastProbeTime"] { c[k] = nil }
                    return c
                })
                o["status"] = st
            }
            return o
        }

        func managed(_ v: Value) -> [String] {
            (v[path: ["metadata", "managedFields"]]?.array ?? []).map { e in
                let fs = FieldSet(fieldsV1: e["fieldsV1"] ?? .emptyObject)
                return "\(e["manager"]?.string ?? "")|\(e["operation"]?.string ?? "")|\(e["apiVersion"]?.string ?? "")|\(e["subresource"]?.string ?? "")|\(JSONWriter.string(fs.fieldsV1))"
            }.sorted()
        }

        func objectKey(_ v: Value) -> String {
            "\(v["kind"]?.string ?? "?")/\(v.metadataNamespace ?? "")/\(v.metadataName ?? "")"
        }

        func compareObject(_ at: String, recorded: Value, ours: Value) {
            compared += 1
            let rn = normalize(recorded), on = normalize(ours)
            if rn != on {
                fail(at, "object differs\n  recorded: \(JSONWriter.string(rn, options: .init(sortKeys: true)))\n  ours:     \(JSONWriter.string(on, options: .init(sortKeys: true)))")
            }
            let rm = managed(recorded), om = managed(ours)
            if rm != om { fail(at, "managedFields differ\n  recorded: \(rm)\n  ours:     \(om)") }
            let key = objectKey(recorded)
            if let rrv = recorded[path: ["metadata", "resourceVersion"]]?.string, let orv = ours[path: ["metadata", "resourceVersion"]]?.string {
                if let lr = lastRecordedRV[key], let lo = lastOurRV[key], (lr == rrv) != (lo == orv) {
                    fail(at, "resourceVersion \(lr == rrv ? "unchanged" : "changed") in the recording but \(lo == orv ? "unchanged" : "changed") here")
                }
                lastRecordedRV[key] = rrv
                lastOurRV[key] = orv
            }
        }

        func compareStatus(_ at: String, recorded: Value, ours: Value, messagePrefixOnly: Bool = false) {
            compared += 1
            for k in ["kind", "apiVersion", "status", "reason", "code"] where recorded[k] != ours[k] {
                fail(at, "Status.\(k): recorded \(recorded[k].map { JSONWriter.string($0) } ?? "absent"), ours \(ours[k].map { JSONWriter.string($0) } ?? "absent")")
            }
            let rm = recorded["message"]?.string ?? "", om = ours["message"]?.string ?? ""
            if messagePrefixOnly ? !om.hasPrefix(String(rm.prefix { $0 != "(" })) : rm != om {
                fail(at, "Status.message:\n  recorded: \(rm)\n  ours:     \(om)")
            }
            var rd = recorded["details"], od = ours["details"]
            rd?["uid"] = nil; od?["uid"] = nil
            if rd != od { fail(at, "Status.details: recorded \(rd.map { JSONWriter.string($0) } ?? "absent"), ours \(od.map { JSONWriter.string($0) } ?? "absent")") }
        }

        func compareDiscovery(_ at: String, path: String, recorded: Value, ours: Value) {
            compared += 1
            switch path {
            case "/version":
                for k in recorded.object?.keys ?? [] where ours[k] == nil { fail(at, "/version lacks \(k)") }
            case "/api":
                if recorded["versions"] != ours["versions"] || recorded["kind"] != ours["kind"] { fail(at, "/api differs: \(ours)") }
            case "/apis":
                let rg = recorded["groups"]?.array ?? []
                for g in ours["groups"]?.array ?? [] {
                    guard let r = rg.first(where: { $0["name"] == g["name"] }) else { fail(at, "group \(g["name"]!) not in the recording"); continue }
                    if r["preferredVersion"] != g["preferredVersion"] { fail(at, "preferredVersion of \(g["name"]!): recorded \(r["preferredVersion"]!), ours \(g["preferredVersion"]!)") }
                }
            default:
                for k in ["kind", "apiVersion", "groupVersion"] where recorded[k] != ours[k] { fail(at, "\(k) differs") }
                let rr = recorded["resources"]?.array ?? []
                let or = ours["resources"]?.array ?? []
                for o in or {
                    guard let r = rr.first(where: { $0["name"] == o["name"] }) else { fail(at, "resource \(o["name"]!) not in the recording"); continue }
                    if r != o { fail(at, "resource entry differs\n  recorded: \(r)\n  ours:     \(o)") }
                }
                let modelled: Set<String> = Set(BuiltinResources.all.map(\.resource) + ["widgets"])
                for r in rr {
                    let name = r["name"]?.string ?? ""
                    let base = String(name.split(separator: "/").first ?? "")
                    if modelled.contains(base) && !or.contains(where: { $0["name"] == r["name"] }) && !name.hasSuffix("/eviction") && !name.hasSuffix("/binding")
                        && !name.hasSuffix("/ephemeralcontainers") && !name.hasSuffix("/log") && !name.hasSuffix("/exec") && !name.hasSuffix("/attach")
                        && !name.hasSuffix("/portforward") && !name.hasSuffix("/proxy") && !name.hasSuffix("/token") && !name.hasSuffix("/approval") {
                        fail(at, "resource \(name) missing here")
                    }
                }
            }
        }

        func run(_ file: String, hooks: [Int: (Replay) throws -> Void] = [:], after: [Int: (Replay) throws -> Void] = [:]) throws {
            let steps = try Fixtures.recording(file)
            for (i, step) in steps.enumerated() {
                let at = "\(file)#\(i) (\(step["step"]?.string ?? ""))"
                try hooks[i]?(self)
                if let req = step["request"] {
                    try runRequest(at, req, step["response"] ?? .null)
                } else if let events = step["events"]?.array {
                    try runWatch(at, step["step"]?.string ?? "", events)
                }
                try after[i]?(self)
            }
        }

        func runRequest(_ at: String, _ req: Value, _ resp: Value) throws {
            let method = req["method"]?.string ?? "GET"
            var path = req["path"]?.string ?? "/"
            if path.contains("continue="), let c = lastContinue {
                path = path.replacingOccurrences(of: #"continue=[^&]*"#, with: "continue=\(c)", options: .regularExpression)
            }
            path = path.replacingOccurrences(of: " ", with: "%20")
            var bodyText: String? = nil
            if let b = req["body"], !b.isNull { bodyText = b.string ?? JSONWriter.string(b) }
            let r = try server.request(method, path, rawBody: bodyText, contentType: req["contentType"]?.string,
                                       headers: ["User-Agent": "python-requests/2.31.0"])
            let want = resp["status"]?.int ?? 0
            if r.status != want { fail(at, "status \(r.status), recorded \(want): \(r.text.prefix(400))") }
            let rb = resp["body"] ?? .null
            let ob = r.json
            let plainPath = String(path.split(separator: "?").first ?? "")
            if rb["kind"]?.string == "Status" {
                compareStatus(at, recorded: rb, ours: ob)
            } else if plainPath == "/version" || plainPath == "/api" || plainPath == "/apis" || plainPath == "/api/v1" || (plainPath.hasPrefix("/apis/") && plainPath.split(separator: "/").count == 3) {
                compareDiscovery(at, path: plainPath, recorded: rb, ours: ob)
            } else if let items = rb["items"]?.array {
                compared += 1
                let oi = ob["items"]?.array ?? []
                if items.count != oi.count { fail(at, "list has \(oi.count) items, recorded \(items.count)") }
                for (a, b) in zip(items, oi) {
                    var a = a, b = b
                    a["kind"] = "ConfigMap"; b["kind"] = "ConfigMap"
                    compareObject(at + " item \(a.metadataName ?? "")", recorded: a, ours: b)
                }
                if rb["kind"] != ob["kind"] || rb["apiVersion"] != ob["apiVersion"] { fail(at, "list kind/apiVersion differ") }
                lastListRV = ob[path: ["metadata", "resourceVersion"]]?.string
                let rc = rb[path: ["metadata", "continue"]]?.string, oc = ob[path: ["metadata", "continue"]]?.string
                if (rc == nil) != (oc == nil) { fail(at, "continue token presence differs") }
                if let rc, let oc {
                    let rt = Base64.decode(rc).flatMap { try? JSONParser.parse($0) }, ot = Base64.decode(oc).flatMap { try? JSONParser.parse($0) }
                    if rt?["start"] != ot?["start"] || rt?["v"] != ot?["v"] { fail(at, "continue token differs: \(String(describing: rt)) vs \(String(describing: ot))") }
                }
                lastContinue = oc
            } else if rb.object != nil {
                compareObject(at, recorded: rb, ours: ob)
            }
        }

        func runWatch(_ at: String, _ title: String, _ events: [Value]) throws {
            let path: String
            if title.contains("resourceVersion=1 ") || title.hasSuffix("resourceVersion=1") || title.contains("too old") {
                path = "/api/v1/namespaces/rec/configmaps?watch=1&resourceVersion=1&timeoutSeconds=1"
            } else {
                path = "/api/v1/namespaces/rec/configmaps?watch=1&resourceVersion=\(lastListRV ?? "0")&allowWatchBookmarks=true&labelSelector=owner%3Dpattern&timeoutSeconds=1"
            }
            let r = try server.request("GET", path)
            if r.status != 200 { fail(at, "watch status \(r.status)") }
            let got = r.lines
            if got.map({ $0["type"]?.string ?? "" }) != events.map({ $0["type"]?.string ?? "" }) {
                fail(at, "event types \(got.map { $0["type"]?.string ?? "" }), recorded \(events.map { $0["type"]?.string ?? "" })")
                return
            }
            for (e, g) in zip(events, got) {
                let eo = e["object"] ?? .null, go = g["object"] ?? .null
                switch e["type"]?.string {
                case "ERROR": compareStatus(at + " ERROR", recorded: eo, ours: go, messagePrefixOnly: true)
                case "BOOKMARK":
                    compared += 1
                    var en = eo, gn = go
                    en[path: ["metadata", "resourceVersion"]] = nil; gn[path: ["metadata", "resourceVersion"]] = nil
                    if en != gn { fail(at, "BOOKMARK differs: \(gn) vs \(en)") }
                    if go[path: ["metadata", "resourceVersion"]]?.string != server.store.currentResourceVersion { fail(at, "BOOKMARK resourceVersion is not the current one") }
                default:
                    compared += 1
                    if normalize(eo) != normalize(go) { fail(at, "\(e["type"]!.string!) object differs\n  recorded: \(normalize(eo))\n  ours:     \(normalize(go))") }
                    if managed(eo) != managed(go) { fail(at, "managedFields differ in event") }
                }
            }
        }
    }

    static func controllerStatus(_ replay: Replay, fromStep step: Int, of file: String, sameStep: Bool) throws {
        let steps = try Fixtures.recording(file)
        let body = steps[step][path: ["response", "body"]] ?? .null
        let revision = body[path: ["metadata", "annotations", "deployment.kubernetes.io/revision"]] ?? "1"
        let written = try replay.server.store.setStatus(group: "apps", resource: "deployments", namespace: "rec", name: "web",
                                                        status: body["status"] ?? .emptyObject, manager: "kube-controller-manager") { o in
            o[path: ["metadata", "annotations", "deployment.kubernetes.io/revision"]] = revision
        }
        // The recorded controller write happened before the recorded response: the replay's
        // write is part of the same step for the resourceVersion relation.
        if sameStep {
            replay.lastOurRV["Deployment/rec/web"] = written[path: ["metadata", "resourceVersion"]]?.string
        }
    }

    @Test("every recorded exchange replays with the recorded outcome")
    func replayAll() throws {
        var options = TestAPIServerOptions()
        options.namespaceFinalizeDelay = 2
        options.foregroundDeletionDelay = 2
        let server = try TestAPIServer.start(options)
        defer { server.stop() }
        let replay = Replay(server: server)
        defer { for f in replay.failures { print("REPLAY FAILURE: " + f); Issue.record(Comment(rawValue: f)) }; print("REPLAY compared \(replay.compared)") }

        try replay.run("01-discovery")
        try replay.run("02-configmap-ssa-ownership")
        try replay.run("03-deployment-ssa-lists", hooks: [
            1: { r in
                try RecordingReplayTests.controllerStatus(r, fromStep: 1, of: "03-deployment-ssa-lists", sameStep: false)
                r.controllerTimed = false
            },
        ], after: [
            1: { r in r.controllerTimed = true },
            5: { r in try RecordingReplayTests.controllerStatus(r, fromStep: 5, of: "03-deployment-ssa-lists", sameStep: true) },
        ])
        try replay.run("04-crd-and-custom-resource", hooks: [
            0: { r in
                let steps = try Fixtures.recording("04-crd-and-custom-resource")
                let crd = steps[1][path: ["request", "body"]]?.string ?? ""
                let resp = try r.server.apply("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com", crd)
                if resp.status != 201 { r.fail("04 setup", "CRD apply answered \(resp.status): \(resp.text)") }
            },
        ])
        try replay.run("05-list-selectors-pagination")
        try replay.run("06-watch")
        try replay.run("07-delete")

        #expect(replay.compared > 60)
    }
}
