import Foundation
import Testing
import PatternCore
@testable import KubeClient

/// Retries, re-authentication, exec plugins and watch recovery against `ScriptedServer`.
@Suite struct ResilienceTests {
    static let coreV1 = JSONWriter.string(try! Fixtures.json("discovery-core-v1.json"))
    static let fastRetry = RetryPolicy(maxAttempts: 4, baseDelay: 0.01, maxDelay: 0.05, jitter: 0.2)

    func client(_ server: ScriptedServer, auth: ClientConfig.Auth = ClientConfig.Auth(), retry: RetryPolicy = fastRetry) -> KubeClient {
        var cfg = ClientConfig(server: server.url, auth: auth, namespace: "rec")
        cfg.retry = retry
        return KubeClient(config: cfg)
    }

    @Test func retriesTooManyRequestsHonouringRetryAfter() async throws {
        let server = try ScriptedServer { _, i in
            i == 0 ? .respond(429, headers: ["Retry-After": "1"], body: #"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"slow down","reason":"TooManyRequests","code":429}"#)
                   : .respond(200, body: #"{"gitVersion":"v1.31.0"}"#)
        }
        defer { server.stop() }
        let start = monotonicNow()
        let v = try await client(server).serverVersion()
        #expect(v["gitVersion"]?.string == "v1.31.0")
        #expect(monotonicNow() - start >= 0.95)
        #expect(server.requests.count == 2)
    }

    @Test func tooManyRequestsIsRetriedEvenForPOST() async throws {
        let server = try ScriptedServer { _, i in
            i == 0 ? .respond(429, headers: ["Retry-After": "0"], body: "{}") : .respond(201, body: #"{"kind":"ConfigMap"}"#)
        }
        defer { server.stop() }
        _ = try await client(server).send(.post, "/api/v1/namespaces/rec/configmaps", body: Array("{}".utf8), contentType: "application/json")
        #expect(server.requests.count == 2)
    }

    @Test func retriesServiceUnavailableForGETButNotForPOST() async throws {
        let server = try ScriptedServer { req, _ in
            req.method == "GET" && req.headers["x-attempt"] == nil
                ? .respond(503, headers: ["Retry-After": "0"], body: "{}") : .respond(503, body: "{}")
        }
        defer { server.stop() }
        let c = client(server)
        await #expect { try await c.send(.get, "/version") } throws: { e in
            if case .serverError(let s) = e as! KubeError { return s.code == 503 } else { return false }
        }
        #expect(server.requests.count == 4)  // maxAttempts
        await #expect(throws: KubeError.self) { try await c.send(.post, "/api/v1/namespaces", body: Array("{}".utf8)) }
        #expect(server.requests.count == 5)  // POST: one attempt only
    }

    @Test func cutConnectionRetriesGETButNeverPOST() async throws {
        let server = try ScriptedServer { req, i in
            if req.path == "/api/v1" { return .respond(200, body: Self.coreV1) }
            if req.method == "POST" { return .cut }
            return i == 0 ? .cut : .respond(200, body: #"{"gitVersion":"v1.31.0"}"#)
        }
        defer { server.stop() }
        let c = client(server)
        #expect(try await c.serverVersion()["gitVersion"]?.string == "v1.31.0")
        #expect(server.requests.count == 2)
        do {
            _ = try await c.create(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "x"]])
            Issue.record("expected a failure")
        } catch {
            guard case .transport(let t) = error else { Issue.record("\(error)"); return }
            #expect(t.kind == .connectionLost)
            #expect(t.message.contains("connection to \(server.url)"))
        }
        // One GET /api/v1 (discovery) and exactly one POST.
        #expect(server.requests.filter { $0.method == "POST" }.count == 1)
    }

    @Test func oversizedResponsesAreRefused() async throws {
        let server = try ScriptedServer { _, _ in .respond(200, body: "[" + String(repeating: "1,", count: 5000) + "1]") }
        defer { server.stop() }
        var cfg = ClientConfig(server: server.url)
        cfg.maxResponseBytes = 4096
        cfg.retry = .none
        await #expect { try await KubeClient(config: cfg).send(.get, "/big") } throws: { e in "\(e)".contains("exceeds 4096 bytes") }
    }

    @Test func connectionsAreReused() async throws {
        let server = try ScriptedServer { _, _ in .respond(200, body: #"{"gitVersion":"v1"}"#) }
        defer { server.stop() }
        let c = client(server)
        let first = try await c.send(.get, "/version")
        let second = try await c.send(.get, "/version")
        let third = try await c.send(.get, "/version")
        #expect(first.newConnections == 1)
        #expect(second.newConnections == 0 && third.newConnections == 0)
        #expect(server.connections == 1)
        #expect(first.httpVersion == "1.1")
    }

    /// Many clusters' worth of traffic (fleet, hub, a full parallel test run) must not evict one
    /// cluster's idle connection. With one libcurl connection cache for the process, any cap
    /// (64, then 512) let other clients' connections push ours out (least recently used first)
    /// while we waited between two requests; each client now has its own cache
    /// (`ConnectionPool`, proven on a small cache in ConnectionPoolTests).
    @Test func connectionSurvivesOtherServersTraffic() async throws {
        let server = try ScriptedServer { _, _ in .respond(200, body: #"{"gitVersion":"v1"}"#) }
        defer { server.stop() }
        let others = try (0..<80).map { _ in try ScriptedServer { _, _ in .respond(200, body: "{}") } }
        defer { for o in others { o.stop() } }
        let c = client(server)
        #expect(try await c.send(.get, "/version").newConnections == 1)
        // 80 other servers' connections go idle after ours (more than the old cap of 64). All at
        // once: sequentially, a starved full run took minutes, past libcurl's 118 s idle age.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for o in others { group.addTask { _ = try await self.client(o).send(.get, "/version") } }
            try await group.waitForAll()
        }
        let again = try await c.send(.get, "/version")
        #expect(again.newConnections == 0)
        #expect(server.connections == 1)
    }

    /// Streams started together to a server never contacted before all start at once (a
    /// guard for the readiness-watch stall: a watch that waits in libcurl for a connection
    /// would deliver nothing while the others stay open).
    @Test func concurrentStreamsToAFreshServerAllStart() async throws {
        #expect(try await PipewaitTests.streamsStarted(3, loop: CurlLoop.shared, pool: nil) == [0, 1, 2])
    }

    @Test func bearerTokenIsSentAndNeverEchoedInErrors() async throws {
        let server = try ScriptedServer { req, _ in
            req.headers["authorization"] == "Bearer tok-SECRET-1"
                ? .respond(403, body: #"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"namespaces is forbidden: User \"alice\" cannot list resource \"namespaces\"","reason":"Forbidden","code":403}"#)
                : .respond(401, body: "{}")
        }
        defer { server.stop() }
        var auth = ClientConfig.Auth(); auth.token = "tok-SECRET-1"
        let c = client(server, auth: auth)
        do { _ = try await c.send(.get, "/api/v1/namespaces"); Issue.record("expected 403") } catch {
            guard case .forbidden = error else { Issue.record("\(error)"); return }
            #expect(!"\(error)".contains("SECRET"))
            #expect("\(error)".contains("alice"))
        }
    }

    /// Writes an exec plugin that counts its runs in `count` and records KUBERNETES_EXEC_INFO.
    func writePlugin(_ tmp: TempDir, expiry: String) throws -> String {
        try tmp.write("plugin.sh", """
        #!/bin/sh
        echo run >> "\(tmp.file("count"))"
        printf '%s' "$KUBERNETES_EXEC_INFO" > "\(tmp.file("info"))"
        printf '%s' "$PLUGIN_MODE" > "\(tmp.file("mode"))"
        n=$(wc -l < "\(tmp.file("count"))" | tr -d ' ')
        cat <<JSON
        {"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"exec-SECRET-$n","expirationTimestamp":"\(expiry)"}}
        JSON
        """, executable: true)
        return tmp.file("plugin.sh")
    }

    func runs(_ tmp: TempDir) -> Int {
        ((try? String(contentsOfFile: tmp.file("count"), encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    @Test func execPluginIsCachedUntilExpiry() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let plugin = try writePlugin(tmp, expiry: "2099-01-01T00:00:00Z")
        let server = try ScriptedServer { req, _ in
            req.headers["authorization"] == "Bearer exec-SECRET-1" ? .respond(200, body: #"{"gitVersion":"v1"}"#) : .respond(401, body: "{}")
        }
        defer { server.stop() }
        var auth = ClientConfig.Auth()
        auth.exec = KubeConfig.ExecConfig(apiVersion: "client.authentication.k8s.io/v1beta1", command: plugin,
                                          env: [(name: "PLUGIN_MODE", value: "from-kubeconfig")], provideClusterInfo: true)
        let c = client(server, auth: auth)
        for _ in 0..<3 { _ = try await c.serverVersion() }
        #expect(runs(tmp) == 1)
        let info = try JSONParser.parse(try String(contentsOfFile: tmp.file("info"), encoding: .utf8))
        #expect(info["kind"]?.string == "ExecCredential")
        #expect(info["apiVersion"]?.string == "client.authentication.k8s.io/v1beta1")
        #expect(info[path: ["spec", "interactive"]]?.bool == false)
        #expect(info[path: ["spec", "cluster", "server"]]?.string == server.url)
        #expect(try String(contentsOfFile: tmp.file("mode"), encoding: .utf8) == "from-kubeconfig")
    }

    @Test func expiredExecCredentialIsRenewed() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let plugin = try writePlugin(tmp, expiry: "2001-01-01T00:00:00Z")
        let server = try ScriptedServer { _, _ in .respond(200, body: #"{"gitVersion":"v1"}"#) }
        defer { server.stop() }
        var auth = ClientConfig.Auth()
        auth.exec = KubeConfig.ExecConfig(apiVersion: "client.authentication.k8s.io/v1beta1", command: plugin)
        let c = client(server, auth: auth)
        for _ in 0..<3 { _ = try await c.serverVersion() }
        #expect(runs(tmp) == 3)
        #expect(server.requests.map { $0.headers["authorization"] ?? "" } == ["Bearer exec-SECRET-1", "Bearer exec-SECRET-2", "Bearer exec-SECRET-3"])
    }

    @Test func unauthorizedReRunsExecPluginOnce() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let plugin = try writePlugin(tmp, expiry: "2099-01-01T00:00:00Z")
        // Only the second credential is accepted (the first was revoked server-side).
        let server = try ScriptedServer { req, _ in
            req.headers["authorization"] == "Bearer exec-SECRET-2" ? .respond(200, body: #"{"gitVersion":"v1"}"#)
                : .respond(401, body: #"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#)
        }
        defer { server.stop() }
        var auth = ClientConfig.Auth()
        auth.exec = KubeConfig.ExecConfig(apiVersion: "client.authentication.k8s.io/v1beta1", command: plugin)
        let c = client(server, auth: auth)
        _ = try await c.serverVersion()
        _ = try await c.serverVersion()
        #expect(runs(tmp) == 2)
        #expect(server.requests.count == 3)
    }

    @Test func failingExecPluginGivesAnActionableError() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        try tmp.write("bad.sh", "#!/bin/sh\necho 'token expired, run sso login' >&2\necho '{\"token\":\"leak-SECRET\"}'\nexit 3\n", executable: true)
        var auth = ClientConfig.Auth()
        auth.exec = KubeConfig.ExecConfig(command: tmp.file("bad.sh"))
        let c = KubeClient(config: ClientConfig(server: "http://127.0.0.1:\(closedPort())", auth: auth))
        await #expect { try await c.serverVersion() } throws: { e in
            "\(e)".contains("exit status 3") && "\(e)".contains("run sso login") && !"\(e)".contains("SECRET")
        }
        auth.exec = KubeConfig.ExecConfig(command: "pattern-no-such-plugin", installHint: "brew install the-plugin")
        let missing = KubeClient(config: ClientConfig(server: "http://127.0.0.1:\(closedPort())", auth: auth))
        await #expect { try await missing.serverVersion() } throws: { e in "\(e)".contains("brew install the-plugin") }
    }

    @Test func listCollectsEveryPage() async throws {
        let server = try ScriptedServer { req, _ in
            if req.path == "/api/v1" { return .respond(200, body: Self.coreV1) }
            let item: (String) -> String = { n in #"{"metadata":{"name":"\#(n)","namespace":"rec"}}"# }
            if !req.query.contains("continue=") {
                #expect(req.query.contains("labelSelector=owner%3Dpattern") && req.query.contains("limit=2"))
                return .respond(200, body: #"{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"5","continue":"tok/1"},"items":[\#(item("a")),\#(item("b"))]}"#)
            }
            #expect(req.query.contains("continue=tok%2F1"))
            return .respond(200, body: #"{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"5"},"items":[\#(item("c"))]}"#)
        }
        defer { server.stop() }
        let list = try await client(server).list(GroupVersionKind(apiVersion: "v1", kind: "ConfigMap"), namespace: "rec",
                                                 labelSelector: "owner=pattern", pageSize: 2)
        #expect(list.items.compactMap(\.metadataName) == ["a", "b", "c"])
        #expect(list.items.allSatisfy { $0.kindName == "ConfigMap" && $0.apiVersion == "v1" })
        #expect(list.resourceVersion == "5")
    }

    /// Each page is asked for once, in order, with the token the previous page named (the
    /// next page is asked for before this one's items are read); pages that name their
    /// token after their items are read one after the other, with the same result.
    @Test(arguments: [true, false])
    func listAsksForEveryPageOnceInOrder(_ metadataFirst: Bool) async throws {
        let item: @Sendable (String) -> String = { n in #"{"metadata":{"name":"\#(n)","namespace":"rec"}}"# }
        let pages: [String: (next: String?, names: [String])] = ["": ("t1", ["a", "b"]), "t1": ("t2", ["c", "d"]), "t2": (nil, ["e"])]
        let server = try ScriptedServer { req, _ in
            if req.path == "/api/v1" { return .respond(200, body: Self.coreV1) }
            let token = ScriptedServer.param(req.query, "continue") ?? ""
            guard let page = pages[token] else { return .respond(500, body: "{}") }
            let meta = page.next.map { #""metadata":{"resourceVersion":"9","continue":"\#($0)"}"# } ?? #""metadata":{"resourceVersion":"9"}"#
            let items = #""items":["# + page.names.map(item).joined(separator: ",") + "]"
            return .respond(200, body: "{\"kind\":\"ConfigMapList\",\"apiVersion\":\"v1\"," + (metadataFirst ? meta + "," + items : items + "," + meta) + "}")
        }
        defer { server.stop() }
        let pagesAskedFor = Counter()
        let list = try await client(server).list(GroupVersionKind(apiVersion: "v1", kind: "ConfigMap"), namespace: "rec", pageSize: 2,
                                                 onRequest: { _ = pagesAskedFor.next() })
        #expect(list.items.compactMap(\.metadataName) == ["a", "b", "c", "d", "e"])
        #expect(list.items.allSatisfy { $0.kindName == "ConfigMap" && $0.apiVersion == "v1" })
        #expect(list.resourceVersion == "9")
        let asked = server.requests.filter { $0.path.hasSuffix("/configmaps") }.map { ScriptedServer.param($0.query, "continue") ?? "" }
        #expect(asked == ["", "t1", "t2"])
        // Every page's request is reported to the caller (request counts), not one per list.
        #expect(pagesAskedFor.next() == asked.count)
    }

    /// A continue token that expired (410 Gone, for a page asked for ahead) restarts the list
    /// from its first page once, and the result is the fresh list's.
    @Test func anExpiredContinueTokenRestartsTheListOnce() async throws {
        let item: @Sendable (String) -> String = { n in #"{"metadata":{"name":"\#(n)","namespace":"rec"}}"# }
        let firstPages = Counter(), expired = Counter()
        let server = try ScriptedServer { req, _ in
            if req.path == "/api/v1" { return .respond(200, body: Self.coreV1) }
            if ScriptedServer.param(req.query, "continue") == nil {
                let rv = firstPages.next() == 0 ? "5" : "6"
                return .respond(200, body: #"{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"\#(rv)","continue":"t\#(rv)"},"items":[\#(item("a" + rv))]}"#)
            }
            if ScriptedServer.param(req.query, "continue") == "t5" && expired.next() == 0 {
                return .respond(410, body: #"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Expired","code":410,"message":"too old"}"#)
            }
            return .respond(200, body: #"{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"6"},"items":[\#(item("b"))]}"#)
        }
        defer { server.stop() }
        let asked = Counter()
        let list = try await client(server).list(GroupVersionKind(apiVersion: "v1", kind: "ConfigMap"), namespace: "rec", pageSize: 1,
                                                 onRequest: { _ = asked.next() })
        #expect(list.items.compactMap(\.metadataName) == ["a6", "b"])
        #expect(list.resourceVersion == "6")
        // First page, its next page (expired), the first page again, its next page: four requests.
        #expect(asked.next() == server.requests.filter { $0.path.hasSuffix("/configmaps") }.count)
        #expect(server.requests.filter { $0.path.hasSuffix("/configmaps") }.count == 4)
    }

    @Test func watchRelistsAfterGoneAndReconnectsAfterNormalEnd() async throws {
        let cm: @Sendable (String, String) -> String = { n, rv in #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"\#(n)","namespace":"rec","resourceVersion":"\#(rv)"}}"# }
        let expired = JSONWriter.string(["type": "ERROR", "object": try Fixtures.json("watch-expired-event.json")["object"]!])
        let lists = Counter()
        let server = try ScriptedServer { req, _ in
            if req.path == "/api/v1" { return .respond(200, body: Self.coreV1) }
            let q = req.query
            if !q.contains("watch=1") {
                let rv = lists.next() == 0 ? "20" : "30"
                return .respond(200, body: #"{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"\#(rv)"},"items":[\#(cm("a", rv))]}"#)
            }
            #expect(q.contains("allowWatchBookmarks=true"))
            switch ScriptedServer.param(q, "resourceVersion") {
            case "20": return .stream(200, lines: [expired])  // too old: relist
            case "30": return .stream(200, lines: [#"{"type":"MODIFIED","object":\#(cm("a", "31"))}"#])  // then a normal end
            case "31": return .stream(200, lines: [#"{"type":"BOOKMARK","object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"resourceVersion":"40"}}}"#])
            default: return .stream(200, lines: [#"{"type":"ADDED","object":\#(cm("b", "41"))}"#], pause: 0.5)
            }
        }
        defer { server.stop() }
        var seen: [String] = []
        for try await e in client(server).watchWithRelist(GroupVersionKind(apiVersion: "v1", kind: "ConfigMap"), namespace: "rec") {
            switch e {
            case .listed(let l): seen.append("listed@\(l.resourceVersion)")
            case .event(let ev): seen.append("\(ev.type.rawValue)@\(ev.resourceVersion ?? "")")
            }
            if seen.count == 5 { break }
        }
        #expect(seen == ["listed@20", "listed@30", "MODIFIED@31", "BOOKMARK@40", "ADDED@41"])
        let watched = server.requests.filter { $0.query.contains("watch=1") }.map { ScriptedServer.param($0.query, "resourceVersion") ?? "" }
        #expect(watched == ["20", "30", "31", "40"])
    }

    @Test func rawWatchThrowsGoneOnHTTP410() async throws {
        let server = try ScriptedServer { req, _ in
            if req.path == "/api/v1" { return .respond(200, body: Self.coreV1) }
            return .respond(410, body: #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (1052)","reason":"Expired","code":410}"#)
        }
        defer { server.stop() }
        let stream = client(server).watch(GroupVersionKind(apiVersion: "v1", kind: "ConfigMap"), namespace: "rec", resourceVersion: "1")
        await #expect { for try await _ in stream {} } throws: { e in (e as? KubeError)?.isGone == true }
    }

    @Test func discoveryRefetchesWhenAKindAppears() async throws {
        let established = Counter()
        let server = try ScriptedServer { req, _ in
            guard req.path == "/apis/example.com/v1" else { return .respond(404, body: "{}") }
            if established.value == 0 {
                return .respond(404, body: #"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","code":404}"#)
            }
            return .respond(200, body: JSONWriter.string(try! Fixtures.json("discovery-example-v1.json")))
        }
        defer { server.stop() }
        let c = client(server)
        let widget = GroupVersionKind(apiVersion: "example.com/v1", kind: "Widget")
        await #expect { try await c.resource(for: widget) } throws: { e in
            if case .unknownKind = e as! KubeError { return true } else { return false }
        }
        _ = established.next()
        try await Task.sleep(nanoseconds: 300_000_000)  // past the refetch rate limit
        let r = try await c.resource(for: widget)
        #expect(r.name == "widgets" && r.namespaced)
        // Cached now: no further discovery requests.
        _ = try await c.resource(for: widget)
        #expect(server.requests.count == 2)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
    func next() -> Int { lock.lock(); defer { lock.unlock() }; n += 1; return n - 1 }
}

extension ScriptedServer {
    static func param(_ query: String, _ name: String) -> String? {
        for part in query.split(separator: "&") where part.hasPrefix(name + "=") {
            return String(part.dropFirst(name.count + 1)).removingPercentEncoding
        }
        return nil
    }
}
