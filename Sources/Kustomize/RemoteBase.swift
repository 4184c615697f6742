import PatternCore
import Helm

/// A remote `resources:`/`components:` entry (`github.com/org/repo//path?ref=v1.2.3`,
/// `https://host/org/repo.git//path?ref=…`, `git::https://…`, `ssh://git@…`, `git@host:org/repo`),
/// parsed exactly as Kustomize's `api/internal/git/repospec.go` parses it.
public struct RemoteSpec: Sendable, Hashable, CustomStringConvertible {
    /// The entry as written.
    public var raw: String
    /// Scheme, user and host as Kustomize keeps them: `https://github.com/`, `git@github.com:`,
    /// `ssh://git@host/`, `file://`.
    public var host: String
    /// Repository path after the host (`org/repo`, `org/repo.git`, `collection/_git/repo`).
    public var repoPath: String
    /// Directory inside the repository holding the kustomization (`""` = repository root).
    public var path: String
    /// `?ref=` (or `?version=`); `""` when absent.
    public var ref: String
    /// `?timeout=` in seconds (Kustomize's default 27).
    public var timeoutSeconds: Double
    /// `?submodules=` (default true).
    public var submodules: Bool

    /// The URL to clone: Kustomize's `CloneSpec()`, host + repository path.
    public var cloneURL: String { host + repoPath }

    public var description: String { cloneURL + (path.isEmpty ? "" : "//" + path) + (ref.isEmpty ? "" : "?ref=" + ref) }

    /// Why an entry is not a remote repository (Kustomize's words).
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Parses `text` as Kustomize does (`NewRepoSpecFromURL`).
    public init(parsing text: String) throws(ParseError) {
        raw = text
        if text.hasPrefix("/") { throw ParseError(description: "uri looks like abs path: \(text)") }
        var n = text
        var query = ""
        if let q = text.firstIndex(of: "?") { n = String(text[..<q]); query = String(text[text.index(after: q)...]) }
        (ref, timeoutSeconds, submodules) = RemoteSpec.parseQuery(query)
        let rest: String
        (host, rest) = try RemoteSpec.extractHost(n)
        (repoPath, path) = try RemoteSpec.parsePathParts(rest, allSegments: host.hasPrefix("file://"))
    }

    static func parsePathParts(_ n: String, allSegments: Bool) throws(ParseError) -> (String, String) {
        var split = explicitMarkerSplit(n)
        if split == nil {
            if allSegments { split = (n, "") } else {
                let segs = n.split(separator: "/", omittingEmptySubsequences: false)
                if segs.count >= 2 { split = (segs[..<2].joined(separator: "/"), segs[2...].joined(separator: "/")) }
            }
        }
        guard let (repo, sub) = split, !repo.isEmpty else { throw ParseError(description: "failed to parse repo path segment") }
        // filepath.Clean, then: does the first element climb out?
        var parts: [Substring] = []
        for c in sub.split(separator: "/") where c != "." {
            if c == "..", let last = parts.last, last != ".." { parts.removeLast() } else { parts.append(c) }
        }
        if parts.first == ".." { throw ParseError(description: "url path exits repo: \(n)") }
        return (repo, sub.hasPrefix("/") ? String(sub.dropFirst()) : sub)
    }

    static func explicitMarkerSplit(_ n: String) -> (String, String)? {
        if let r = n.firstRange(of: "_git/") {
            let after = n[r.upperBound...].split(separator: "/", omittingEmptySubsequences: false)
            return (String(n[..<r.upperBound]) + after[0], after.dropFirst().joined(separator: "/"))
        }
        if let r = n.firstRange(of: "//") { return (String(n[..<r.lowerBound]), String(n[r.upperBound...])) }
        if let r = n.firstRange(of: ".git") { return (String(n[..<r.upperBound]), String(n[r.upperBound...])) }
        return nil
    }

    static func parseQuery(_ q: String) -> (String, Double, Bool) {
        var values: [String: String] = [:]
        for pair in q.split(separator: "&") where !pair.isEmpty {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let k = percentDecode(kv[0]) else { return ("", 27, true) }  // url.ParseQuery failed
            guard let v = percentDecode(kv.count > 1 ? kv[1] : "") else { return ("", 27, true) }
            if values[k] == nil { values[k] = v }  // Values.Get returns the first
        }
        var ref = values["version"] ?? ""
        if let r = values["ref"], !r.isEmpty { ref = r }
        var timeout = 27.0
        if let t = values["timeout"], !t.isEmpty {
            if let i = Int(t), i > 0 { timeout = Double(i) } else if let d = goDuration(t), d > 0 { timeout = d }
        }
        var submodules = true
        if let s = values["submodules"], let b = goBool(s) { submodules = b }
        return (ref, timeout, submodules)
    }

    static func percentDecode(_ s: Substring) -> String? {
        var out: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let c = it.popFirst() {
            if c == UInt8(ascii: "+") { out.append(0x20); continue }
            guard c == UInt8(ascii: "%") else { out.append(c); continue }
            guard it.count >= 2, let h = hex(it[it.startIndex]), let l = hex(it[it.startIndex + 1]) else { return nil }
            out.append(h << 4 | l)
            it = it.dropFirst(2)
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Go's `strconv.ParseBool`.
    static func goBool(_ s: String) -> Bool? {
        switch s {
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False": return false
        default: return nil
        }
    }

    /// Go's `time.ParseDuration` for the common forms (`30s`, `1m30s`, `1.5h`, `500ms`), in seconds.
    static func goDuration(_ s: String) -> Double? {
        let units: [(String, Double)] = [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]
        var rest = Substring(s)
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let num = rest.prefix { $0.isNumber || $0 == "." }
            guard !num.isEmpty, let v = Double(num) else { return nil }
            rest = rest.dropFirst(num.count)
            guard let (u, f) = units.first(where: { rest.hasPrefix($0.0) && !(($0.0 == "m") && rest.hasPrefix("ms")) }) else { return nil }
            rest = rest.dropFirst(u.count)
            total += v * f
        }
        return total
    }

    static func extractHost(_ input: String) throws(ParseError) -> (String, String) {
        var n = input
        if n.lowercased().hasPrefix("git::") { n = String(n.dropFirst(5)) }
        var scheme = ""
        for prefix in ["ssh://", "https://", "http://", "file://"] where n.lowercased().hasPrefix(prefix) {
            scheme = prefix; n = String(n.dropFirst(prefix.count)); break
        }
        var username = ""
        if let at = n.firstIndex(of: "@") {
            let u = n[..<at]
            if let f = u.first, f.isASCII, f.isLetter,
               u.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) {
                username = String(u) + "@"; n = String(n[n.index(after: at)...])
            }
        }
        let lower = n.lowercased()
        let stdGithub = lower.hasPrefix("github.com/") || lower.hasPrefix("github.com:")
        let acceptSCP = scheme.isEmpty && (!username.isEmpty || stdGithub)
        if scheme.isEmpty && !acceptSCP { throw ParseError(description: "failed to parse scheme") }
        if scheme == "file://" { return (scheme, username + n) }
        var host = n, rest = ""
        var sep = n.firstIndex(of: "/")
        if acceptSCP, let colon = n.firstIndex(of: ":"), colon > n.startIndex, sep == nil || colon < sep! { sep = colon }
        if let sep { host = String(n[...sep]); rest = String(n[n.index(after: sep)...]) }
        if stdGithub {
            if scheme.hasPrefix("ssh://") || !username.isEmpty { scheme = ""; host = "github.com:" } else {
                scheme = "https://"; username = ""; host = "github.com/"
            }
        }
        if host.isEmpty { throw ParseError(description: "failed to parse host segment") }
        return (scheme + username + host, rest)
    }

    /// True for a full 40-hex commit id.
    public var refIsCommit: Bool {
        ref.utf8.count == 40 && ref.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }
}

/// A remote base fetched by a `RemoteBaseLoader`.
public struct RemoteBase: Sendable {
    /// The repository's files at the resolved commit.
    public var tree: any SourceTree
    /// The commit the ref resolved to.
    public var commit: String
    /// True when the ref names something immutable: a full commit id or a tag. A branch, or no
    /// ref (the default branch), is not pinned.
    public var pinned: Bool

    public init(tree: any SourceTree, commit: String, pinned: Bool) {
        self.tree = tree; self.commit = commit; self.pinned = pinned
    }
}

/// Fetches remote bases for a build (implemented outside this module — over PatternSource's git
/// source cache in the CLI — so the Kustomize engine does not link a git library).
public protocol RemoteBaseLoader: Sendable {
    /// Fetches (or finds in a cache) the repository of `spec` at `spec.ref` (the default branch
    /// when empty). Errors are plain messages; the builder locates them at the entry.
    func load(_ spec: RemoteSpec) throws(RemoteBaseError) -> RemoteBase
}

/// A remote base that could not be fetched (already redacted: no credentials).
public struct RemoteBaseError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var fix: String
    public init(_ message: String, fix: String) { self.message = message; self.fix = fix }
    public var description: String { message }
}

/// How a build treats remote `resources:`/`components:` entries.
public struct RemotePolicy: Sendable {
    /// Fetches repositories; nil = remote entries are errors.
    public var loader: (any RemoteBaseLoader)?
    /// Accept a remote that is not pinned (no `ref=`, or a branch). Off by default, like git
    /// sources that must be pinned to be reproducible.
    public var allowUnpinned: Bool
    /// Downloads plain `https://…/file.yaml` resources; nil = they are errors. Unpinned ones
    /// (no `#sha256=`) need `allowUnpinned` too.
    public var files: (any RemoteFileLoader)?
    /// Fetches `helmCharts:` charts named by `repo:` (https chart repositories, `oci://`);
    /// nil = such entries must be vendored under `chartHome`. An entry whose `version` is not
    /// one exact version needs `allowUnpinned` too.
    public var charts: (any RemoteChartLoader)?
    /// Receives the warnings of every `helmCharts:` render (vendored or pulled), located at
    /// the chart's files; nil = they are not collected.
    public var chartWarnings: ChartWarningSink?

    public init(loader: (any RemoteBaseLoader)? = nil, allowUnpinned: Bool = false, files: (any RemoteFileLoader)? = nil,
                charts: (any RemoteChartLoader)? = nil) {
        self.loader = loader; self.allowUnpinned = allowUnpinned; self.files = files; self.charts = charts
    }

    public static let none = RemotePolicy()
}
