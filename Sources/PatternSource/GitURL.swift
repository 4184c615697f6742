import PatternCore

/// A remote repository location as written by the user, split into what libgit2 gets, what
/// humans see, and the cache key.
///
/// Accepted forms: a local path (`/srv/git/pattern.git`, `./pattern`), `file://`, `git://`
/// (git daemon), `http(s)://` and `ssh://`, and scp-like `user@host:path`. Userinfo in the URL
/// is split off: the password (or, for http(s), a token given as the user name is still just
/// the user name) goes to the credential callback, never into the URL libgit2 sees, the cache
/// key, the repository config or any message.
public struct GitURL: Sendable, Hashable, CustomStringConvertible {
    public enum Scheme: String, Sendable, Hashable { case local, file, git, http, https, ssh }

    public let scheme: Scheme
    /// User name from the URL, if any.
    public let username: String?
    /// Password from the URL userinfo, if any (secret).
    let password: String?
    /// The URL handed to libgit2: no password.
    public let transportURL: String
    /// For messages, ledgers and rendered output: userinfo removed for http(s), password removed otherwise.
    public let redacted: String
    /// Cache key: scheme and host lower-cased, no userinfo, no trailing `/` (nor `.git` for
    /// remote URLs); local paths and `file://` URLs of the same directory share a key.
    public let normalized: String

    public var description: String { redacted }

    public init(_ text: String) throws(SourceError) {
        let raw = text.trimmingSpaces()
        guard !raw.isEmpty else { throw SourceError(.invalidSource, "empty repository URL", fix: "give a URL or a path") }
        if let r = raw.firstRange(of: "://") {
            let schemeText = raw[..<r.lowerBound].lowercased()
            guard let scheme = Scheme(rawValue: schemeText), scheme != .local else {
                throw SourceError(.invalidSource, "unsupported URL scheme '\(schemeText)' in '\(Redactor.redactURLs(in: raw))'",
                                  fix: "use a local path, file://, git://, https://, ssh:// or user@host:path")
            }
            let afterScheme = raw[r.upperBound...]
            let slash = afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex
            var authority = afterScheme[..<slash]
            let pathPart = String(afterScheme[slash...])
            var user: String? = nil, pass: String? = nil
            if let at = authority.lastIndex(of: "@") {
                let info = authority[..<at]
                if let colon = info.firstIndex(of: ":") {
                    user = String(info[..<colon]); pass = String(info[info.index(after: colon)...])
                } else {
                    user = String(info)
                }
                authority = authority[authority.index(after: at)...]
            }
            let host = authority.lowercased()
            self.scheme = scheme
            self.username = (user?.isEmpty ?? true) ? nil : user?.percentDecoded()
            self.password = (pass?.isEmpty ?? true) ? nil : pass?.percentDecoded()
            switch scheme {
            case .http, .https:
                // The user name goes through the credential callback too: tokens are often
                // passed as the user name, so it is treated as secret.
                transportURL = "\(schemeText)://\(host)\(pathPart)"
                redacted = "\(schemeText)://\(user == nil ? "" : "***@")\(host)\(pathPart)"
            case .ssh:
                let u = user.map { "\($0)@" } ?? ""
                transportURL = "ssh://\(u)\(host)\(pathPart)"
                redacted = transportURL
            case .git:
                transportURL = "git://\(host)\(pathPart)"
                redacted = transportURL
            case .file, .local:
                let path = pathPart.isEmpty ? "/" : pathPart
                let real = FS.realPath(path) ?? path
                transportURL = "file://" + real
                redacted = transportURL
                normalized = GitURL.normalize("file://" + real)
                return
            }
            normalized = GitURL.normalize("\(schemeText)://\(host)\(pathPart)")
        } else if let colon = raw.firstIndex(of: ":"), !raw.hasPrefix("/"), !raw.hasPrefix("."),
                  !raw[..<colon].contains("/") {
            // scp-like user@host:path
            let left = raw[..<colon]
            let path = String(raw[raw.index(after: colon)...])
            var user: String? = nil
            var host = Substring(left)
            if let at = left.lastIndex(of: "@") { user = String(left[..<at]); host = left[left.index(after: at)...] }
            scheme = .ssh
            username = user
            password = nil
            let u = user.map { "\($0)@" } ?? ""
            transportURL = "\(u)\(host.lowercased()):\(path)"
            redacted = transportURL
            normalized = GitURL.normalize("ssh://\(host.lowercased())/\(path.hasPrefix("/") ? String(path.dropFirst()) : path)")
        } else {
            scheme = .local
            username = nil
            password = nil
            let abs = FS.absolute(raw)
            let real = FS.realPath(abs) ?? abs
            transportURL = real
            redacted = real
            normalized = GitURL.normalize("file://" + real)
        }
    }

    /// Remote URLs: `host/repo` and `host/repo.git` name the same repository on the usual
    /// servers, so `.git` is dropped. Local paths keep it (`/srv/p` and `/srv/p.git` may differ).
    static func normalize(_ s: String) -> String {
        var n = s
        while n.hasSuffix("/") { n.removeLast() }
        if !n.hasPrefix("file://"), n.hasSuffix(".git") { n.removeLast(4) }
        while n.hasSuffix("/") { n.removeLast() }
        return n
    }

    /// Secrets this URL carries, for scrubbing messages.
    var secrets: [String] { [password, scheme == .http || scheme == .https ? username : nil].compactMap { $0 } }

    public static func == (a: GitURL, b: GitURL) -> Bool { a.normalized == b.normalized && a.transportURL == b.transportURL }
    public func hash(into h: inout Hasher) { h.combine(normalized) }
}

extension String {
    /// Without leading and trailing spaces, tabs, CR and LF. Works on Unicode scalars:
    /// "\r\n" is one `Character` in Swift, so a Character comparison would keep it.
    func trimmingSpaces() -> String {
        var s = Substring(self).unicodeScalars[...]
        func space(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" || c == "\n" || c == "\r" }
        while let f = s.first, space(f) { s.removeFirst() }
        while let l = s.last, space(l) { s.removeLast() }
        return String(String.UnicodeScalarView(s))
    }

    func percentDecoded() -> String {
        guard contains("%") else { return self }
        var out: [UInt8] = []
        let u = Array(utf8)
        var i = 0
        while i < u.count {
            if u[i] == 37, i + 2 < u.count, let h = UInt8(String(decoding: u[(i+1)...(i+2)], as: UTF8.self), radix: 16) {
                out.append(h); i += 3
            } else { out.append(u[i]); i += 1 }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
