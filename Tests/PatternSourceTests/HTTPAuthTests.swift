import Foundation
import Testing
@testable import PatternSource
import PatternCore
#if canImport(Glibc)
import Glibc
#endif

/// Smart HTTP with Basic auth (`git http-backend` behind Tests/Fixtures/git/smart-http.py) on
/// 127.0.0.1: credentials from an env var, a file and the URL reach the server; wrong ones
/// are an authentication error after a bounded number of attempts; none of them leak.
final class SmartHTTPServer {
    let process: Subprocess.Child
    let port: Int
    let root: String

    init(root: String, user: String, password: String, tls: (cert: String, key: String)? = nil) throws {
        self.root = root
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/git/smart-http.py").path
        // The server prints its port on the first line of standard output (a file here).
        let portFile = root + "/port.out"
        process = try Subprocess.spawn("/usr/bin/env", ["python3", script, root, user, password] + (tls.map { [$0.cert, $0.key] } ?? []),
                                       stdout: .file(portFile))
        var line = ""
        let deadline = Date().addingTimeInterval(30)
        while !line.hasSuffix("\n") && Date() < deadline && process.isRunning {
            line = (try? String(contentsOfFile: portFile, encoding: .utf8)) ?? ""
            if !line.hasSuffix("\n") { usleep(10_000) }
        }
        guard let p = Int(line.split(separator: "\n").first ?? "") else {
            process.kill(SIGKILL); process.wait()
            throw CommandFailed(description: "smart-http server did not start")
        }
        port = p
    }

    var scheme = "http"
    func url(_ repo: String) -> String { "\(scheme)://127.0.0.1:\(port)/\(repo)" }
    var rejections: Int { ((try? String(contentsOfFile: root + "/unauthorized.log", encoding: .utf8)) ?? "").split(separator: "\n").count }
    func stop() { process.kill(SIGKILL); process.wait() }
    deinit { stop() }
}

@Suite(.serialized) struct HTTPAuthTests {
    @Test func tokenFromEnvFileAndURLAuthenticateAndWrongTokenFailsCleanly() throws {
        let tmp = TempDir()
        let work = try WorkRepo(at: tmp.sub("work"), files: ["p.yaml": "x: 1\n"])
        try FileManager.default.createDirectory(atPath: tmp.sub("srv"), withIntermediateDirectories: true)
        try git(["clone", "-q", "--bare", work.path, tmp.sub("srv/p.git")], in: tmp.path)
        let server = try SmartHTTPServer(root: tmp.sub("srv"), user: "deploy", password: "RIGHT-tok-7781")
        defer { server.stop() }
        let head = try work.head()

        let env = SourceEnvironment(["PATTERN_TEST_HTTP_TOKEN": "RIGHT-tok-7781", "PATTERN_TEST_WRONG_TOKEN": "WRONG-tok-4242"])

        // Anonymous: authentication error, not a hang.
        let anon = #expect(throws: SourceError.self) {
            try SourceResolver(cache: SourceCache(directory: tmp.sub("c0")), requireFresh: true).resolve(GitSource(url: server.url("p.git")))
        }
        #expect(anon?.message.contains("failed") == true)

        // Env var.
        let r1 = try SourceResolver(cache: SourceCache(directory: tmp.sub("c1")), environment: env).resolve(
            GitSource(url: server.url("p.git"), ref: "main", credentials: GitCredentials(username: "deploy", tokenEnv: "PATTERN_TEST_HTTP_TOKEN")))
        #expect(r1.commit == head)

        // File.
        try writeFile(tmp.sub("token"), "RIGHT-tok-7781\n")
        let r2 = try SourceResolver(cache: SourceCache(directory: tmp.sub("c2"))).resolve(
            GitSource(url: server.url("p.git"), ref: "main", credentials: GitCredentials(username: "deploy", tokenFile: tmp.sub("token"))))
        #expect(r2.commit == head)

        // In the URL: works, and the cache, result and fork config never hold it.
        let secretURL = "http://deploy:RIGHT-tok-7781@127.0.0.1:\(server.port)/p.git"
        let r3 = try SourceResolver(cache: SourceCache(directory: tmp.sub("c3"))).resolve(GitSource(url: secretURL, ref: "main"))
        #expect(r3.commit == head)
        #expect(!r3.provenance.contains("RIGHT-tok"))
        let fork = try Fork.create(upstream: secretURL, into: tmp.sub("fork"))
        #expect(!fork.upstreamURL.contains("RIGHT-tok"))
        let config = try readText(tmp.sub("fork/.git/config"))
        #expect(!config.contains("RIGHT-tok") && config.contains("url = http://127.0.0.1:\(server.port)/p.git"))
        // update authenticates through the credential options, the remote URL has none.
        #expect(try Fork.update(directory: tmp.sub("fork"),
                                credentials: GitCredentials(username: "deploy", tokenEnv: "PATTERN_TEST_HTTP_TOKEN"),
                                environment: env).outcome == .upToDate)
        for f in try FileManager.default.subpathsOfDirectory(atPath: tmp.sub("c3")) {
            if let d = FileManager.default.contents(atPath: tmp.sub("c3/") + f) {
                #expect(!String(decoding: d, as: UTF8.self).contains("RIGHT-tok"), "token in cache file \(f)")
            }
        }

        // Wrong token: bounded retries (libgit2 re-asks after each 401), authentication error, no leak.
        let before = server.rejections
        let e = #expect(throws: SourceError.self) {
            try SourceResolver(cache: SourceCache(directory: tmp.sub("c4")), requireFresh: true, environment: env).resolve(
                GitSource(url: server.url("p.git"), credentials: GitCredentials(username: "deploy", tokenEnv: "PATTERN_TEST_WRONG_TOKEN")))
        }
        #expect(e?.message.contains("rejected") == true || e?.message.contains("authentication") == true)
        #expect(!(e?.description.contains("WRONG-tok") ?? true))
        let attempts = server.rejections - before
        #expect(attempts >= 1 && attempts <= 4, "server saw \(attempts) rejected requests")
    }
}

/// HTTPS through libgit2's mbedTLS with a self-signed certificate: rejected by default,
/// accepted with `caBundle`, and the default trust store is back afterwards.
@Suite(.serialized) struct HTTPSTests {
    @Test func customCABundleIsUsedForHTTPS() throws {
        let tmp = TempDir()
        let work = try WorkRepo(at: tmp.sub("work"), files: ["p.yaml": "x: 1\n"])
        try FileManager.default.createDirectory(atPath: tmp.sub("srv"), withIntermediateDirectories: true)
        try git(["clone", "-q", "--bare", work.path, tmp.sub("srv/p.git")], in: tmp.path)
        let openssl = try runTool("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                                                       "-addext", "subjectAltName=DNS:127.0.0.1,IP:127.0.0.1",
                                                       "-keyout", tmp.sub("key.pem"), "-out", tmp.sub("cert.pem")])
        try #require(openssl.succeeded)
        let server = try SmartHTTPServer(root: tmp.sub("srv"), user: "deploy", password: "tls-TOKEN-55",
                                         tls: (tmp.sub("cert.pem"), tmp.sub("key.pem")))
        server.scheme = "https"
        defer { server.stop() }
        let env = SourceEnvironment(["PATTERN_TEST_TLS_TOKEN": "tls-TOKEN-55"])
        let creds = GitCredentials(username: "deploy", tokenEnv: "PATTERN_TEST_TLS_TOKEN")

        // Untrusted certificate: refused.
        let e = #expect(throws: SourceError.self) {
            try SourceResolver(cache: SourceCache(directory: tmp.sub("c1")), requireFresh: true, environment: env)
                .resolve(GitSource(url: server.url("p.git"), credentials: creds))
        }
        #expect(e.map { !$0.description.contains("tls-TOKEN") } == true)
        #expect(e?.message.lowercased().contains("certificate") == true, "\(String(describing: e))")

        // Trusted through the bundle.
        var withCA = creds
        withCA.caBundle = tmp.sub("cert.pem")
        let r = try SourceResolver(cache: SourceCache(directory: tmp.sub("c2")), environment: env)
            .resolve(GitSource(url: server.url("p.git"), ref: "main", credentials: withCA))
        #expect(r.commit == (try work.head()))

        // The bundle was only for that fetch.
        #expect(throws: SourceError.self) {
            try SourceResolver(cache: SourceCache(directory: tmp.sub("c3")), requireFresh: true, environment: env)
                .resolve(GitSource(url: server.url("p.git"), credentials: creds))
        }
    }
}
