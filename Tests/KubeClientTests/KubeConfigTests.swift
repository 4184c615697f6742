import Foundation
import Testing
import PatternCore
@testable import KubeClient

@Suite struct KubeConfigTests {
    let first = Fixtures.path("kubeconfig/first.yaml")
    let second = Fixtures.path("kubeconfig/second.yaml")
    let relative = Fixtures.path("kubeconfig/sub/relative.yaml")

    @Test func mergesKUBECONFIGFirstFileWinsPerName() throws {
        let env = ["KUBECONFIG": "\(first):/nonexistent/skipped.yaml:\(second)", "HOME": "/nonexistent"]
        let c = try ClientConfig.load(environment: env)
        // current-context from the first file that sets it.
        #expect(c.contextName == "dev")
        // cluster "shared" from the first file, relative CA path resolved against its directory.
        #expect(c.server == "https://first.example:6443")
        #expect(String(decoding: c.caPEM ?? [], as: UTF8.self).contains("fixture-ca"))
        #expect(c.tlsServerName == "api.first.internal")
        #expect(c.auth.token == "first-token-SECRET")
        #expect(c.namespace == "dev-ns")

        // Context defined in both: the first file's definition wins.
        let shared = try ClientConfig.load(context: "shared-ctx", environment: env)
        #expect(shared.server == "https://first-only.example:6443")
        #expect(shared.insecureSkipTLSVerify)
        #expect(shared.namespace == "default")
        #expect(shared.auth.tokenFile == Fixtures.path("kubeconfig/tokens/token"))

        // Names only the second file defines are merged in.
        let prod = try ClientConfig.load(context: "prod", environment: env)
        #expect(prod.server == "https://second-only.example:6443")
        #expect(String(decoding: prod.caPEM ?? [], as: UTF8.self).contains("fixture-ca-data"))
        #expect(String(decoding: prod.auth.clientKeyPEM ?? [], as: UTF8.self).contains("PRIVATE KEY"))
    }

    @Test func reversedOrderFlipsTheWinner() throws {
        let env = ["KUBECONFIG": "\(second):\(first)"]
        let c = try ClientConfig.load(environment: env)
        #expect(c.contextName == "prod")
        let merged = try KubeConfig.load(files: [second, first])
        #expect(merged.clusters["shared"]?.server == "https://second.example:6443")
        #expect(merged.users["shared-user"]?.token == "second-token-SECRET")
        #expect(merged.contexts["shared-ctx"]?.namespace == "loses")
        #expect(merged.files == [second, first])
    }

    @Test func explicitKubeconfigBeatsEnvironmentAndNamespaceFlagBeatsContext() throws {
        let env = ["KUBECONFIG": first]
        let c = try ClientConfig.load(kubeconfig: second, namespace: "override", environment: env)
        #expect(c.contextName == "prod")
        #expect(c.namespace == "override")
        #expect(throws: KubeError.self) { try ClientConfig.load(kubeconfig: "/nonexistent/kubeconfig", environment: env) }
    }

    @Test func homeKubeConfigIsTheFallback() throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        try FileManager.default.createDirectory(atPath: tmp.file(".kube"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: second, toPath: tmp.file(".kube/config"))
        let c = try ClientConfig.load(environment: ["HOME": tmp.path])
        #expect(c.contextName == "prod")
        #expect(c.source.contains(".kube/config"))
    }

    @Test func relativePathsResolveAgainstTheFilesDirectory() throws {
        let cfg = try KubeConfig.load(file: relative)
        let dir = Fixtures.path("kubeconfig/sub")
        #expect(cfg.clusters["rel"]?.certificateAuthority == dir + "/../certs/ca.pem")
        #expect(cfg.users["rel-user"]?.clientCertificate == dir + "/../certs/client.pem")
        let exec = try #require(cfg.users["exec-user"]?.exec)
        #expect(exec.command == dir + "/./bin/credential-plugin")
        #expect(exec.apiVersion == "client.authentication.k8s.io/v1beta1")
        #expect(exec.args == ["--cluster", "rel"])
        #expect(exec.env.first?.name == "PLUGIN_MODE")
        // A bare command name stays a PATH lookup.
        #expect(cfg.users["path-exec-user"]?.exec?.command == "aws")

        let c = try ClientConfig.resolve(cfg)
        #expect(String(decoding: c.auth.clientCertPEM ?? [], as: UTF8.self).contains("fixture-client"))
        #expect(String(decoding: c.auth.clientKeyPEM ?? [], as: UTF8.self).contains("fixture-key"))
        let e = try ClientConfig.resolve(cfg, context: "exec")
        #expect(e.namespace == "team-a")
        #expect(e.auth.exec != nil)
    }

    @Test func clearErrorsForMissingPieces() throws {
        let cfg = try KubeConfig.load(files: [first])
        #expect {
            try ClientConfig.resolve(cfg, context: "nope")
        } throws: { e in
            "\(e)".contains("context \"nope\" not found") && "\(e)".contains("dev")
        }
        #expect(throws: KubeError.self) { try ClientConfig.load(environment: ["KUBECONFIG": "/nonexistent/a:/nonexistent/b"]) }
        #expect {
            try ClientConfig.load(environment: ["HOME": "/nonexistent"])
        } throws: { e in "\(e)".contains("no kubeconfig found") }
        #expect(throws: KubeError.self) { try KubeConfig.parse("clusters: 3\n", path: "bad.yaml") }
        #expect(throws: KubeError.self) { try KubeConfig.parse("clusters:\n- name: x\n  cluster: {}\n", path: "bad.yaml") }
    }

    @Test func secretsDoNotAppearInDescriptions() throws {
        let cfg = try KubeConfig.load(files: [first, second])
        let user = try #require(cfg.users["shared-user"])
        #expect(!"\(user)".contains("SECRET"))
        var dumped = ""
        dump(user, to: &dumped)
        #expect(!dumped.contains("SECRET"))
        let c = try ClientConfig.resolve(cfg)
        #expect(!"\(c)".contains("SECRET"))
        var dumpedConfig = ""
        dump(c.auth, to: &dumpedConfig)
        #expect(!dumpedConfig.contains("SECRET"))
    }

    @Test func inClusterReadsServiceAccountFiles() throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        try tmp.write("token", "sa-token-SECRET\n")
        try tmp.write("ca.crt", "-----BEGIN CERTIFICATE-----\nsa\n-----END CERTIFICATE-----\n")
        try tmp.write("namespace", "pattern-system\n")
        let env = ["KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"]
        let c = try ClientConfig.load(environment: env, serviceAccountDirectory: tmp.path)
        #expect(c.server == "https://10.0.0.1:443")
        #expect(c.namespace == "pattern-system")
        #expect(c.auth.tokenFile == tmp.file("token"))
        #expect(c.caPEM != nil)
        let v6 = try ClientConfig.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "6443"],
                                            directory: tmp.path)
        #expect(v6.server == "https://[fd00::1]:6443")
        #expect(throws: KubeError.self) { try ClientConfig.inCluster(environment: [:], directory: tmp.path) }
    }

    @Test func tokenFileIsReReadWhenItRotates() throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        try tmp.write("token", "one\n")
        let src = TokenFileSource(path: tmp.file("token"))
        #expect(try src.current() == "one")
        try tmp.write("token", "two\n")
        // Force a different mtime even on coarse file systems.
        var times = [timespec(tv_sec: 1_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000, tv_nsec: 0)]
        utimensat(AT_FDCWD, tmp.file("token"), &times, 0)
        #expect(try src.current() == "two")
        // maxAge 0: re-read on every call even without an mtime change.
        let eager = TokenFileSource(path: tmp.file("token"), maxAge: 0)
        #expect(try eager.current() == "two")
    }
}

@Suite struct ParsingTests {
    @Test func rfc3339() {
        #expect(parseRFC3339("1970-01-01T00:00:00Z") == 0)
        #expect(parseRFC3339("2026-11-21T19:29:39Z") == 1795289379)
        #expect(parseRFC3339("2026-11-21T20:29:39+01:00") == 1795289379)
        #expect(parseRFC3339("2026-11-21T19:29:39.5Z") == 1795289379.5)
        #expect(parseRFC3339("yesterday") == nil)
    }

    @Test func percentEncoding() {
        #expect(percentEncode("idx in (1,3),owner") == "idx%20in%20%281%2C3%29%2Cowner")
        #expect(percentEncode("a-b_c.d~e") == "a-b_c.d~e")
    }

    @Test func execCredentialParsing() throws {
        let cfg = KubeConfig.ExecConfig(apiVersion: "client.authentication.k8s.io/v1", command: "x")
        let ok = #"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"tok-SECRET","expirationTimestamp":"2030-01-01T00:00:00Z"}}"#
        let c = try ExecCredentialProvider.parse(Array(ok.utf8), config: cfg)
        #expect(c.token == "tok-SECRET")
        #expect(c.expiry == parseRFC3339("2030-01-01T00:00:00Z"))
        let wrongVersion = #"{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"tok-SECRET"}}"#
        #expect {
            try ExecCredentialProvider.parse(Array(wrongVersion.utf8), config: cfg)
        } throws: { e in !"\(e)".contains("tok-SECRET") && "\(e)".contains("v1beta1") }
        #expect {
            try ExecCredentialProvider.parse(Array("token=tok-SECRET".utf8), config: cfg)
        } throws: { e in !"\(e)".contains("tok-SECRET") }
    }

    @Test func hostPortAndTLSServerName() {
        #expect(KubeClient.hostPort("https://127.0.0.1:6443")! == ("127.0.0.1", 6443))
        #expect(KubeClient.hostPort("https://k8s.example/prefix")! == ("k8s.example", 443))
        #expect(KubeClient.hostPort("https://[::1]:8443")! == ("[::1]", 8443))
        let client = KubeClient(config: ClientConfig(server: "https://127.0.0.1:6443", tlsServerName: "api.internal"))
        let req = client.httpRequest("GET", client.url("/api", []), body: nil, contentType: nil,
                                     credentials: RequestCredentials(authorization: nil), timeout: 1)
        #expect(req.url == "https://api.internal:6443/api")
        #expect(req.connectTo == "api.internal:6443:127.0.0.1:6443")
    }
}
