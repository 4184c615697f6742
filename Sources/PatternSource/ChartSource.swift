#if canImport(Glibc)
import Glibc
#endif
import HelmTemplate
import PatternCore

/// Credentials for a chart repository; only names of where secrets live, never the secrets.
/// Basic auth: `username` + `passwordEnv`/`passwordFile`. Bearer: `tokenEnv`/`tokenFile`.
/// Sent only to the repository's own host (an index that points archives at another host
/// gets no credentials there, as Helm's default `passCredentialsAll: false`).
public struct ChartCredentials: Sendable, Hashable {
    public var username: String?
    public var passwordEnv: String?
    public var passwordFile: String?
    public var tokenEnv: String?
    public var tokenFile: String?
    /// Extra trust for https (PEM file).
    public var caBundle: String?

    public init(username: String? = nil, passwordEnv: String? = nil, passwordFile: String? = nil,
                tokenEnv: String? = nil, tokenFile: String? = nil, caBundle: String? = nil) {
        self.username = username; self.passwordEnv = passwordEnv; self.passwordFile = passwordFile
        self.tokenEnv = tokenEnv; self.tokenFile = tokenFile; self.caBundle = caBundle
    }

    public static let none = ChartCredentials()

    static let keys = ["username", "passwordEnv", "passwordFile", "tokenEnv", "tokenFile", "caBundle"]

    /// (basic auth, bearer token, secrets to scrub). A configured but missing source is an error.
    func materialize(_ env: SourceEnvironment) throws(SourceError) -> (basic: (String, String)?, token: String?, secrets: [String]) {
        func secret(_ envName: String?, _ file: String?, what: String) throws(SourceError) -> String? {
            if let envName {
                guard let v = env[envName] else {
                    throw SourceError(.authentication, "credential environment variable '\(envName)' is not set or empty",
                                      fix: "export \(envName)=<\(what)>, or remove the setting")
                }
                return v
            }
            if let file {
                guard let bytes = FS.readFile(file) else {
                    throw SourceError(.authentication, "cannot read credential file '\(file)'", fix: "check the path and its permissions")
                }
                return String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == "\n" || $0 == "\r" }).first.map(String.init)?.trimmingSpaces()
            }
            return nil
        }
        let password = try secret(passwordEnv, passwordFile, what: "password")
        let token = try secret(tokenEnv, tokenFile, what: "token")
        var basic: (String, String)? = nil
        if let password { basic = (username ?? "", password) }
        return (basic, token, [password, token].compactMap { $0 })
    }
}

/// A chart in a chart repository (`index.yaml` over HTTP(S)):
/// `chart: {repo: https://charts.example.com, name: redis, version: "0.9.*"}`, or in an OCI
/// registry: `urls` are `oci://host[:port]/path/chart` (then `name` is the path's last
/// component and `digest` pins the manifest, as `helm pull oci://…@sha256:…` does).
public struct ChartReference: Sendable, Hashable {
    /// The repository URL (the directory holding `index.yaml`), then mirrors tried in order.
    public var urls: [String]
    public var name: String
    /// An exact version (`1.2.3`) or a Masterminds semver constraint (`0.9.*`, `~1.2`,
    /// `>=1.0 <2`); nil or empty = the highest version without a prerelease.
    public var version: String?
    /// `sha256:<hex>`: the archive's content is pinned; with it cached, no network is used.
    public var digest: String?
    public var credentials: ChartCredentials
    /// OCI only: talk plain HTTP to the registry (`helm --plain-http`), e.g. a registry on loopback.
    public var plainHTTP: Bool

    public init(repo: String, mirrors: [String] = [], name: String, version: String? = nil, digest: String? = nil,
                credentials: ChartCredentials = .none, plainHTTP: Bool = false) {
        self.urls = [repo] + mirrors
        self.name = name
        self.version = version
        self.digest = digest
        self.credentials = credentials
        self.plainHTTP = plainHTTP
    }

    /// A chart in an OCI registry: `oci://host[:port]/path/chart`; `digest` pins the manifest.
    public init(oci: String, mirrors: [String] = [], version: String? = nil, digest: String? = nil,
                credentials: ChartCredentials = .none, plainHTTP: Bool = false) {
        var name = oci
        while name.hasSuffix("/") { name.removeLast() }
        self.init(repo: oci, mirrors: mirrors, name: String(name.split(separator: "/").last ?? ""), version: version, digest: digest,
                  credentials: credentials, plainHTTP: plainHTTP)
    }

    /// True when the chart comes from an OCI registry.
    public var isOCI: Bool { OCIChartURL.isOCI(urls.first ?? "") }
}

/// A chart archive in the cache.
public struct ResolvedChart: Sendable {
    /// Absolute path of the `.tgz` inside the cache (content-addressed, never modified).
    public var archivePath: String
    public var name: String
    public var version: String
    /// `sha256:<hex>` of the archive.
    public var digest: String
    /// The archive URL it came from, redacted (for a cached result: the repository URL).
    public var url: String
    /// True when no repository URL answered and the last good version was used.
    public var stale: Bool
    public var warnings: [Diagnostic]
    /// OCI only: `sha256:<hex>` of the image manifest (what `chart.digest` pins).
    public var manifestDigest: String? = nil
    /// The archive's bytes (nil when the cache file is gone).
    public func readArchive() -> [UInt8]? { FS.readFile(archivePath) }
    /// `url@sha256:…` (+ ` (stale)`), for output annotations and ledgers.
    public var provenance: String { "\(url)@\(digest)" + (stale ? " (stale)" : "") }
}

/// Resolves chart references to archives in the source cache, with the git sources'
/// rules: pinned content needs no network, mirrors are tried in order, the last good version
/// is used (stale, loudly) when every URL fails, `offline` never touches the network, and
/// content that does not match its digest is refused with nothing cached.
///
/// Cache layout (under `SourceCache.directory`):
/// ```
/// charts/blobs/sha256/<hex>.tgz                       archives, by content digest
/// charts/repos/<32 hex of sha256(normalized repo URL)>/index.yaml   last index served
/// charts/repos/<…>/versions                           "<name> <version> sha256:<hex>" first seen
/// charts/repos/<…>/last-good/<16 hex of sha256(name@constraint)>   "<version> sha256:<hex>"
/// charts/repos/<…>.lock                               flock(2), held while resolving
/// ```
public struct ChartSourceResolver: Sendable {
    /// The shared settings: cache directory, `requireFresh`, `offline`, deadlines and the
    /// credential environment, exactly as for git sources.
    public var settings: SourceResolver
    var cache: SourceCache { settings.cache }
    var requireFresh: Bool { settings.requireFresh }
    var offline: Bool { settings.offline }
    var deadlines: NetworkDeadlines { settings.deadlines }
    var environment: SourceEnvironment { settings.environment }

    /// Index documents larger than this are refused.
    public static let maxIndexBytes = 64 << 20
    /// Archives larger than this are refused.
    public static let maxArchiveBytes = 32 << 20

    /// Uses the same settings as `settings` (one cache for git sources and charts).
    public init(settings: SourceResolver) { self.settings = settings }

    public init(cache: SourceCache = .default, requireFresh: Bool = false, offline: Bool = false,
                deadlines: NetworkDeadlines = .default, environment: SourceEnvironment = .process) {
        self.init(settings: SourceResolver(cache: cache, requireFresh: requireFresh, offline: offline, deadlines: deadlines, environment: environment))
    }

    var blobDirectory: String { cache.directory + "/charts/blobs/sha256" }

    /// A chart reference's `version`, as chart repositories and OCI registries both read it:
    /// the trimmed text, its constraint (nil when empty), and whether it names one exact
    /// version (then it is looked up directly and treated as immutable once seen).
    static func versionRequest(_ version: String?) throws(SourceError) -> (text: String, constraint: SemverConstraint?, exact: Bool) {
        let text = (version ?? "").trimmingSpaces()
        var constraint: SemverConstraint? = nil
        if !text.isEmpty {
            do { constraint = try SemverConstraint(text) } catch {
                throw SourceError(.invalidSource, "chart version '\(text)' is neither a version nor a constraint: \(error.message)",
                                  fix: "use an exact version (1.2.3) or a constraint such as 0.9.*, ~1.2 or \">=1.0 <2\"")
            }
        }
        let exact = (try? SemanticVersion(text)) != nil && text.allSatisfy { $0.isNumber || $0 == "." || $0.isLetter || $0 == "-" || $0 == "+" }
        return (text, constraint, exact)
    }

    public func resolve(_ ref: ChartReference) throws(SourceError) -> ResolvedChart {
        guard let primary = ref.urls.first else { throw SourceError(.invalidSource, "chart reference has no repository URL") }
        if ref.isOCI { return try resolveOCI(ref) }
        for u in ref.urls where !(u.hasPrefix("https://") || u.hasPrefix("http://")) {
            throw SourceError(.invalidSource, "chart repository URL '\(Redactor.redactURLs(in: u))' is not http(s)",
                              fix: "use https://… (the directory that holds index.yaml), or oci://… for an OCI registry")
        }
        guard !ref.name.isEmpty, !ref.name.contains("/"), ref.name != "..", ref.name != "." else {
            throw SourceError(.invalidSource, "chart name '\(ref.name)' is not a chart name", fix: "use the name as listed in the repository's index.yaml")
        }
        let pinnedDigest = try ref.digest.map { (d) throws(SourceError) -> String in try Self.checkDigest(d) }
        let (constraintText, constraint, exact) = try Self.versionRequest(ref.version)
        let normalized = Self.normalize(primary)
        let repoDir = cache.directory + "/charts/repos/" + String(SHA256.hex(normalized).prefix(32))
        try FS.mkdirs(repoDir + "/last-good")
        try FS.mkdirs(blobDirectory)
        let lock = try FileLock(path: repoDir + ".lock")
        defer { lock.unlock() }
        let lastGoodPath = repoDir + "/last-good/" + String(SHA256.hex(ref.name + "@" + constraintText).prefix(16))
        var versions = Self.readVersions(repoDir + "/versions")
        let shownRepo = Redactor.redactURLs(in: primary)

        // 1. Pinned content already cached: no network.
        if let pinnedDigest, let r = cachedBlob(pinnedDigest, name: ref.name, version: versions.first { $0.name == ref.name && $0.digest == pinnedDigest }?.version ?? constraintText, url: shownRepo) {
            return r
        }
        // 2. An exact version seen before: chart versions are immutable, use the cached archive.
        if exact, pinnedDigest == nil, let v = versions.first(where: { $0.name == ref.name && $0.version == constraintText }),
           let r = cachedBlob(v.digest, name: ref.name, version: v.version, url: shownRepo) {
            return r
        }

        var warnings: [Diagnostic] = []
        var failures: [String] = []
        if !offline {
            let creds = try ref.credentials.materialize(environment)
            let redactor = Redactor(secrets: creds.secrets)
            for (i, base) in ref.urls.enumerated() {
                let indexURL = Self.join(base, "index.yaml")
                let index: Value
                do throws(SourceError) {
                    index = try fetchIndex(indexURL, creds: creds, caBundle: ref.credentials.caBundle, redactor: redactor)
                } catch {
                    failures.append(redactor(error.message))
                    warnings.append(Diagnostic(.warning, at: nil, "chart repository URL \(i + 1) of \(ref.urls.count) failed: \(redactor(error.message))"))
                    continue
                }
                // The URL answered: what it says is authoritative (no stale fallback from here on).
                let entry = try select(index, ref: ref, constraint: constraint, constraintText: constraintText, url: Redactor.redactURLs(in: indexURL))
                var digest = entry.digest
                if let pinnedDigest, let d = digest, d != pinnedDigest {
                    throw SourceError(.integrity, "\(Redactor.redactURLs(in: indexURL)) lists \(ref.name) \(entry.version) with digest \(d), not the pinned \(pinnedDigest)",
                                      fix: "if the chart was republished on purpose, update the pinned digest; otherwise do not use this repository")
                }
                digest = digest ?? pinnedDigest
                if let seen = versions.first(where: { $0.name == ref.name && $0.version == entry.version }), let d = digest, seen.digest != d {
                    throw SourceError(.integrity, "\(Redactor.redactURLs(in: indexURL)) changed \(ref.name) \(entry.version): digest \(seen.digest) when first seen, now \(d); chart versions are immutable, so the cache was left unchanged",
                                      fix: "if the chart was republished on purpose, pin the new digest (chart.digest) or remove '\(repoDir)'")
                }
                let archiveURL = Self.resolveURL(entry.url, against: indexURL)
                let sameHost = Self.host(archiveURL) == Self.host(indexURL)
                var blob: String
                if let d = digest, FS.exists(blobDirectory + "/" + d.dropFirst(7) + ".tgz") {
                    blob = String(d.dropFirst(7))
                } else {
                    let bytes: [UInt8]
                    do throws(SourceError) {
                        bytes = try download(archiveURL, creds: sameHost ? creds : (nil, nil, []), caBundle: ref.credentials.caBundle, redactor: redactor)
                    } catch {
                        failures.append(redactor(error.message))
                        warnings.append(Diagnostic(.warning, at: nil, "chart repository URL \(i + 1) of \(ref.urls.count) failed: \(redactor(error.message))"))
                        continue
                    }
                    let actual = "sha256:" + SHA256.hex(bytes)
                    if let d = digest, d != actual {
                        throw SourceError(.integrity, "\(Redactor.redactURLs(in: archiveURL)) does not match its digest: the index (or pin) says \(d), the archive is \(actual); nothing was cached",
                                          fix: "the archive was tampered with or corrupted in transit; check the repository and its mirrors")
                    }
                    if digest == nil {
                        warnings.append(Diagnostic(.warning, at: nil, "\(Redactor.redactURLs(in: indexURL)) lists no digest for \(ref.name) \(entry.version); recorded \(actual) as first seen"))
                    }
                    digest = actual
                    blob = String(actual.dropFirst(7))
                    try Self.writeAtomically(blobDirectory + "/" + blob + ".tgz", bytes)
                }
                let d = "sha256:" + blob
                try Self.writeAtomically(repoDir + "/index.yaml", Array(JSONWriter.string(index, options: .init(indent: 0, sortKeys: false)).utf8))
                if !versions.contains(where: { $0.name == ref.name && $0.version == entry.version }) {
                    versions.append((ref.name, entry.version, d))
                    try Self.writeAtomically(repoDir + "/versions", Array(versions.map { "\($0.name) \($0.version) \($0.digest)\n" }.joined().utf8))
                }
                try Self.writeAtomically(lastGoodPath, Array("\(entry.version) \(d)\n".utf8))
                if i > 0 {
                    warnings.append(Diagnostic(.warning, at: nil, "used mirror \(Redactor.redactURLs(in: base)) because \(i == 1 ? "the primary URL" : "\(i) earlier URLs") failed",
                                               fix: "check \(shownRepo)"))
                }
                return ResolvedChart(archivePath: blobDirectory + "/" + blob + ".tgz", name: ref.name, version: entry.version, digest: d,
                                     url: Redactor.redactURLs(in: archiveURL), stale: false, warnings: warnings)
            }
        }

        let why = offline ? "offline mode" : "every URL failed (\(failures.joined(separator: "; ")))"
        if requireFresh {
            throw SourceError(.noUsableSource, "cannot fetch chart \(ref.name) '\(constraintText)' from \(shownRepo): \(why); a fresh index is required",
                              fix: "restore access to the repository or a mirror, or drop the fresh requirement to use the cached version")
        }
        // Offline with a cached index: select from it (the same answer as the last fetch gave).
        let lastGood = FS.readFile(lastGoodPath).map { String(decoding: $0, as: UTF8.self) }?.split(separator: " ")
        guard let lastGood, lastGood.count == 2,
              let r = cachedBlob(String(lastGood[1]).trimmingSpaces(), name: ref.name, version: String(lastGood[0]), url: shownRepo) else {
            throw SourceError(.noUsableSource, "cannot fetch chart \(ref.name) '\(constraintText)' from \(shownRepo) and no cached version exists: \(why)",
                              fix: offline ? "run once online to fill the cache, or pin a version that is cached" : "check the URL, network and credentials; add a reachable mirror")
        }
        var stale = r
        stale.stale = true
        stale.warnings = warnings + [Diagnostic(.warning, at: nil,
            "USING STALE CHART: \(why); rendering \(ref.name) \(r.version) (\(r.digest)) from the cache (last good for '\(constraintText.isEmpty ? "latest" : constraintText)')",
            fix: "restore access to \(shownRepo); pass --require-fresh to fail instead")]
        return stale
    }

    /// A cached archive whose content still matches `digest`, or nil.
    func cachedBlob(_ digest: String, name: String, version: String, url: String) -> ResolvedChart? {
        guard digest.hasPrefix("sha256:") else { return nil }
        let path = blobDirectory + "/" + digest.dropFirst(7) + ".tgz"
        guard let bytes = FS.readFile(path), "sha256:" + SHA256.hex(bytes) == digest else { return nil }
        return ResolvedChart(archivePath: path, name: name, version: version, digest: digest, url: url, stale: false, warnings: [])
    }

    func fetchIndex(_ url: String, creds: (basic: (String, String)?, token: String?, secrets: [String]), caBundle: String?, redactor: Redactor) throws(SourceError) -> Value {
        let r = try get(url, creds: creds, caBundle: caBundle, redactor: redactor, maxBytes: Self.maxIndexBytes)
        do throws(Diagnostic) {
            return try YAMLParser.parse(String(decoding: r.body, as: UTF8.self), file: Redactor.redactURLs(in: url),
                                        limits: YAMLLimits(maxBytes: Self.maxIndexBytes, maxDepth: 32))
        } catch {
            throw SourceError(.invalidSource, "\(Redactor.redactURLs(in: url)) is not a chart repository index: \(error.message)",
                              fix: "point chart.repo at the directory that holds index.yaml")
        }
    }

    func download(_ url: String, creds: (basic: (String, String)?, token: String?, secrets: [String]), caBundle: String?, redactor: Redactor) throws(SourceError) -> [UInt8] {
        try get(url, creds: creds, caBundle: caBundle, redactor: redactor, maxBytes: Self.maxArchiveBytes).body
    }

    func get(_ url: String, creds: (basic: (String, String)?, token: String?, secrets: [String]), caBundle: String?, redactor: Redactor, maxBytes: Int) throws(SourceError) -> HTTPFetch.Response {
        let r = try HTTPFetch.get(url, headers: creds.token.map { ["Authorization: Bearer \($0)"] } ?? [], basicAuth: creds.basic,
                                  caBundle: caBundle, deadlines: deadlines, maxBytes: maxBytes, redactor: redactor)
        switch r.status {
        case 200: return r
        case 401, 403:
            throw SourceError(.authentication, "\(Redactor.redactURLs(in: url)) answered \(r.status) (authentication required or refused)",
                              fix: "configure chart credentials (username + passwordEnv, or tokenEnv)")
        default:
            throw SourceError(.unreachable, "\(Redactor.redactURLs(in: url)) answered HTTP \(r.status)")
        }
    }

    struct Entry { var version: String; var url: String; var digest: String? }

    /// The highest version of `ref.name` in the index that satisfies the constraint.
    func select(_ index: Value, ref: ChartReference, constraint: SemverConstraint?, constraintText: String, url: String) throws(SourceError) -> Entry {
        guard let list = index["entries"]?[ref.name]?.array, !list.isEmpty else {
            throw SourceError(.refNotFound, "chart '\(ref.name)' is not in \(url) (the repository answered; this is not an outage, so no cached version is used)",
                              fix: "check the chart name against the repository's index.yaml")
        }
        var best: (SemanticVersion, Entry)? = nil
        for e in list {
            guard let vt = e["version"]?.scalarText, let v = try? SemanticVersion(vt) else { continue }
            if let constraint { guard constraint.check(v) else { continue } } else if !v.prerelease.isEmpty { continue }
            guard let u = e["urls"]?.array?.first?.string else { continue }
            var digest: String? = nil
            if let d = e["digest"]?.string, !d.isEmpty { digest = d.hasPrefix("sha256:") ? d.lowercased() : "sha256:" + d.lowercased() }
            if best == nil || best!.0 < v { best = (v, Entry(version: vt, url: u, digest: digest)) }
        }
        guard let best else {
            let available = list.compactMap { $0["version"]?.scalarText }.prefix(10).joined(separator: ", ")
            throw SourceError(.refNotFound, "no version of chart '\(ref.name)' in \(url) satisfies '\(constraintText.isEmpty ? "any stable version" : constraintText)' (available: \(available))",
                              fix: "change the chart version constraint")
        }
        if let d = best.1.digest, (try? Self.checkDigest(d)) == nil {
            throw SourceError(.invalidSource, "\(url) lists \(ref.name) \(best.1.version) with a malformed digest '\(d)'")
        }
        return best.1
    }

    // MARK: helpers

    static func checkDigest(_ d: String) throws(SourceError) -> String {
        let hex = d.hasPrefix("sha256:") ? String(d.dropFirst(7)) : d
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) || ($0 >= 65 && $0 <= 70) }) else {
            throw SourceError(.invalidSource, "chart digest '\(d)' is not sha256:<64 hex digits>", fix: "copy the digest from the repository index or `sha256sum chart.tgz`")
        }
        return "sha256:" + hex.lowercased()
    }

    static func readVersions(_ path: String) -> [(name: String, version: String, digest: String)] {
        guard let b = FS.readFile(path) else { return [] }
        return String(decoding: b, as: UTF8.self).split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ")
            return f.count == 3 ? (String(f[0]), String(f[1]), String(f[2])) : nil
        }
    }

    static func writeAtomically(_ path: String, _ bytes: [UInt8]) throws(SourceError) {
        let tmp = path + ".tmp-\(getpid())"
        try FS.writeFile(tmp, bytes)
        guard rename(tmp, path) == 0 else {
            unlink(tmp)
            throw SourceError(.io, "cannot write '\(path)': \(String(cString: strerror(errno)))")
        }
    }

    /// Scheme and host lower-cased, userinfo and trailing `/` dropped.
    static func normalize(_ url: String) -> String {
        var u = Redactor.redactURLs(in: url).replacing("***@", with: "")
        while u.hasSuffix("/") { u.removeLast() }
        if let r = u.firstRange(ofText: "://") {
            let rest = u[r.upperBound...]
            let hostEnd = rest.firstIndex(of: "/") ?? rest.endIndex
            u = u[..<r.upperBound].lowercased() + rest[..<hostEnd].lowercased() + rest[hostEnd...]
        }
        return u
    }

    static func join(_ base: String, _ name: String) -> String { base.hasSuffix("/") ? base + name : base + "/" + name }

    static func host(_ url: String) -> String {
        guard let r = url.firstRange(ofText: "://") else { return "" }
        var rest = url[r.upperBound...]
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        return rest.lowercased()
    }

    /// An index `urls` entry: absolute, host-absolute (`/charts/x.tgz`) or relative to the
    /// index's directory (Helm's `ResolveReferenceURL`).
    static func resolveURL(_ u: String, against indexURL: String) -> String {
        if u.firstRange(ofText: "://") != nil { return u }
        guard let r = indexURL.firstRange(ofText: "://") else { return u }
        let rest = indexURL[r.upperBound...]
        let hostEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        let origin = String(indexURL[..<hostEnd])
        if u.hasPrefix("/") { return origin + u }
        var dir = String(indexURL)
        if let q = dir.firstIndex(of: "?") { dir = String(dir[..<q]) }
        if let slash = dir.lastIndex(of: "/"), slash >= hostEnd { dir = String(dir[...slash]) } else { dir += "/" }
        return dir + u
    }
}
