#if canImport(Glibc)
import Glibc
#endif
import HelmTemplate
import PatternCore

/// `oci://host[:port]/path/chart`, parsed and checked.
///
/// The repository path follows the OCI distribution spec's name grammar (lower-case
/// components of `[a-z0-9]` joined by `.`, `_`, `__` or `-`); a tag (`:1.2.3`) or a digest
/// (`@sha256:…`) in the URL is refused with a fix pointing at `version` / `digest`, so there is
/// one place each is written.
public struct OCIChartURL: Sendable, Hashable {
    /// `host` or `host:port`, lower-cased.
    public var host: String
    /// The repository inside the registry, e.g. `charts/web`.
    public var repository: String
    /// The chart name: the repository's last component.
    public var name: String
    /// `https`, or `http` for a plain-HTTP registry (`plainHTTP: true`, as `helm --plain-http`).
    public var scheme: String

    /// True when `url` starts with `oci://` (any case).
    public static func isOCI(_ url: String) -> Bool { url.lowercased().hasPrefix("oci://") }

    public init(_ url: String, plainHTTP: Bool = false) throws(SourceError) {
        let shown = Redactor.redactURLs(in: url)
        guard Self.isOCI(url) else {
            throw SourceError(.invalidSource, "'\(shown)' is not an OCI reference", fix: "write it as oci://host/path/chart")
        }
        let rest = url.dropFirst(6)
        guard let slash = rest.firstIndex(of: "/") else {
            throw SourceError(.invalidSource, "OCI reference '\(shown)' has no repository path", fix: "write it as oci://host/path/chart")
        }
        let host = String(rest[..<slash])
        if host.contains("@") {
            throw SourceError(.invalidSource, "OCI reference '\(shown)' has credentials in the URL",
                              fix: "remove them from the URL and configure chart credentials (username + passwordEnv, or tokenEnv)")
        }
        guard !host.isEmpty, host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":" || $0 == "[" || $0 == "]" }) else {
            throw SourceError(.invalidSource, "OCI reference '\(shown)' has an invalid registry host '\(host)'", fix: "write it as oci://host[:port]/path/chart")
        }
        var path = String(rest[rest.index(after: slash)...])
        while path.hasSuffix("/") { path.removeLast() }
        if path.contains("@") {
            throw SourceError(.invalidSource, "OCI reference '\(shown)' names a digest in the URL",
                              fix: "put the manifest digest in chart.digest (sha256:…) and keep the URL as oci://host/path/chart")
        }
        if path.contains(":") {
            throw SourceError(.invalidSource, "OCI reference '\(shown)' names a tag in the URL",
                              fix: "put the version in chart.version and keep the URL as oci://host/path/chart")
        }
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        func valid(_ c: Substring) -> Bool {
            guard let f = c.first, let l = c.last, f.isASCII, l.isASCII, (f.isLowercase || f.isNumber), (l.isLowercase || l.isNumber) else { return false }
            return c.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "." || $0 == "_" || $0 == "-" } && !c.contains("..")
        }
        guard !path.isEmpty, path.utf8.count <= 255, components.allSatisfy(valid) else {
            throw SourceError(.invalidSource, "OCI reference '\(shown)' has an invalid repository path '\(path)'",
                              fix: "repository paths are lower-case letters, digits and . _ - separated by /")
        }
        self.host = host.lowercased()
        self.repository = path
        self.name = String(components.last!)
        self.scheme = plainHTTP ? "http" : "https"
    }

    /// `oci://host/repository`.
    public var description: String { "oci://\(host)/\(repository)" }
    /// `<scheme>://host/v2/<repository>`: the distribution API's base for this repository.
    var apiBase: String { "\(scheme)://\(host)/v2/\(repository)" }
}

/// Media types of Helm charts in OCI registries (Helm's `pkg/registry/constants.go`).
enum OCIMediaType {
    static let manifest = "application/vnd.oci.image.manifest.v1+json"
    static let chartLayer = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
    /// Charts pushed by Helm 3.0–3.7's experimental OCI support.
    static let legacyChartLayer = "application/tar+gzip"
}

/// One conversation with a registry: anonymous first, then what the registry's
/// `WWW-Authenticate` challenge asks for — the token flow (`Bearer realm=…,service=…,scope=…`:
/// GET the realm, with basic credentials when configured, take `token` or `access_token`, retry
/// with `Authorization: Bearer`) or basic authentication. A configured `tokenEnv`/`tokenFile` is
/// sent as the bearer token directly. Credentials go only to the registry's own host and its
/// token realm; a redirect to another host (blob storage) is followed without them. Every token
/// obtained is added to the redactor, so none appears in an error.
final class OCISession {
    let registry: OCIChartURL
    let basic: (String, String)?
    let caBundle: String?
    let deadlines: NetworkDeadlines
    private(set) var redactor: Redactor
    private var secrets: [String]
    private var bearer: String?
    private var useBasic = false
    private var authenticated = false

    static let maxTokenBytes = 64 << 10
    static let maxRedirects = 5

    init(registry: OCIChartURL, creds: (basic: (String, String)?, token: String?, secrets: [String]), caBundle: String?, deadlines: NetworkDeadlines) {
        self.registry = registry
        self.basic = creds.basic
        self.caBundle = caBundle
        self.deadlines = deadlines
        self.secrets = creds.secrets
        self.redactor = Redactor(secrets: creds.secrets)
        self.bearer = creds.token
    }

    /// GET `url` on the registry, authenticating once when challenged and following up to 5
    /// redirects by hand (credentials only while the host is the registry's).
    func get(_ url: String, accept: String?, maxBytes: Int) throws(SourceError) -> HTTPFetch.Response {
        var r = try send(url, accept: accept, maxBytes: maxBytes, withCredentials: true)
        if r.status == 401, !authenticated {
            try authenticate(challenge: r.header("www-authenticate"))
            r = try send(url, accept: accept, maxBytes: maxBytes, withCredentials: true)
        }
        var current = url
        var hops = 0
        while [301, 302, 303, 307, 308].contains(r.status), let location = r.header("location") {
            hops += 1
            let next = ChartSourceResolver.resolveURL(location, against: current)
            guard hops <= Self.maxRedirects, next.hasPrefix("https://") || (next.hasPrefix("http://") && current.hasPrefix("http://")) else {
                throw SourceError(.unreachable, redactor("\(Redactor.redactURLs(in: url)) redirects too often or to a non-https URL"))
            }
            let sameHost = ChartSourceResolver.host(next) == registry.host
            r = try send(next, accept: accept, maxBytes: maxBytes, withCredentials: sameHost)
            current = next
        }
        if r.status == 401 || r.status == 403 {
            let how = bearer != nil ? "with a bearer token" : useBasic ? "with basic credentials" : "anonymously"
            throw SourceError(.authentication, redactor("\(registry.description) answered \(r.status) to \(Redactor.redactURLs(in: url)) (tried \(how))"),
                              fix: "configure chart credentials for the registry (username + passwordEnv/passwordFile, or tokenEnv/tokenFile) with pull access to \(registry.repository)")
        }
        return r
    }

    private func send(_ url: String, accept: String?, maxBytes: Int, withCredentials: Bool) throws(SourceError) -> HTTPFetch.Response {
        var headers: [String] = []
        if let accept { headers.append("Accept: \(accept)") }
        if withCredentials, let bearer { headers.append("Authorization: Bearer \(bearer)") }
        return try HTTPFetch.get(url, headers: headers, basicAuth: withCredentials && useBasic && bearer == nil ? basic : nil,
                                 caBundle: caBundle, deadlines: deadlines, maxBytes: maxBytes, redactor: redactor, followRedirects: false)
    }

    private func authenticate(challenge: String?) throws(SourceError) {
        authenticated = true
        guard let challenge, let (scheme, params) = Self.parseChallenge(challenge) else {
            throw SourceError(.authentication, "\(registry.description) requires authentication but sent no usable WWW-Authenticate challenge",
                              fix: "configure chart credentials (username + passwordEnv, or tokenEnv) for the registry")
        }
        switch scheme {
        case "basic":
            guard basic != nil else {
                throw SourceError(.authentication, "\(registry.description) requires basic authentication and no credentials are configured",
                                  fix: "set chart credentials: username + passwordEnv (or passwordFile)")
            }
            useBasic = true
            bearer = nil
        case "bearer":
            guard let realm = params["realm"], realm.hasPrefix("https://") || realm.hasPrefix("http://") else {
                throw SourceError(.authentication, "\(registry.description) sent a bearer challenge without an http(s) realm")
            }
            let realmHost = ChartSourceResolver.host(realm)
            // Credentials go to the realm only over https, or to the registry's own host.
            let sendBasic = basic != nil && (realm.hasPrefix("https://") || realmHost == registry.host)
            var query: [String] = []
            if let service = params["service"] { query.append("service=" + Self.percentEncode(service)) }
            query.append("scope=" + Self.percentEncode(params["scope"] ?? "repository:\(registry.repository):pull"))
            let tokenURL = realm + (realm.contains("?") ? "&" : "?") + query.joined(separator: "&")
            let r = try HTTPFetch.get(tokenURL, basicAuth: sendBasic ? basic : nil, caBundle: caBundle, deadlines: deadlines,
                                      maxBytes: Self.maxTokenBytes, redactor: redactor)
            guard r.status == 200 else {
                throw SourceError(.authentication,
                                  "the token service of \(registry.description) (\(Redactor.redactURLs(in: realm))) answered \(r.status)\(basic == nil ? " to an anonymous request" : "")",
                                  fix: basic == nil ? "configure chart credentials (username + passwordEnv) with pull access to \(registry.repository)"
                                                    : "check the configured username and password; they need pull access to \(registry.repository)")
            }
            let doc: Value
            do throws(Diagnostic) { doc = try JSONParser.parse(r.body, file: "token response") } catch {
                throw SourceError(.authentication, "the token service of \(registry.description) answered something that is not JSON")
            }
            guard let token = (doc["token"]?.string).flatMap({ $0.isEmpty ? nil : $0 }) ?? doc["access_token"]?.string, !token.isEmpty else {
                throw SourceError(.authentication, "the token service of \(registry.description) answered without a token")
            }
            secrets.append(token)
            redactor = Redactor(secrets: secrets)
            bearer = token
            useBasic = false
        default:
            throw SourceError(.authentication, "\(registry.description) asks for '\(scheme)' authentication, which is not supported",
                              fix: "use a registry that supports the token flow or basic authentication")
        }
    }

    /// `Bearer realm="…",service="…",scope="a,b"` → ("bearer", [realm: …, service: …, scope: …]).
    static func parseChallenge(_ header: String) -> (String, [String: String])? {
        let text = Array(header.trimmingSpaces())
        var i = 0
        while i < text.count, text[i] != " " { i += 1 }
        let scheme = String(text[0..<i]).lowercased()
        guard !scheme.isEmpty else { return nil }
        var params: [String: String] = [:]
        while i < text.count {
            while i < text.count, text[i] == " " || text[i] == "," { i += 1 }
            var key = ""
            while i < text.count, text[i] != "=" { key.append(text[i]); i += 1 }
            guard i < text.count else { break }
            i += 1
            var value = ""
            if i < text.count, text[i] == "\"" {
                i += 1
                while i < text.count, text[i] != "\"" {
                    if text[i] == "\\", i + 1 < text.count { i += 1 }
                    value.append(text[i]); i += 1
                }
                i += 1
            } else {
                while i < text.count, text[i] != "," { value.append(text[i]); i += 1 }
            }
            params[key.trimmingSpaces().lowercased()] = value.trimmingSpaces()
        }
        return (scheme, params)
    }

    static func percentEncode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(b >> 4)], hex[Int(b & 15)]], as: UTF8.self)
            }
        }
        return out
    }
}

extension ChartSourceResolver {
    /// Manifests larger than this are refused (the OCI distribution spec's 4 MiB).
    public static let maxManifestBytes = 4 << 20
    /// A tag-list page larger than this is refused.
    public static let maxTagPageBytes = 4 << 20
    /// At most this many tag-list pages are read.
    public static let maxTagPages = 64

    /// A chart from an OCI registry, as Helm pulls it: the tag of an exact version (`+`
    /// written `_`), or the highest tag matching a constraint; the manifest checked against
    /// `Docker-Content-Digest`, its own sha256 and a pinned digest; the chart layer checked
    /// against its descriptor. Cache rules as for chart repositories: a pinned or already-seen
    /// version needs no network, a tag re-pushed with other chart content is refused,
    /// `offline` and outages use the last good version (stale).
    ///
    /// Cache entries besides the shared `charts/blobs/sha256/<hex>.tgz`:
    /// ```
    /// charts/blobs/sha256/<hex>.manifest.json     manifests, by digest
    /// charts/repos/<32 hex of sha256(oci URL)>/oci-tags   "<version> sha256:<manifest> sha256:<layer>" first seen
    /// charts/repos/<…>/last-good/<16 hex>                 "<version> sha256:<manifest>"
    /// ```
    func resolveOCI(_ ref: ChartReference) throws(SourceError) -> ResolvedChart {
        var registries: [OCIChartURL] = []
        for u in ref.urls {
            guard OCIChartURL.isOCI(u) else {
                throw SourceError(.invalidSource, "mirror '\(Redactor.redactURLs(in: u))' of an OCI chart is not an oci:// URL",
                                  fix: "list OCI mirrors as oci://host/path/chart")
            }
            registries.append(try OCIChartURL(u, plainHTTP: ref.plainHTTP))
        }
        let primary = registries[0]
        let pinned = try ref.digest.map { (d) throws(SourceError) -> String in try Self.checkDigest(d) }
        let (constraintText, constraint, exact) = try Self.versionRequest(ref.version)
        let repoDir = cache.directory + "/charts/repos/" + String(SHA256.hex(primary.description).prefix(32))
        try FS.mkdirs(repoDir + "/last-good")
        try FS.mkdirs(blobDirectory)
        let lock = try FileLock(path: repoDir + ".lock")
        defer { lock.unlock() }
        let lastGoodPath = repoDir + "/last-good/" + String(SHA256.hex(primary.name + "@" + constraintText).prefix(16))
        let tagsPath = repoDir + "/oci-tags"
        var seen = Self.readOCITags(tagsPath)
        let shown = primary.description

        // 1. A pinned manifest already cached: no network.
        if let pinned, let r = cachedOCI(manifest: pinned, version: seen.first { $0.manifest == pinned }?.version, registry: primary) {
            return r
        }
        // 2. An exact version seen before: tags of chart versions are treated as immutable.
        if exact, pinned == nil, let s = seen.first(where: { $0.version == constraintText }),
           let r = cachedOCI(manifest: s.manifest, version: s.version, registry: primary) {
            return r
        }

        var warnings: [Diagnostic] = []
        var failures: [String] = []
        var authFailure: SourceError? = nil
        if !offline {
            let creds = try ref.credentials.materialize(environment)
            for (i, registry) in registries.enumerated() {
                let session = OCISession(registry: registry, creds: creds, caBundle: ref.credentials.caBundle, deadlines: deadlines)
                func failed(_ e: SourceError) {
                    if e.kind == .authentication { authFailure = SourceError(.authentication, session.redactor(e.message), fix: e.fix) }
                    failures.append(session.redactor(e.message))
                    warnings.append(Diagnostic(.warning, at: nil, "OCI registry \(i + 1) of \(registries.count) failed: \(session.redactor(e.message))"))
                }
                // Which tag: the exact version's, the highest matching one, or none (pulled by the pinned digest).
                var tag: String? = nil
                var version = constraintText
                if exact {
                    tag = constraintText.replacing("+", with: "_")
                } else if constraint != nil || pinned == nil {
                    let tags: [String]
                    do throws(SourceError) { tags = try listTags(session) } catch {
                        if error.kind == .refNotFound { throw error }
                        failed(error); continue
                    }
                    guard let best = Self.pickTag(tags, constraint: constraint) else {
                        throw SourceError(.refNotFound, "no tag of \(registry.description) satisfies '\(constraintText.isEmpty ? "any stable version" : constraintText)' (tags: \(tags.prefix(10).joined(separator: ", ")))",
                                          fix: "change the chart version constraint")
                    }
                    tag = best.tag
                    version = best.version
                }
                let reference = tag ?? pinned!
                let manifestBytes: [UInt8]
                let manifestDigest: String
                do throws(SourceError) {
                    let r = try session.get(registry.apiBase + "/manifests/" + reference, accept: OCIMediaType.manifest, maxBytes: Self.maxManifestBytes)
                    if r.status == 404 {
                        throw SourceError(.refNotFound, "\(registry.description) has no \(tag.map { "tag '\($0)'" } ?? "manifest \(reference)") (the registry answered; this is not an outage, so no cached version is used)",
                                          fix: "check the chart version and the repository path")
                    }
                    guard r.status == 200 else { throw SourceError(.unreachable, "\(registry.description) answered HTTP \(r.status) for the manifest \(reference)") }
                    manifestBytes = r.body
                    manifestDigest = "sha256:" + SHA256.hex(r.body)
                    if let raw = r.header("docker-content-digest"), case let header = raw.filter({ !$0.isWhitespace && !$0.isNewline }),
                       !header.isEmpty, header.lowercased() != manifestDigest {
                        throw SourceError(.integrity, "\(registry.description):\(reference): the manifest's bytes hash to \(manifestDigest) but the registry says \(header); nothing was cached",
                                          fix: "the manifest was tampered with or corrupted in transit; check the registry")
                    }
                } catch {
                    if error.kind == .refNotFound || error.kind == .integrity { throw error }
                    failed(error); continue
                }
                if let pinned, pinned != manifestDigest {
                    throw SourceError(.integrity, "\(registry.description):\(reference) has manifest digest \(manifestDigest), not the pinned \(pinned); nothing was cached",
                                      fix: "if the chart was re-pushed on purpose, update chart.digest; otherwise do not use this registry")
                }
                let layer = try Self.chartLayer(manifestBytes, registry: registry, reference: reference)
                if tag == nil { version = Self.manifestVersion(manifestBytes) ?? seen.first { $0.manifest == manifestDigest }?.version ?? "unknown" }
                if let s = seen.first(where: { $0.version == version }), s.layer != layer.digest {
                    throw SourceError(.integrity, "\(registry.description) re-pushed \(version) with other chart content: layer \(s.layer) when first seen, now \(layer.digest); chart versions are immutable, so the cache was left unchanged",
                                      fix: "if the chart was re-pushed on purpose, pin the new manifest digest (chart.digest) or remove '\(repoDir)'")
                }
                let blobPath = blobDirectory + "/" + layer.digest.dropFirst(7) + ".tgz"
                if cachedBlob(layer.digest, name: registry.name, version: version, url: shown) == nil {
                    let bytes: [UInt8]
                    do throws(SourceError) {
                        let r = try session.get(registry.apiBase + "/blobs/" + layer.digest, accept: nil, maxBytes: Self.maxArchiveBytes)
                        guard r.status == 200 else {
                            throw SourceError(.unreachable, "\(registry.description) answered HTTP \(r.status) for the chart layer \(layer.digest)")
                        }
                        bytes = r.body
                    } catch { failed(error); continue }
                    let actual = "sha256:" + SHA256.hex(bytes)
                    guard actual == layer.digest, bytes.count == layer.size else {
                        throw SourceError(.integrity, "\(registry.description):\(reference): the chart layer does not match its descriptor: expected \(layer.digest) (\(layer.size) bytes), got \(actual) (\(bytes.count) bytes); nothing was cached",
                                          fix: "the blob was tampered with or corrupted in transit; check the registry and its blob storage")
                    }
                    try Self.writeAtomically(blobPath, bytes)
                }
                try Self.writeAtomically(blobDirectory + "/" + manifestDigest.dropFirst(7) + ".manifest.json", manifestBytes)
                if !seen.contains(where: { $0.version == version }) {
                    seen.append((version, manifestDigest, layer.digest))
                    try Self.writeAtomically(tagsPath, Array(seen.map { "\($0.version) \($0.manifest) \($0.layer)\n" }.joined().utf8))
                }
                try Self.writeAtomically(lastGoodPath, Array("\(version) \(manifestDigest)\n".utf8))
                if i > 0 {
                    warnings.append(Diagnostic(.warning, at: nil, "used mirror \(registry.description) because \(i == 1 ? "the primary registry" : "\(i) earlier registries") failed",
                                               fix: "check \(shown)"))
                }
                var r = ResolvedChart(archivePath: blobPath, name: registry.name, version: version, digest: layer.digest,
                                      url: "\(registry.description):\(tag ?? version)", stale: false, warnings: warnings)
                r.manifestDigest = manifestDigest
                return r
            }
        }

        let why = offline ? "offline mode" : "every registry failed (\(failures.joined(separator: "; ")))"
        if requireFresh {
            throw SourceError(.noUsableSource, "cannot fetch chart \(shown) '\(constraintText)': \(why); a fresh answer is required",
                              fix: "restore access to the registry or a mirror, or drop the fresh requirement to use the cached version")
        }
        let lastGood = FS.readFile(lastGoodPath).map { String(decoding: $0, as: UTF8.self) }?.split(separator: " ")
        guard let lastGood, lastGood.count == 2,
              let r = cachedOCI(manifest: String(lastGood[1]).trimmingSpaces(), version: String(lastGood[0]), registry: primary) else {
            if let authFailure { throw authFailure }
            throw SourceError(.noUsableSource, "cannot fetch chart \(shown) '\(constraintText)' and no cached version exists: \(why)",
                              fix: offline ? "run once online to fill the cache, or pin a version that is cached" : "check the URL, network and credentials; add a reachable mirror")
        }
        var stale = r
        stale.stale = true
        stale.warnings = warnings + [Diagnostic(.warning, at: nil,
            "USING STALE CHART: \(why); rendering \(shown) \(r.version) (\(r.manifestDigest ?? r.digest)) from the cache (last good for '\(constraintText.isEmpty ? "latest" : constraintText)')",
            fix: "restore access to \(shown); pass --require-fresh to fail instead")]
        return stale
    }

    /// A cached manifest (content matching `manifest`) whose chart layer is cached too.
    func cachedOCI(manifest: String, version: String?, registry: OCIChartURL) -> ResolvedChart? {
        guard manifest.hasPrefix("sha256:"),
              let bytes = FS.readFile(blobDirectory + "/" + manifest.dropFirst(7) + ".manifest.json"),
              "sha256:" + SHA256.hex(bytes) == manifest,
              let layer = try? Self.chartLayer(bytes, registry: registry, reference: manifest) else { return nil }
        let v = version ?? Self.manifestVersion(bytes) ?? "unknown"
        guard var r = cachedBlob(layer.digest, name: registry.name, version: v, url: "\(registry.description):\(v)") else { return nil }
        r.manifestDigest = manifest
        return r
    }

    /// Every tag of the repository, following `Link: <…>; rel="next"` pages.
    func listTags(_ session: OCISession) throws(SourceError) -> [String] {
        let registry = session.registry
        var url = registry.apiBase + "/tags/list"
        var tags: [String] = []
        for _ in 0..<Self.maxTagPages {
            let r = try session.get(url, accept: "application/json", maxBytes: Self.maxTagPageBytes)
            if r.status == 404 {
                throw SourceError(.refNotFound, "\(registry.description) does not exist in the registry (the registry answered; this is not an outage, so no cached version is used)",
                                  fix: "check the repository path of the OCI reference")
            }
            guard r.status == 200 else { throw SourceError(.unreachable, "\(registry.description) answered HTTP \(r.status) listing tags") }
            let doc: Value
            do throws(Diagnostic) { doc = try JSONParser.parse(r.body, file: "tags/list") } catch {
                throw SourceError(.unreachable, "\(registry.description) answered a tag list that is not JSON")
            }
            for t in doc["tags"]?.array ?? [] { if let s = t.string { tags.append(s) } }
            guard let link = r.header("link"), let next = Self.nextLink(link) else { return tags }
            url = ChartSourceResolver.resolveURL(next, against: url)
            guard ChartSourceResolver.host(url) == registry.host else {
                throw SourceError(.unreachable, "\(registry.description) paginates its tag list to another host")
            }
        }
        throw SourceError(.unreachable, "\(registry.description) has more than \(Self.maxTagPages) pages of tags")
    }

    /// The `rel="next"` target of a `Link` header.
    static func nextLink(_ header: String) -> String? {
        for part in header.split(separator: ",") {
            let p = String(part).trimmingSpaces()
            guard p.hasPrefix("<"), let close = p.firstIndex(of: ">") else { continue }
            let params = p[close...].replacing(" ", with: "").lowercased()
            if params.contains("rel=\"next\"") || params.contains("rel=next") { return String(p[p.index(after: p.startIndex)..<close]) }
        }
        return nil
    }

    /// Helm's `GetTagMatchingVersionOrConstraint`: tags read as versions (`_` back to `+`),
    /// the highest one the constraint accepts (no constraint: the highest without a prerelease).
    static func pickTag(_ tags: [String], constraint: SemverConstraint?) -> (tag: String, version: String)? {
        var best: (SemanticVersion, String, String)? = nil
        for tag in tags {
            let text = tag.replacing("_", with: "+")
            guard let v = try? SemanticVersion(text) else { continue }
            if let constraint { guard constraint.check(v) else { continue } } else if !v.prerelease.isEmpty { continue }
            if best == nil || best!.0 < v { best = (v, tag, text) }
        }
        return best.map { ($0.1, $0.2) }
    }

    /// The Helm chart layer of an image manifest.
    static func chartLayer(_ bytes: [UInt8], registry: OCIChartURL, reference: String) throws(SourceError) -> (digest: String, size: Int) {
        let doc: Value
        do throws(Diagnostic) { doc = try JSONParser.parse(bytes, file: "manifest") } catch {
            throw SourceError(.invalidSource, "\(registry.description):\(reference): the manifest is not JSON: \(error.message)")
        }
        if let mt = doc["mediaType"]?.string, mt != OCIMediaType.manifest {
            throw SourceError(.invalidSource, "\(registry.description):\(reference) is a '\(mt)', not an OCI image manifest of a Helm chart",
                              fix: "push the chart with `helm push chart.tgz oci://…`")
        }
        for l in doc["layers"]?.array ?? [] {
            guard let mt = l["mediaType"]?.string, mt == OCIMediaType.chartLayer || mt == OCIMediaType.legacyChartLayer else { continue }
            guard let d = l["digest"]?.string, let digest = try? checkDigest(d), d.hasPrefix("sha256:"), let size = l["size"]?.int, size >= 0 else {
                throw SourceError(.invalidSource, "\(registry.description):\(reference): the chart layer has no sha256 digest or size")
            }
            guard size <= maxArchiveBytes else {
                throw SourceError(.invalidSource, "\(registry.description):\(reference): the chart layer is \(size) bytes, over the limit of \(maxArchiveBytes)")
            }
            return (digest, size)
        }
        throw SourceError(.invalidSource, "\(registry.description):\(reference) has no Helm chart layer (\(OCIMediaType.chartLayer))",
                          fix: "this artifact is not a Helm chart; push one with `helm push chart.tgz oci://…`")
    }

    /// `org.opencontainers.image.version` of a manifest (Helm writes the chart version there).
    static func manifestVersion(_ bytes: [UInt8]) -> String? {
        (try? JSONParser.parse(bytes, file: "manifest"))?["annotations"]?["org.opencontainers.image.version"]?.string
    }

    static func readOCITags(_ path: String) -> [(version: String, manifest: String, layer: String)] {
        guard let b = FS.readFile(path) else { return [] }
        return String(decoding: b, as: UTF8.self).split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ")
            return f.count == 3 ? (String(f[0]), String(f[1]), String(f[2])) : nil
        }
    }
}
