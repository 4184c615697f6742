import Foundation
import Testing
import PatternCore
import KubeTestServer
@testable import KubeClient

/// A CA, a server certificate for 127.0.0.1/localhost, one for `api.internal` only, and a
/// client certificate (CN=alice, O=platform-team), made with the `openssl` CLI.
struct OpenSSLPKI: Sendable {
    let dir: String
    func read(_ name: String) -> String { (try? String(contentsOfFile: dir + "/" + name, encoding: .utf8)) ?? "" }

    static let shared: OpenSSLPKI? = {
        guard let tmp = try? TempDir() else { return nil }
        pkiDirectory.set(tmp.path)
        atexit { if let p = pkiDirectory.get() { try? FileManager.default.removeItem(atPath: p) } }
        let script = """
        set -e
        cd '\(tmp.path)'
        key() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null; }
        sign() { openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" -days 2 -extfile "$1.ext" 2>/dev/null; }
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=pattern-test-ca 2>/dev/null
        key server /CN=kube-apiserver; printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nextendedKeyUsage=serverAuth\\n' > server.ext; sign server
        key named /CN=kube-apiserver; printf 'subjectAltName=DNS:api.internal\\nextendedKeyUsage=serverAuth\\n' > named.ext; sign named
        key client '/CN=alice/O=platform-team'; printf 'extendedKeyUsage=clientAuth\\n' > client.ext; sign client
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout other-ca.key -out other-ca.crt -days 2 -subj /CN=other-ca 2>/dev/null
        """
        guard let o = try? Subprocess.run("/bin/sh", ["-c", script]) else { return nil }
        return o.succeeded ? OpenSSLPKI(dir: tmp.path) : nil
    }()
}

/// Where the shared PKI lives, for removal at exit.
let pkiDirectory = LockedString()

final class LockedString: @unchecked Sendable {
    private let lock = NSLock()
    private var value: String?
    func set(_ v: String) { lock.lock(); value = v; lock.unlock() }
    func get() -> String? { lock.lock(); defer { lock.unlock() }; return value }
}

@Suite(.serialized) struct IntegrationTests {
    static let configMap = GroupVersionKind(apiVersion: "v1", kind: "ConfigMap")
    static let fastRetry = RetryPolicy(maxAttempts: 4, baseDelay: 0.01, maxDelay: 0.05)

    func client(_ server: TestAPIServer, token: String? = nil, namespace: String = "default") -> KubeClient {
        var auth = ClientConfig.Auth()
        auth.token = token
        var cfg = ClientConfig(server: server.url, auth: auth, namespace: namespace)
        cfg.retry = Self.fastRetry
        return KubeClient(config: cfg)
    }

    func tlsServer(_ pki: OpenSSLPKI, cert: String = "server", requireClientCert: Bool = true) throws -> TestAPIServer {
        var o = TestAPIServerOptions()
        o.tlsCertPEM = pki.read("\(cert).crt")
        o.tlsKeyPEM = pki.read("\(cert).key")
        o.clientCAPEM = pki.read("ca.crt")
        o.requireClientCert = requireClientCert
        o.requireAuth = requireClientCert
        return try TestAPIServer.start(o)
    }

    // MARK: TLS and authentication

    @Test func clientCertificateOverVerifiedTLSFromAKubeconfigWithRelativePaths() async throws {
        let pki = try #require(OpenSSLPKI.shared)
        let server = try tlsServer(pki)
        defer { server.stop() }
        let tmp = try TempDir(); defer { tmp.cleanup() }
        try FileManager.default.createDirectory(atPath: tmp.file("pki"), withIntermediateDirectories: true)
        for f in ["ca.crt", "client.crt", "client.key"] { try FileManager.default.copyItem(atPath: pki.dir + "/" + f, toPath: tmp.file("pki/" + f)) }
        try tmp.write("config", """
        apiVersion: v1
        kind: Config
        current-context: tls
        clusters:
        - name: tls
          cluster: {server: "\(server.url)", certificate-authority: pki/ca.crt}
        users:
        - name: alice
          user: {client-certificate: pki/client.crt, client-key: pki/client.key}
        contexts:
        - name: tls
          context: {cluster: tls, user: alice, namespace: team}
        """)
        let c = try KubeClient(kubeconfig: tmp.file("config"))
        #expect(c.config.namespace == "team")
        let report = await c.check()
        #expect(report.ok, "\(report.steps.map(\.detail))")
        #expect(report.serverVersion != nil)
        // The server has no SelfSubjectReview: tolerated.
        #expect(report.steps.first { $0.name == "identity" }?.ok == true)
        // Requests ran as the certificate's user.
        #expect(server.requestLog.entries.contains { $0.user == "alice" })
        // Connection reuse over TLS.
        let a = try await c.send(.get, "/version")
        let b = try await c.send(.get, "/version")
        #expect(a.newConnections + b.newConnections <= 1)
    }

    @Test func tlsVerificationFailsWithTheWrongCAAndSaysSo() async throws {
        let pki = try #require(OpenSSLPKI.shared)
        let server = try tlsServer(pki, requireClientCert: false)
        defer { server.stop() }
        var cfg = ClientConfig(server: server.url, caPEM: Array(pki.read("other-ca.crt").utf8))
        cfg.retry = Self.fastRetry
        do {
            _ = try await KubeClient(config: cfg).serverVersion()
            Issue.record("expected a TLS failure")
        } catch {
            guard case .transport(let t) = error else { Issue.record("\(error)"); return }
            #expect(t.kind == .tls)
            #expect(t.message.hasPrefix("TLS verification failed"))
            #expect(KubeClient.explain(error, server: cfg.server).contains("certificate-authority"))
        }
        // insecure-skip-tls-verify gets through.
        let insecure = KubeClient(config: ClientConfig(server: server.url, insecureSkipTLSVerify: true))
        #expect(try await insecure.serverVersion()["gitVersion"] != nil)
    }

    @Test func tlsServerNameVerifiesAgainstTheGivenName() async throws {
        let pki = try #require(OpenSSLPKI.shared)
        let server = try tlsServer(pki, cert: "named", requireClientCert: false)
        defer { server.stop() }
        let ca = Array(pki.read("ca.crt").utf8)
        var plain = ClientConfig(server: server.url, caPEM: ca)
        plain.retry = .none
        await #expect { try await KubeClient(config: plain).serverVersion() } throws: { e in
            if case .transport(let t) = e as! KubeError { return t.kind == .tls } else { return false }
        }
        let named = KubeClient(config: ClientConfig(server: server.url, caPEM: ca, tlsServerName: "api.internal"))
        #expect(try await named.serverVersion()["gitVersion"] != nil)
    }

    @Test func tokenAuthAndClusterCheckFailures() async throws {
        var o = TestAPIServerOptions()
        o.tokens = ["good-SECRET": UserInfo(name: "bob", groups: ["devs"])]
        let server = try TestAPIServer.start(o)
        defer { server.stop() }
        let good = client(server, token: "good-SECRET")
        #expect(try await good.list(GroupVersionKind(apiVersion: "v1", kind: "Namespace")).items.count >= 4)

        let bad = await client(server, token: "bad-SECRET").check()
        #expect(!bad.ok)
        let serverStep = try #require(bad.steps.first { $0.name == "server" })
        #expect(!serverStep.ok && serverStep.detail.contains("unauthorized"))
        #expect(!bad.steps.map(\.detail).joined().contains("SECRET"))

        server.authorize = { $0.resource != "namespaces" }
        let forbidden = await good.check()
        #expect(!forbidden.ok)
        #expect(forbidden.steps.last?.name == "list namespaces")
        #expect(forbidden.steps.last?.detail.contains("forbidden") == true)

        var down = ClientConfig(server: "https://127.0.0.1:\(closedPort())")
        down.retry = Self.fastRetry
        let unreachable = await KubeClient(config: down).check()
        #expect(!unreachable.ok)
        #expect(unreachable.steps.last?.detail.contains("connection refused") == true)
    }

    // MARK: API

    @Test func serverSideApplyConflictsForceAndDryRun() async throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let c = client(server)
        let cm: Value = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "demo", "namespace": "default"],
                         "data": ["a": "1", "flag": "y"]]
        let created = try await c.apply(cm, fieldManager: "pattern")
        #expect(created[path: ["data", "flag"]]?.string == "y")  // JSON body: no YAML 1.1 booleans
        let rv = created[path: ["metadata", "resourceVersion"]]?.string
        let again = try await c.apply(cm, fieldManager: "pattern")
        #expect(again[path: ["metadata", "resourceVersion"]]?.string == rv)

        // Another manager takes .data.a with a merge patch.
        _ = try await c.patch(Self.configMap, name: "demo", patch: ["data": ["a": "2"]], type: .merge, fieldManager: "kubectl-edit")
        do {
            _ = try await c.apply(cm, fieldManager: "pattern")
            Issue.record("expected a conflict")
        } catch {
            guard case .conflict(_, let conflicts) = error else { Issue.record("\(error)"); return }
            #expect(conflicts.map(\.manager) == ["kubectl-edit"])
            #expect(conflicts.map(\.field) == [".data.a"])
        }
        // dryRun does not persist; force takes ownership back.
        var changed = cm
        changed[path: ["data", "b"]] = "new"
        let dry = try await c.apply(changed, fieldManager: "pattern", force: true, dryRun: true)
        #expect(dry[path: ["data", "b"]]?.string == "new")
        #expect(try await c.get(Self.configMap, name: "demo")[path: ["data", "b"]] == nil)
        let forced = try await c.apply(cm, fieldManager: "pattern", force: true)
        #expect(forced[path: ["data", "a"]]?.string == "1")
        #expect(server.requestLog.entries.last?.contentType == "application/apply-patch+yaml")
    }

    @Test func createUpdateDeleteAndTheirErrors() async throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let c = client(server)
        let cm: Value = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "crud"], "data": ["k": "v"]]
        var created = try await c.create(cm, fieldManager: "test")
        #expect(created.metadataNamespace == "default")
        await #expect { try await c.create(cm) } throws: { e in
            if case .alreadyExists = e as! KubeError { return true } else { return false }
        }
        created[path: ["data", "k"]] = "v2"
        let updated = try await c.update(created)
        #expect(updated[path: ["data", "k"]]?.string == "v2")
        // Stale resourceVersion.
        await #expect { try await c.update(created) } throws: { e in
            if case .conflict(_, let conflicts) = e as! KubeError { return conflicts.isEmpty } else { return false }
        }
        // Invalid name.
        var bad = cm
        bad[path: ["metadata", "name"]] = "Bad_Name"
        await #expect { try await c.apply(bad, fieldManager: "pattern") } throws: { e in
            if case .invalid(_, let causes) = e as! KubeError { return causes.first?.field == "metadata.name" } else { return false }
        }
        try await c.delete(Self.configMap, name: "crud", propagationPolicy: .background)
        #expect(try await c.getIfPresent(Self.configMap, name: "crud") == nil)
        await #expect { try await c.get(Self.configMap, name: "crud") } throws: { e in (e as! KubeError).isNotFound }
        await #expect { try await c.delete(Self.configMap, name: "crud") } throws: { e in (e as! KubeError).isNotFound }
    }

    @Test func listWithSelectorsAndPagination() async throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let c = client(server)
        for i in 0..<5 {
            _ = try await c.apply(["apiVersion": "v1", "kind": "ConfigMap",
                                   "metadata": ["name": .string("item\(i)"), "labels": ["owner": i < 4 ? "pattern" : "other", "idx": .string("\(i)")]]],
                                  fieldManager: "pattern")
        }
        let list = try await c.list(Self.configMap, namespace: "default", labelSelector: "owner=pattern", pageSize: 2)
        #expect(list.items.compactMap(\.metadataName) == ["item0", "item1", "item2", "item3"])
        #expect(!list.resourceVersion.isEmpty)
        let pages = server.requestLog.entries.filter { $0.verb == "list" && $0.resource == "configmaps" }
        #expect(pages.count == 2)
        let set = try await c.list(Self.configMap, namespace: nil, labelSelector: "idx in (1,3),owner")
        #expect(set.items.compactMap(\.metadataName) == ["item1", "item3"])
    }

    /// Aggregated discovery: `/api` and `/apis` once give every kind and preferred version;
    /// no request per group version follows.
    @Test func discoveryReadsEveryGroupAtOnceWhenTheServerAggregatesIt() async throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let c = client(server)
        let deployment = GroupVersionKind(apiVersion: "apps/v1", kind: "Deployment")
        let kinds = [deployment, Self.configMap, GroupVersionKind(apiVersion: "batch/v1", kind: "Job"),
                     GroupVersionKind(apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole")]
        for k in kinds { _ = try await c.resource(for: k) }
        let r = try await c.resource(for: deployment)
        #expect(r.name == "deployments" && r.namespaced && r.verbs.contains("list"))
        #expect(try await c.resource(for: kinds[3]).namespaced == false)
        #expect(await c.discoveredPreferredVersion(ofGroup: "apps") == "v1")
        let discovery = server.requestLog.entries.map(\.path).filter { $0 == "/api" || $0 == "/apis" || $0.hasPrefix("/api/") || $0.hasPrefix("/apis/") }
        #expect(discovery.sorted() == ["/api", "/apis"], "\(discovery)")
    }

    /// A server without aggregated discovery: one group version at a time, as before.
    @Test func discoveryFallsBackToOneGroupVersionAtATime() async throws {
        var o = TestAPIServerOptions()
        o.aggregatedDiscovery = false
        let server = try TestAPIServer.start(o)
        defer { server.stop() }
        let c = client(server)
        let r = try await c.resource(for: GroupVersionKind(apiVersion: "apps/v1", kind: "Deployment"))
        #expect(r.name == "deployments" && r.namespaced)
        #expect(await c.discoveredPreferredVersion(ofGroup: "apps") == nil)
        #expect(server.requestLog.entries.contains { $0.path == "/apis/apps/v1" })
    }

    @Test func discoveryFindsACRDAppliedAMomentAgo() async throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let c = client(server)
        let widget = GroupVersionKind(apiVersion: "example.com/v1", kind: "Widget")
        await #expect { try await c.resource(for: widget) } throws: { e in
            if case .unknownKind = e as! KubeError { return true } else { return false }
        }
        let crd: Value = [
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": ["name": "widgets.example.com"],
            "spec": ["group": "example.com", "scope": "Namespaced",
                     "names": ["plural": "widgets", "singular": "widget", "kind": "Widget"],
                     "versions": [["name": "v1", "served": true, "storage": true,
                                   "schema": ["openAPIV3Schema": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]]]]],
        ]
        _ = try await c.apply(crd, fieldManager: "pattern")
        try await Task.sleep(nanoseconds: 300_000_000)  // past the discovery refetch rate limit
        var found: APIResource? = nil
        for _ in 0..<20 where found == nil {
            found = try? await c.resource(for: widget)
            if found == nil { try await Task.sleep(nanoseconds: 300_000_000) }
        }
        let r = try #require(found)
        #expect(r.name == "widgets" && r.namespaced)
        let w = try await c.apply(["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "w1"], "spec": ["size": 3]],
                                  fieldManager: "pattern")
        #expect(w[path: ["spec", "size"]]?.int == 3)
    }

    @Test func watchDeliversChangesAndRelistsAfterCompaction() async throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let c = client(server)
        _ = try await c.apply(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "w0"], "data": ["i": "0"]], fieldManager: "pattern")
        var seen: [String] = []
        var listedCount = 0
        for try await e in c.watchWithRelist(Self.configMap, namespace: "default") {
            switch e {
            case .listed(let l):
                listedCount += 1
                seen.append("listed:\(l.items.compactMap(\.metadataName).sorted().joined(separator: ","))")
                if listedCount == 1 {
                    _ = try await c.apply(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "w0"], "data": ["i": "1"]], fieldManager: "pattern")
                }
            case .event(let ev):
                guard ev.type != .bookmark else { continue }
                seen.append("\(ev.type.rawValue):\(ev.object.metadataName ?? "")")
                if seen.count == 2 {
                    _ = try await c.apply(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "w1"]], fieldManager: "pattern")
                }
                if seen.count == 3 {
                    // Outage: the watch is cut; meanwhile w2 is written and the history compacted,
                    // so the reconnect from the last seen resourceVersion gets 410 → relist.
                    server.stop()
                    _ = try server.store.seed(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "w2", "namespace": "default"]])
                    server.store.compactHistory()
                    try server.restart()
                }
            }
            if listedCount == 2 { break }
        }
        #expect(seen == ["listed:w0", "MODIFIED:w0", "ADDED:w1", "listed:w0,w1,w2"])
    }

    // MARK: Retries against the server's fault injector

    @Test func retriesInjectedFaultsButNotACutPOST() async throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let c = client(server)
        _ = try await c.resource(for: Self.configMap)  // discovery out of the way
        server.faults.add(FaultRule(method: "GET", pathContains: "/configmaps", times: 1, action: .tooManyRequests(retryAfter: 1)))
        server.faults.add(FaultRule(method: "GET", pathContains: "/configmaps", times: 2, action: .serviceUnavailable(retryAfter: 0)))
        let start = monotonicNow()
        _ = try await c.list(Self.configMap, namespace: "default")
        #expect(monotonicNow() - start >= 0.95)
        #expect(server.requestLog.entries.filter { $0.method == "GET" && $0.path.hasSuffix("/configmaps") }.count == 4)

        server.faults.add(FaultRule(method: "POST", times: 1, action: .dropConnection))
        await #expect { try await c.create(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "once"]]) } throws: { e in
            if case .transport(let t) = e as! KubeError { return t.kind == .connectionLost } else { return false }
        }
        #expect(server.requestLog.entries.filter { $0.method == "POST" }.count == 1)
        #expect(try await c.getIfPresent(Self.configMap, name: "once") == nil)

        // A GET whose answer is cut mid-body is retried.
        server.faults.add(FaultRule(method: "GET", pathContains: "/configmaps/", times: 1, action: .cutConnection(afterBytes: 10)))
        _ = try await c.apply(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "cut"]], fieldManager: "pattern")
        #expect(try await c.get(Self.configMap, name: "cut").metadataName == "cut")
    }

    // MARK: More end-to-end paths

    @Test func execPluginFromAKubeconfigWithARelativeCommand() async throws {
        var o = TestAPIServerOptions()
        o.tokens = ["exec-SECRET-1": UserInfo(name: "carol")]
        let server = try TestAPIServer.start(o)
        defer { server.stop() }
        let tmp = try TempDir(); defer { tmp.cleanup() }
        try FileManager.default.createDirectory(atPath: tmp.file("bin"), withIntermediateDirectories: true)
        try tmp.write("bin/cred", """
        #!/bin/sh
        echo run >> "$(dirname "$0")/runs"
        echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-SECRET-1"}}'
        """, executable: true)
        try tmp.write("config", """
        apiVersion: v1
        kind: Config
        current-context: e
        clusters: [{name: c, cluster: {server: "\(server.url)"}}]
        users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: ./bin/cred}}}]
        contexts: [{name: e, context: {cluster: c, user: u}}]
        """)
        let c = try KubeClient(kubeconfig: tmp.file("config"))
        async let a = c.serverVersion()
        async let b = c.list(GroupVersionKind(apiVersion: "v1", kind: "Namespace"))
        _ = try await (a, b)
        _ = try await c.serverVersion()
        // Concurrent first requests share one plugin run; no expiry → cached.
        #expect(try String(contentsOfFile: tmp.file("bin/runs"), encoding: .utf8) == "run\n")
        #expect(server.requestLog.entries.allSatisfy { $0.user == "carol" })
    }

    @Test func rotatedTokenFileIsReReadAfter401() async throws {
        var o = TestAPIServerOptions()
        o.tokens = ["new-SECRET": UserInfo(name: "sa")]
        let server = try TestAPIServer.start(o)
        defer { server.stop() }
        let tmp = try TempDir(); defer { tmp.cleanup() }
        try tmp.write("token", "old-SECRET\n")
        var auth = ClientConfig.Auth()
        auth.tokenFile = tmp.file("token")
        var cfg = ClientConfig(server: server.url, auth: auth)
        cfg.retry = Self.fastRetry
        let c = KubeClient(config: cfg)
        await #expect { try await c.serverVersion() } throws: { e in
            if case .unauthorized = e as! KubeError { return !"\(e)".contains("SECRET") } else { return false }
        }
        // Rotate without changing the mtime: only the 401 path can notice.
        var st = stat()
        stat(tmp.file("token"), &st)
        try tmp.write("token", "new-SECRET\n")
        var times = [st.st_mtim, st.st_mtim]
        utimensat(AT_FDCWD, tmp.file("token"), &times, 0)
        #expect(try await c.serverVersion()["gitVersion"] != nil)
    }

    @Test func rawWatchFromATooOldResourceVersionThrowsGone() async throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let c = client(server)
        _ = try await c.apply(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "x"]], fieldManager: "pattern")
        server.store.compactHistory()
        _ = try await c.apply(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "y"]], fieldManager: "pattern")
        await #expect {
            for try await _ in c.watch(Self.configMap, namespace: "default", resourceVersion: "1") {}
        } throws: { e in (e as? KubeError)?.isGone == true }
    }

    @Test func manyConcurrentRequestsShareTheLoop() async throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let c = client(server)
        try await withThrowingTaskGroup(of: Void.self) { g in
            for i in 0..<48 {
                g.addTask {
                    _ = try await c.apply(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string("p\(i)")], "data": ["i": .string("\(i)")]],
                                          fieldManager: "pattern")
                }
            }
            try await g.waitForAll()
        }
        #expect(try await c.list(Self.configMap, namespace: "default").items.count == 48)
    }

    @Test func cancellingARequestReturnsPromptly() async throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let c = client(server)
        server.faults.add(FaultRule(pathContains: "/version", times: 1, action: .delay(5)))
        let start = monotonicNow()
        let task = Task { try await c.serverVersion() }
        try await Task.sleep(nanoseconds: 100_000_000)
        task.cancel()
        await #expect { try await task.value } throws: { e in
            if case .cancelled = e as! KubeError { return true } else { return false }
        }
        #expect(monotonicNow() - start < 2)
    }

    @Test func foregroundDeleteReturnsTheObjectWhileFinalizersRun() async throws {
        var o = TestAPIServerOptions()
        o.foregroundDeletionDelay = 0.2
        let server = try TestAPIServer.start(o)
        defer { server.stop() }
        let c = client(server)
        _ = try await c.apply(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "fg"]], fieldManager: "pattern")
        let answer = try await c.delete(Self.configMap, name: "fg", propagationPolicy: .foreground)
        #expect(answer.kindName == "ConfigMap")
        #expect(answer[path: ["metadata", "deletionTimestamp"]] != nil)
        #expect((answer[path: ["metadata", "finalizers"]]?.array ?? []).contains("foregroundDeletion"))
        #expect(server.requestLog.entries.last { $0.method == "DELETE" } != nil)
        var gone = false
        for _ in 0..<20 where !gone {
            gone = try await c.getIfPresent(Self.configMap, name: "fg") == nil
            if !gone { try await Task.sleep(nanoseconds: 100_000_000) }
        }
        #expect(gone)
    }

    @Test func requestTimeoutIsATransportTimeout() async throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        server.faults.add(FaultRule(pathContains: "/version", times: 1, action: .delay(2)))
        var cfg = ClientConfig(server: server.url)
        cfg.requestTimeout = 0.3
        cfg.retry = .none
        let start = monotonicNow()
        await #expect { try await KubeClient(config: cfg).serverVersion() } throws: { e in
            if case .transport(let t) = e as! KubeError { return t.kind == .timeout && t.message.contains("timed out") } else { return false }
        }
        #expect(monotonicNow() - start < 1.5)
    }

    @Test func execPluginCanReturnAClientCertificate() async throws {
        let pki = try #require(OpenSSLPKI.shared)
        let server = try tlsServer(pki)
        defer { server.stop() }
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let credential: Value = ["apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                                 "status": ["clientCertificateData": .string(pki.read("client.crt")),
                                            "clientKeyData": .string(pki.read("client.key"))]]
        try tmp.write("cred.json", JSONWriter.string(credential))
        try tmp.write("plugin.sh", "#!/bin/sh\ncat '\(tmp.file("cred.json"))'\n", executable: true)
        var auth = ClientConfig.Auth()
        auth.exec = KubeConfig.ExecConfig(command: tmp.file("plugin.sh"))
        let c = KubeClient(config: ClientConfig(server: server.url, caPEM: Array(pki.read("ca.crt").utf8), auth: auth))
        _ = try await c.list(GroupVersionKind(apiVersion: "v1", kind: "Namespace"))
        #expect(server.requestLog.entries.allSatisfy { $0.user == "alice" })
    }
}
