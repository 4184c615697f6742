import CGit2
#if canImport(Glibc)
import Glibc
#endif
import PatternCore

/// Where the credentials for remote access come from. Values are read when a fetch starts,
/// kept only for that call (in a C struct wiped on free), and scrubbed from every message.
///
/// - http(s): a password or token from an environment variable (`tokenEnv`), from a file
///   (`tokenFile`, first line), or from the URL's userinfo (discouraged); the user name from
///   `username`, the URL, or `git`.
/// - ssh: a private key file (`sshKey`, optional `sshPublicKey`, passphrase from
///   `sshPassphraseEnv`); the user name from the URL (`git@host:…`) or `username`.
/// - A custom CA bundle for https (`caBundle`, a PEM file).
public struct GitCredentials: Sendable, Hashable {
    public var username: String?
    public var tokenEnv: String?
    public var tokenFile: String?
    public var sshKey: String?
    public var sshPublicKey: String?
    public var sshPassphraseEnv: String?
    public var caBundle: String?

    public init(username: String? = nil, tokenEnv: String? = nil, tokenFile: String? = nil,
                sshKey: String? = nil, sshPublicKey: String? = nil, sshPassphraseEnv: String? = nil,
                caBundle: String? = nil) {
        self.username = username
        self.tokenEnv = tokenEnv
        self.tokenFile = tokenFile
        self.sshKey = sshKey
        self.sshPublicKey = sshPublicKey
        self.sshPassphraseEnv = sshPassphraseEnv
        self.caBundle = caBundle
    }

    public static let none = GitCredentials()

    /// Reads the configured secret values. Throws when a configured source is missing, so a
    /// typo in a variable name is an error rather than a silent anonymous fetch.
    func materialize(for url: GitURL, environment: SourceEnvironment = .process) throws(SourceError) -> Materialized {
        var token: String? = nil
        if let tokenEnv {
            guard let v = environment[tokenEnv] else {
                throw SourceError(.authentication, "credential environment variable '\(tokenEnv)' is not set or empty",
                                  fix: "export \(tokenEnv)=<token>, or remove the token setting")
            }
            token = v
        } else if let tokenFile {
            guard let bytes = FS.readFile(tokenFile) else {
                throw SourceError(.authentication, "cannot read credential file '\(tokenFile)'",
                                  fix: "check the path and its permissions")
            }
            let text = String(decoding: bytes, as: UTF8.self)
            token = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).first.map(String.init)?.trimmingSpaces()
        }
        var passphrase: String? = nil
        if let sshPassphraseEnv { passphrase = environment[sshPassphraseEnv] }
        if let sshKey, !FS.exists(sshKey) {
            throw SourceError(.authentication, "ssh key file '\(sshKey)' does not exist", fix: "check the key path")
        }
        var user = username ?? url.username
        var password = token ?? url.password
        if password == nil, (url.scheme == .http || url.scheme == .https), let u = url.username, username == nil {
            // https://TOKEN@host: the user name is the token.
            password = u
            user = "git"
        }
        return Materialized(username: user, password: password, sshKey: sshKey, sshPublicKey: sshPublicKey,
                            passphrase: passphrase)
    }

    struct Materialized {
        var username: String?
        var password: String?
        var sshKey: String?
        var sshPublicKey: String?
        var passphrase: String?

        var secrets: [String] { [password, passphrase].compactMap { $0 } }

        /// Runs `body` with a C credential payload that lives for the whole call.
        func withPayload<T, E: Error>(_ body: (UnsafeMutablePointer<cgit2_credentials>?) throws(E) -> T) throws(E) -> T {
            let c = cgit2_credentials_new(username, password, sshKey, sshPublicKey, passphrase)
            defer { cgit2_credentials_free(c) }
            return try body(c)
        }
    }
}

/// Where `tokenEnv` / `sshPassphraseEnv` (and chart `tokenEnv`/`passwordEnv`) variables are
/// read: the process environment by default, or a fixed map. Tests and embedders inject a
/// map instead of mutating the process environment (`setenv` is not thread-safe while other
/// threads read the environment).
public struct SourceEnvironment: Sendable {
    private let values: [String: String]?

    /// The process environment (read with `getenv` at fetch time).
    public static let process = SourceEnvironment(values: nil)

    /// A fixed set of variables; nothing else is visible.
    public init(_ values: [String: String]) { self.values = values }

    private init(values: [String: String]?) { self.values = values }

    /// The variable's value, nil when unset or empty.
    public subscript(name: String) -> String? {
        guard let values else { return FS.env(name) }
        guard let v = values[name], !v.isEmpty else { return nil }
        return v
    }
}

/// Serializes network operations in this process: libgit2's CA location is a process-wide
/// option, so a fetch with a custom CA bundle must not overlap another fetch.
/// Connect and low-speed deadlines for every network transport (git, http, https, ssh),
/// enforced by the shim's socket stream (libgit2 1.5 has none of its own). A silent mirror
/// (accepts the connection, never answers) fails after `lowSpeedTime` and the next URL is
/// tried.
public struct NetworkDeadlines: Sendable, Hashable {
    /// Seconds to wait for a TCP connection to one address.
    public var connectTimeout: Double
    /// Seconds without enough progress after which a transfer fails.
    public var lowSpeedTime: Double
    /// Bytes per second a transfer must average over each `lowSpeedTime` window.
    public var lowSpeedLimit: Int

    public init(connectTimeout: Double = 15, lowSpeedTime: Double = 30, lowSpeedLimit: Int = 1) {
        self.connectTimeout = connectTimeout
        self.lowSpeedTime = lowSpeedTime
        self.lowSpeedLimit = lowSpeedLimit
    }

    public static let `default` = NetworkDeadlines()
}

enum Network {
    static let lock = Lock()
    static let defaultCABundle = "/etc/ssl/certs/ca-certificates.crt"

    /// Runs one network operation with `caBundle` (checked: readable PEM) and `deadlines`.
    /// Operations are serialized: both settings are process-wide in libgit2.
    static func with<T>(caBundle: String?, deadlines: NetworkDeadlines = .default,
                        _ body: () throws(SourceError) -> T) throws(SourceError) -> T {
        if let caBundle { try checkCABundle(caBundle) }
        return try lock.withLock { () throws(SourceError) -> T in
            cgit2_set_deadlines(Int32(clamping: Int(deadlines.connectTimeout * 1000)),
                                Int32(clamping: Int(deadlines.lowSpeedTime * 1000)), Int32(clamping: deadlines.lowSpeedLimit))
            if let caBundle, cgit2_opt_set_ssl_cert_locations(caBundle, nil) < 0 {
                let e = Git.error(-1, "cannot read CA bundle '\(caBundle)'", kind: .invalidSource)
                throw SourceError(.invalidSource, e.message, fix: "point caBundle/--ca-bundle at a PEM file of CA certificates")
            }
            defer {
                if caBundle != nil, FS.exists(defaultCABundle) { _ = cgit2_opt_set_ssl_cert_locations(defaultCABundle, nil) }
            }
            return try body()
        }
    }

    /// A CA bundle must be a readable file holding at least one PEM certificate; anything
    /// else used to be ignored silently (and the system roots used instead).
    static func checkCABundle(_ path: String) throws(SourceError) {
        guard let bytes = FS.readFile(path) else {
            throw SourceError(.invalidSource, "cannot read CA bundle '\(path)': \(String(cString: strerror(errno)))",
                              fix: "point caBundle/--ca-bundle at a readable PEM file of CA certificates")
        }
        let marker = Array("-----BEGIN CERTIFICATE-----".utf8)
        let found = bytes.count >= marker.count && (0...(bytes.count - marker.count)).contains { i in
            bytes[i] == marker[0] && bytes[i..<(i + marker.count)].elementsEqual(marker)
        }
        if !found {
            throw SourceError(.invalidSource, "cannot read CA bundle '\(path)': no PEM certificate ('-----BEGIN CERTIFICATE-----') in it",
                              fix: "convert it to PEM (openssl x509 -inform der -in ca.der -out ca.pem) or point at the right file")
        }
    }
}
