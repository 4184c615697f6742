import PatternCore

/// How a chart source reaches its repository: what an Argo CD repository Secret gives it.
/// Secret values live only here and in the fetch; they are never printed.
public struct ChartRepositoryAccess: Sendable, CustomStringConvertible {
    public var username: String?
    public var password: String?
    /// `insecureOCIForceHttp: "true"`: talk plain HTTP to the OCI registry.
    public var plainHTTP: Bool
    /// `enableOCI: "true"` or `type: oci`: the repository is an OCI registry even when its URL
    /// has no `oci://` scheme (Argo CD's Helm OCI form `registry.example.com/charts`).
    public var oci: Bool
    /// The Secret it came from (`namespace/name`), for messages.
    public var secret: String

    public init(username: String? = nil, password: String? = nil, plainHTTP: Bool = false, oci: Bool = false, secret: String = "") {
        self.username = username; self.password = password; self.plainHTTP = plainHTTP; self.oci = oci; self.secret = secret
    }

    /// No Secret matched.
    public static let anonymous = ChartRepositoryAccess()

    /// Names the Secret, never its values.
    public var description: String { secret.isEmpty ? "anonymous" : "credentials of Secret \(secret)" }
}

/// Argo CD repository Secrets found in a render: `argocd.argoproj.io/secret-type: repository`
/// (one repository, its `url` compared as Argo CD normalizes URLs) and `repo-creds` (a
/// credential template for every repository whose URL starts with its `url`; the longest
/// prefix wins). A `repository` Secret without credentials takes them from the matching
/// template, as Argo CD's `CopyCredentialsFrom`. Fields (from `stringData`, else base64
/// `data`): `url`, `type` (`git`, `helm`, `oci`), `enableOCI`, `username`, `password`,
/// `insecureOCIForceHttp`. `insecure` (skip TLS verification) is refused: pattern always
/// verifies certificates. Others (`name`, `project`, `forceHttpBasicAuth`, TLS client
/// certificates, `proxy`) are not used.
public struct RepositoryCredentials: Sendable {
    struct Entry: Sendable {
        var url: String
        var normalized: String
        var template: Bool
        var type: String
        var enableOCI: Bool
        var username: String?
        var password: String?
        var plainHTTP: Bool
        var insecure: Bool
        var secret: String
        var location: SourceLocation
    }

    var entries: [Entry] = []

    public init() {}

    public static let label = "argocd.argoproj.io/secret-type"

    public var isEmpty: Bool { entries.isEmpty }

    /// Adds the repository Secrets among `objects` (others are ignored).
    public mutating func collect(_ objects: [(object: Value, file: String)]) {
        for (o, file) in objects where o.kindName == "Secret" && o.apiVersion == "v1" {
            guard let kind = o.labels[Self.label]?.string, kind == "repository" || kind == "repo-creds" else { continue }
            func field(_ k: String) -> String? {
                if let s = o["stringData"]?[k]?.scalarText { return s }
                if let d = o["data"]?[k]?.string, let bytes = Base64.decode(d) { return String(decoding: bytes, as: UTF8.self) }
                return nil
            }
            guard let url = field("url"), !url.isEmpty else { continue }
            func flag(_ k: String) -> Bool { field(k).map { $0 == "true" } ?? false }
            let secret = "\(o.metadataNamespace ?? "")/\(o.metadataName ?? "")"
            entries.append(Entry(url: url, normalized: Self.normalize(url), template: kind == "repo-creds", type: field("type") ?? "git",
                                 enableOCI: flag("enableOCI"), username: field("username"), password: field("password"),
                                 plainHTTP: flag("insecureOCIForceHttp"), insecure: flag("insecure"), secret: secret,
                                 location: SourceLocation(file: file, mark: o.mark)))
        }
    }

    /// Argo CD's URL comparison with `oci://` ignored (its Helm OCI repositories are written
    /// with and without it).
    static func normalize(_ url: String) -> String {
        var u = url.trimmed
        if u.lowercased().hasPrefix("oci://") { u = String(u.dropFirst(6)) }
        return RepoURL.normalized(u)
    }

    /// The access a source with `repoURL` gets. Throws for a matching Secret that asks for
    /// what pattern will not do (`insecure: "true"`).
    public func access(for repoURL: String) throws(Diagnostic) -> ChartRepositoryAccess {
        let n = Self.normalize(repoURL)
        let exact = entries.last { !$0.template && $0.normalized == n }
        var best: Entry? = nil
        // Argo CD's getRepositoryCredentialIndex: a plain prefix of the normalized URL, the
        // longest wins, the first of equal length.
        for e in entries where e.template && n.hasPrefix(e.normalized) {
            if best == nil || e.normalized.count > best!.normalized.count { best = e }
        }
        guard var chosen = exact ?? best else { return .anonymous }
        if exact != nil, chosen.password == nil, let t = best {
            chosen.username = chosen.username ?? t.username
            chosen.password = t.password
            chosen.enableOCI = chosen.enableOCI || t.enableOCI
            chosen.plainHTTP = chosen.plainHTTP || t.plainHTTP
        }
        if chosen.insecure {
            throw .error("repository Secret \(chosen.secret) for \(repoURL) sets insecure: \"true\" (skip TLS certificate checks), which pattern never does",
                         at: chosen.location,
                         fix: "remove insecure and trust the registry's CA instead; for a plain-HTTP OCI registry set insecureOCIForceHttp: \"true\"")
        }
        return ChartRepositoryAccess(username: chosen.username, password: chosen.password, plainHTTP: chosen.plainHTTP,
                                     oci: chosen.enableOCI || chosen.type == "oci", secret: chosen.secret)
    }
}
