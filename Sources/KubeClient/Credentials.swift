import FoundationEssentials
import Glibc
import Dispatch
import PatternCore

/// What one request authenticates with. Never printed.
struct RequestCredentials: Sendable {
    var authorization: String?
    var clientCertPEM: [UInt8]?
    var clientKeyPEM: [UInt8]?
}

/// A bearer token read from a file (`tokenFile`, the in-cluster service-account token),
/// re-read when the file's modification time changes or at least every `maxAge` seconds, so
/// rotated bound tokens are picked up.
final class TokenFileSource: @unchecked Sendable {
    let path: String
    let maxAge: Double
    private let lock = Lock()
    private var token: String?
    private var mtime: timespec = timespec()
    private var readAt: Double = 0

    init(path: String, maxAge: Double = 60) { self.path = path; self.maxAge = maxAge }

    func current(force: Bool = false) throws(KubeError) -> String {
        try lock.withLock { () throws(KubeError) -> String in try read(force: force) }
    }

    /// `current` with the lock held.
    private func read(force: Bool) throws(KubeError) -> String {
        var st = stat()
        let statOK = stat(path, &st) == 0
        let now = monotonicNow()
        if !force, let token, statOK, st.st_mtim.tv_sec == mtime.tv_sec, st.st_mtim.tv_nsec == mtime.tv_nsec,
           now - readAt < maxAge {
            return token
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .configuration("cannot read token file \(path)")
        }
        let t = String(decoding: data, as: UTF8.self).trimming(.whitespacesAndNewlines)
        guard !t.isEmpty else { throw .configuration("token file \(path) is empty") }
        token = t
        if statOK { mtime = st.st_mtim }
        readAt = now
        return t
    }
}

func monotonicNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func wallNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// An ExecCredential's status.
struct ExecCredential: Sendable {
    var token: String?
    var clientCertPEM: [UInt8]?
    var clientKeyPEM: [UInt8]?
    /// Seconds since the epoch; nil when the credential does not expire.
    var expiry: Double?
}

/// Runs an `exec` credential plugin and caches its credential until `expirationTimestamp`
/// (or until the server answers 401). Concurrent callers share one run of the plugin.
actor ExecCredentialProvider {
    let config: KubeConfig.ExecConfig
    let clusterInfo: Value
    private var cached: ExecCredential?
    private var running: Task<ExecCredential, any Error>?

    init(config: KubeConfig.ExecConfig, server: String, caPEM: [UInt8]?, insecure: Bool) {
        self.config = config
        var cluster: Value = ["server": .string(server)]
        if let caPEM { cluster["certificate-authority-data"] = .string(Data(caPEM).base64EncodedString()) }
        if insecure { cluster["insecure-skip-tls-verify"] = true }
        clusterInfo = cluster
    }

    func credential(refresh: Bool) async throws(KubeError) -> ExecCredential {
        if !refresh, let cached, cached.expiry.map({ $0 > wallNow() + 10 }) ?? true { return cached }
        if refresh { cached = nil }
        let task: Task<ExecCredential, any Error>
        if let running { task = running } else {
            let config = self.config, clusterInfo = self.clusterInfo
            task = Task.detached { try await Self.run(config, clusterInfo: clusterInfo) }
            running = task
        }
        do {
            let c = try await task.value
            running = nil
            cached = c
            return c
        } catch {
            running = nil
            throw (error as? KubeError) ?? .configuration("exec plugin \(config.command): \(error)")
        }
    }

    private static func run(_ config: KubeConfig.ExecConfig, clusterInfo: Value) async throws -> ExecCredential {
        var info: Value = ["apiVersion": .string(config.apiVersion), "kind": "ExecCredential",
                           "spec": ["interactive": false]]
        if config.provideClusterInfo { info[path: ["spec", "cluster"]] = clusterInfo }
        var env = ProcessInfo.processInfo.environment
        for e in config.env { env[e.name] = e.value }
        env["KUBERNETES_EXEC_INFO"] = JSONWriter.string(info)

        guard let executable = findExecutable(config.command, path: env["PATH"] ?? "/usr/bin:/bin") else {
            var m = "exec plugin \(config.command) not found"
            if let hint = config.installHint { m += "; \(hint)" }
            throw KubeError.configuration(m)
        }
        let (status, out, err) = try await runProcess(executable, args: config.args, env: env)
        guard status == 0 else {
            let e = String(decoding: err.prefix(2000), as: UTF8.self).trimming(.whitespacesAndNewlines)
            throw KubeError.configuration("exec plugin \(config.command) failed with exit status \(status)\(e.isEmpty ? "" : ": \(e)")")
        }
        return try parse(out, config: config)
    }

    /// Parses the plugin's stdout. Errors never quote the output (it holds the credential).
    static func parse(_ out: [UInt8], config: KubeConfig.ExecConfig) throws(KubeError) -> ExecCredential {
        let v: Value
        do { v = try JSONParser.parse(out, file: "exec plugin output") } catch {
            throw .configuration("exec plugin \(config.command) printed something that is not an ExecCredential (invalid JSON)")
        }
        guard v.kindName == "ExecCredential" else {
            throw .configuration("exec plugin \(config.command) printed a \(v.kindName ?? "value without kind"), expected kind ExecCredential")
        }
        if let api = v.apiVersion, api != config.apiVersion {
            throw .configuration("exec plugin \(config.command) answered \(api), but the kubeconfig asks for \(config.apiVersion)")
        }
        guard let status = v["status"]?.object else {
            throw .configuration("exec plugin \(config.command) printed an ExecCredential without status")
        }
        var c = ExecCredential()
        c.token = status["token"]?.string.flatMap { $0.isEmpty ? nil : $0 }
        c.clientCertPEM = status["clientCertificateData"]?.string.map { Array($0.utf8) }
        c.clientKeyPEM = status["clientKeyData"]?.string.map { Array($0.utf8) }
        if c.token == nil && (c.clientCertPEM == nil || c.clientKeyPEM == nil) {
            throw .configuration("exec plugin \(config.command) returned neither a token nor a client certificate and key")
        }
        if let ts = status["expirationTimestamp"]?.string {
            guard let t = parseRFC3339(ts) else {
                throw .configuration("exec plugin \(config.command) returned an unreadable expirationTimestamp \(ts)")
            }
            c.expiry = t
        }
        return c
    }

    static func findExecutable(_ command: String, path: String) -> String? {
        if command.contains("/") { return FileManager.default.isExecutableFile(atPath: command) ? command : nil }
        for dir in path.split(separator: ":") {
            let p = "\(dir)/\(command)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// Runs a process off the cooperative pool; returns exit status, stdout and stderr.
    /// `Subprocess` (posix_spawn), not Foundation's `Process`: a hub holds many connections
    /// open, and `Process.run` reads past a buffer when many descriptors are open (see
    /// PatternCore's Subprocess).
    static func runProcess(_ executable: String, args: [String], env: [String: String]) async throws -> (Int32, [UInt8], [UInt8]) {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<(Int32, [UInt8], [UInt8]), any Error>) in
            DispatchQueue.global().async {
                do {
                    let o = try Subprocess.run(executable, args, environment: env, maxOutputBytes: 16 << 20)
                    c.resume(returning: (o.status, o.stdout, o.stderr))
                } catch {
                    c.resume(throwing: KubeError.configuration("cannot run exec plugin \(executable): \(error)"))
                }
            }
        }
    }
}

/// Seconds since the epoch of an RFC 3339 timestamp (`2026-11-21T19:29:39Z`,
/// `2026-11-21T19:29:39.5+01:00`).
func parseRFC3339(_ s: String) -> Double? {
    let b = Array(s.utf8)
    func num(_ i: Int, _ n: Int) -> Int? {
        guard i + n <= b.count else { return nil }
        var v = 0
        for k in i..<(i + n) { guard b[k] >= 48 && b[k] <= 57 else { return nil }; v = v * 10 + Int(b[k] - 48) }
        return v
    }
    guard b.count >= 20, let y = num(0, 4), b[4] == 45, let mo = num(5, 2), b[7] == 45, let d = num(8, 2),
          b[10] == 84 || b[10] == 116 || b[10] == 32, let h = num(11, 2), b[13] == 58, let mi = num(14, 2),
          b[16] == 58, let sec = num(17, 2) else { return nil }
    var i = 19
    var frac = 0.0
    if i < b.count, b[i] == 46 {
        i += 1
        var scale = 0.1
        while i < b.count, b[i] >= 48, b[i] <= 57 { frac += Double(b[i] - 48) * scale; scale /= 10; i += 1 }
    }
    guard i < b.count else { return nil }
    var offset = 0
    if b[i] == 90 || b[i] == 122 { i += 1 } else if b[i] == 43 || b[i] == 45 {
        guard let oh = num(i + 1, 2), b.count > i + 3, b[i + 3] == 58, let om = num(i + 4, 2) else { return nil }
        offset = (oh * 3600 + om * 60) * (b[i] == 43 ? 1 : -1)
        i += 6
    } else { return nil }
    guard i == b.count else { return nil }
    // Days from civil (Howard Hinnant's algorithm).
    let yy = mo <= 2 ? y - 1 : y
    let era = (yy >= 0 ? yy : yy - 399) / 400
    let yoe = yy - era * 400
    let doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    let days = era * 146097 + doe - 719468
    return Double(days * 86400 + h * 3600 + mi * 60 + sec - offset) + frac
}

/// Produces the credentials of each request from a `ClientConfig.Auth`.
final class Authenticator: Sendable {
    let auth: ClientConfig.Auth
    let tokenFile: TokenFileSource?
    let exec: ExecCredentialProvider?

    init(config: ClientConfig) {
        auth = config.auth
        tokenFile = (config.auth.token == nil) ? config.auth.tokenFile.map { TokenFileSource(path: $0) } : nil
        exec = (config.auth.token == nil && config.auth.tokenFile == nil)
            ? config.auth.exec.map { ExecCredentialProvider(config: $0, server: config.server, caPEM: config.caPEM,
                                                            insecure: config.insecureSkipTLSVerify) }
            : nil
    }

    /// Whether a 401 might be cured by fetching the credentials again.
    var canRefresh: Bool { tokenFile != nil || exec != nil }

    func credentials(refresh: Bool) async throws(KubeError) -> RequestCredentials {
        var c = RequestCredentials(clientCertPEM: auth.clientCertPEM, clientKeyPEM: auth.clientKeyPEM)
        if let token = auth.token {
            c.authorization = "Bearer " + token
        } else if let tokenFile {
            c.authorization = "Bearer " + (try tokenFile.current(force: refresh))
        } else if let exec {
            let e = try await exec.credential(refresh: refresh)
            if let t = e.token { c.authorization = "Bearer " + t }
            if let cert = e.clientCertPEM, let key = e.clientKeyPEM { c.clientCertPEM = cert; c.clientKeyPEM = key }
        } else if let u = auth.username, let p = auth.password {
            c.authorization = "Basic " + Data("\(u):\(p)".utf8).base64EncodedString()
        }
        return c
    }
}
