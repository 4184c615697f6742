// pattern-test-apiserver: runs the KubeTestServer model for benchmarks and manual use
// (kubectl --kubeconfig …). See Docs/test-api-server.md.
import Foundation
import KubeTestServer

let usage = """
usage: pattern-test-apiserver [--port N] [--host ADDR]
                              [--tls-cert FILE --tls-key FILE [--client-ca FILE] [--require-client-cert]]
                              [--token TOKEN[=USER]]... [--simulate-controllers] [--controller-delay SECONDS]
                              [--latency SECONDS]
                              [--kubeconfig-out PATH] [--tls-self-signed DIR]
                              [--clusters N [--cluster-prefix P]] [--cluster NAME]...

Runs an in-memory Kubernetes API server model (discovery, CRUD, server-side apply, watch)
on 127.0.0.1 and prints its URL. --tls-self-signed DIR writes a CA, server and client
certificate into DIR and serves HTTPS with them (the kubeconfig then uses the client cert).
--latency SECONDS delays every answer by that much: a remote API server's round trip.

--clusters N (names P1…PN, P defaults to "cluster-", zero-padded: cluster-001 …) and
--cluster NAME serve many independent clusters from this one process, each under
URL/clusters/NAME with its own objects; --kubeconfig-out then writes one context per
cluster, named as the cluster. Example (100 clusters for a fleet benchmark):

  pattern-test-apiserver --clusters 100 --kubeconfig-out ./fleet.kubeconfig
"""

var options = TestAPIServerOptions()
var kubeconfigOut: String? = nil
var selfSignedDir: String? = nil
var firstToken: String? = nil
var clusterNames: [String] = []
var clusterCount = 0
var clusterPrefix = "cluster-"
let args = Array(CommandLine.arguments.dropFirst())

func fail(_ msg: String) -> Never {
    FileHandle.standardError.write(Data("pattern-test-apiserver: \(msg)\n\n\(usage)\n".utf8))
    exit(2)
}

func readFile(_ path: String) -> String {
    guard let s = try? String(contentsOfFile: path, encoding: .utf8) else { fail("cannot read \(path)") }
    return s
}

func value(_ i: inout Int, _ args: [String]) -> String {
    i += 1
    guard i < args.count else { fail("\(args[i - 1]) needs a value") }
    return args[i]
}

var i = 0
while i < args.count {
    switch args[i] {
    case "--port": guard let p = Int(value(&i, args)) else { fail("--port needs a number") }; options.port = p
    case "--host": options.host = value(&i, args)
    case "--tls-cert": options.tlsCertPEM = readFile(value(&i, args))
    case "--tls-key": options.tlsKeyPEM = readFile(value(&i, args))
    case "--client-ca": options.clientCAPEM = readFile(value(&i, args))
    case "--require-client-cert": options.requireClientCert = true
    case "--token":
        let t = value(&i, args)
        let parts = t.split(separator: "=", maxSplits: 1).map(String.init)
        options.tokens[parts[0]] = UserInfo(name: parts.count > 1 ? parts[1] : "admin", groups: ["system:masters"])
        if firstToken == nil { firstToken = parts[0] }
    case "--simulate-controllers": options.simulateControllers = true
    case "--controller-delay": guard let d = Double(value(&i, args)) else { fail("--controller-delay needs seconds") }; options.controllerDelay = d
    case "--latency": guard let d = Double(value(&i, args)), d >= 0 else { fail("--latency needs seconds") }; options.latency = d
    case "--kubeconfig-out": kubeconfigOut = value(&i, args)
    case "--tls-self-signed": selfSignedDir = value(&i, args)
    case "--clusters":
        guard let n = Int(value(&i, args)), n >= 1, n <= TestAPIFleetServer.maxClusters else {
            fail("--clusters needs a number from 1 to \(TestAPIFleetServer.maxClusters)")
        }
        clusterCount = n
    case "--cluster-prefix": clusterPrefix = value(&i, args)
    case "--cluster": clusterNames.append(value(&i, args))
    case "-h", "--help": print(usage); exit(0)
    default: fail("unknown argument \(args[i])")
    }
    i += 1
}

/// Writes a credential file (kubeconfig with a token or client key, private keys) readable by
/// its owner only, checked at every step: a failure stops the server with the reason.
func writePrivate(_ path: String, _ text: String) {
    let bytes = Array(text.utf8)
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
    guard fd >= 0 else { fail("cannot write \(path): \(String(cString: strerror(errno)))") }
    guard fchmod(fd, 0o600) == 0 else { fail("cannot restrict \(path) to its owner: \(String(cString: strerror(errno)))") }
    var off = 0
    while off < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + off, bytes.count - off) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { fail("cannot write \(path): \(String(cString: strerror(errno)))") }
        off += n
    }
    guard close(fd) == 0 else { fail("cannot write \(path): \(String(cString: strerror(errno)))") }
}

var pki: TestPKI? = nil
if let dir = selfSignedDir {
    guard let p = TestPKI.generate(clientCommonName: "admin", clientOrganization: "system:masters") else { fail("could not generate certificates") }
    pki = p
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    for (name, text) in [("ca.crt", p.caCertPEM), ("server.crt", p.serverCertPEM), ("server.key", p.serverKeyPEM),
                         ("client.crt", p.clientCertPEM), ("client.key", p.clientKeyPEM)] {
        writePrivate("\(dir)/\(name)", text)
    }
    options.tlsCertPEM = p.serverCertPEM
    options.tlsKeyPEM = p.serverKeyPEM
    options.clientCAPEM = p.caCertPEM
}
if (options.tlsCertPEM == nil) != (options.tlsKeyPEM == nil) { fail("--tls-cert and --tls-key go together") }

// Signals first: a SIGTERM that arrives right after the URL is printed must stop the server
// (ignoring it before the dispatch sources exist would lose it). The sources run on a global
// queue so they fire before dispatchMain() too.
signal(SIGPIPE, SIG_IGN)
let stopSignal = DispatchSemaphore(value: 0)
for sig in [SIGINT, SIGTERM] {
    signal(sig, SIG_IGN)
    let src = DispatchSource.makeSignalSource(signal: sig, queue: .global())
    src.setEventHandler { stopSignal.signal() }
    src.resume()
    _ = Unmanaged.passRetained(src as AnyObject)
}

/// Writes the kubeconfig (when asked), prints the URL, and serves until SIGINT/SIGTERM.
@MainActor func serve(url: String, kubeconfig: @autoclosure () -> String, stop: @escaping @Sendable () -> Void) -> Never {
    if let path = kubeconfigOut { writePrivate(path, kubeconfig()) }
    FileHandle.standardOutput.write(Data((url + "\n").utf8))
    FileHandle.standardOutput.synchronizeFile()
    DispatchQueue.global().async {
        stopSignal.wait()
        stop()
        exit(0)
    }
    dispatchMain()
}

if clusterCount > 0 || !clusterNames.isEmpty {
    let width = String(clusterCount).count < 3 ? 3 : String(clusterCount).count
    var names = clusterNames
    if clusterCount > 0 {
        for n in 1...clusterCount {
            let digits = String(n)
            names.append(clusterPrefix + String(repeating: "0", count: width - digits.count) + digits)
        }
    }
    let fleet: TestAPIFleetServer
    do { fleet = try TestAPIFleetServer.start(clusters: names, options: options) } catch { fail("\(error)") }
    serve(url: fleet.url, kubeconfig: fleet.kubeconfig(token: firstToken, caPEM: pki?.caCertPEM, clientCertPEM: pki?.clientCertPEM,
                                                       clientKeyPEM: pki?.clientKeyPEM), stop: fleet.stop)
}

let server: TestAPIServer
do {
    server = try TestAPIServer.start(options)
} catch {
    fail("\(error)")
}
serve(url: server.url, kubeconfig: server.kubeconfig(token: firstToken, caPEM: pki?.caCertPEM, clientCertPEM: pki?.clientCertPEM,
                                                     clientKeyPEM: pki?.clientKeyPEM), stop: server.stop)
