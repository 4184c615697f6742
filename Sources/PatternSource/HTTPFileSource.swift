#if canImport(Glibc)
import Glibc
#endif
import PatternCore

/// Plain files over HTTP(S) — Kustomize `resources:` entries such as
/// `https://raw.example.com/org/repo/v1/deploy.yaml#sha256=…` — through the source cache:
///
///     files/blobs/sha256/<hex>                 the bytes, by content digest
///     files/urls/<32 hex of sha256(url)>       "sha256:<hex>" of the last copy the URL served
///
/// A pinned file (`sha256` given) already in the cache is read without the network; one
/// downloaded must match the pin (else `.integrity`, and nothing is cached). An unpinned URL
/// is downloaded on every online run; offline (or, unless `requireFresh`, when the URL cannot
/// be reached) the last copy it served is used. Downloads are bounded by `maxBytes`, go over
/// libcurl with TLS verification always on, and never carry credentials.
public struct HTTPFileResolver: Sendable {
    public var settings: SourceResolver

    public init(settings: SourceResolver) { self.settings = settings }

    /// A fetched file.
    public struct Fetched: Sendable {
        public var bytes: [UInt8]
        /// `sha256:<hex>` of `bytes`.
        public var digest: String
        /// True when the network failed and the last cached copy of an unpinned URL was used.
        public var stale: Bool
    }

    var blobDirectory: String { settings.cache.directory + "/files/blobs/sha256" }
    var urlDirectory: String { settings.cache.directory + "/files/urls" }

    func urlEntry(_ url: String) -> String { urlDirectory + "/" + String(SHA256.hex(url).prefix(32)) }

    func cached(_ hex: String) -> [UInt8]? {
        guard let bytes = FS.readFile(blobDirectory + "/" + hex), SHA256.hex(bytes) == hex else { return nil }
        return bytes
    }

    /// The last copy `url` served, if cached.
    func lastCopy(_ url: String) -> [UInt8]? {
        guard let b = FS.readFile(urlEntry(url)) else { return nil }
        let text = String(decoding: b, as: UTF8.self)
        guard text.hasPrefix("sha256:") else { return nil }
        return cached(String(text.dropFirst(7)))
    }

    /// Fetches `url` (no fragment), checked against `sha256` (64 lowercase hex) when given.
    public func fetch(_ url: String, sha256: String?, maxBytes: Int) throws(SourceError) -> Fetched {
        let shown = Redactor.redactURLs(in: url)
        let lower = url.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://") else {
            throw SourceError(.invalidSource, "'\(shown)' is not an http(s) URL", fix: "use https://…")
        }
        if let sha256, let bytes = cached(sha256) {
            return Fetched(bytes: bytes, digest: "sha256:" + sha256, stale: false)
        }
        if settings.offline {
            if sha256 == nil, let bytes = lastCopy(url) {
                return Fetched(bytes: bytes, digest: "sha256:" + SHA256.hex(bytes), stale: false)
            }
            throw SourceError(.noUsableSource, "\(shown) is not in the cache and the network is off (--offline)",
                              fix: "run once without --offline to download it into the cache")
        }
        let response: HTTPFetch.Response
        do throws(SourceError) {
            response = try HTTPFetch.get(url, caBundle: nil, deadlines: settings.deadlines, maxBytes: maxBytes, redactor: Redactor())
            if response.status != 200 {
                throw SourceError(.unreachable, "\(shown) answered HTTP \(response.status)", fix: "check the URL")
            }
        } catch {
            if sha256 == nil, !settings.requireFresh, error.kind == .unreachable, let bytes = lastCopy(url) {
                return Fetched(bytes: bytes, digest: "sha256:" + SHA256.hex(bytes), stale: true)
            }
            throw error
        }
        let hex = SHA256.hex(response.body)
        if let sha256, sha256 != hex {
            throw SourceError(.integrity, "\(shown) served content with sha256 \(hex), not the pinned \(sha256)",
                              fix: "check that the URL serves the file you reviewed; if the change is intended, update the pin to #sha256=\(hex)")
        }
        try FS.mkdirs(blobDirectory)
        try FS.mkdirs(urlDirectory)
        let blob = blobDirectory + "/" + hex
        if cached(hex) == nil { try ChartSourceResolver.writeAtomically(blob, response.body) }
        try ChartSourceResolver.writeAtomically(urlEntry(url), Array(("sha256:" + hex).utf8))
        return Fetched(bytes: response.body, digest: "sha256:" + hex, stale: false)
    }
}
