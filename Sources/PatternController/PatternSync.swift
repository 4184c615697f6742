import PatternCore
import PatternSource
import KubeClient
import PatternDiff
import ValidatedPatterns

/// The `PatternSync` custom resource (`pattern.dev/v1alpha1`): which site of which pattern
/// repository the controller keeps a cluster in sync with, and how.
public struct PatternSyncSpec: Sendable, Hashable {
    public enum DriftPolicy: String, Sendable, Hashable { case report, heal }

    /// Where the pattern repository comes from.
    public enum SourceSpec: Sendable, Hashable {
        /// A git repository (the overlays and patterns live in it, under `path`).
        case git(url: String, ref: String?, path: String?, mirrors: [String], credentialsSecretRef: String?)
        /// A local directory (out-of-cluster and development use).
        case path(String)
    }

    public var source: SourceSpec
    /// `spec.source.git.verify: {sshKeys: […], gpgKeys: […]}`: the commit must be signed by
    /// one of these keys (public keys inline; see Docs/sources.md "Commit signatures").
    public var verify: CommitVerification?
    public var site: String
    public var intervalSeconds: Double
    public var driftPolicy: DriftPolicy
    public var prune: Bool
    public var suspend: Bool
    public var timeoutSeconds: Double
    public var recordNamespace: String
    /// `spec.ignoreDifferences`: added to the site's own ignore rules for drift, diff and apply.
    public var ignoreDifferences: [IgnoreRule] = []
    /// `spec.cluster` / `spec.clusterSelector`: where the site is applied (default: in-cluster).
    public var cluster: ClusterRef = .inCluster
    /// `spec.validatedPatterns.multiSourceConfig`: a Validated Patterns `Pattern`'s
    /// `spec.multiSourceConfig` (set on the PatternSync made for it), which decides the
    /// clustergroup chart of a Validated Patterns checkout; nil: `values-global.yaml` decides.
    public var multiSourceConfig: MultiSourceConfig?

    public static let group = "pattern.dev"
    public static let version = "v1alpha1"
    public static let kind = "PatternSync"
    public static let plural = "patternsyncs"
    public static let gvk = GroupVersionKind(group: group, version: version, kind: kind)

    /// Decodes `spec`; throws a message a human can act on.
    public init(spec: Value) throws(SpecError) {
        guard spec.object != nil else { throw SpecError("spec is missing") }
        guard let site = spec["site"]?.string, !site.isEmpty else {
            throw SpecError("spec.site is required: the name of the site overlay (overlays/<site>/overlay.yaml) to render")
        }
        self.site = site
        let src = spec["source"]
        if let git = src?["git"], git.object != nil {
            guard let url = git["url"]?.string, !url.isEmpty else { throw SpecError("spec.source.git.url is required") }
            source = .git(url: url, ref: git["ref"]?.string, path: git["path"]?.string,
                          mirrors: (git["mirrors"]?.array ?? []).compactMap(\.string),
                          credentialsSecretRef: git[path: ["credentialsSecretRef", "name"]]?.string ?? git["credentialsSecretRef"]?.string)
            if let v = git["verify"] {
                if v["sshKeysFile"] != nil || v["gpgKeysFile"] != nil {
                    throw SpecError("spec.source.git.verify: sshKeysFile/gpgKeysFile are not read in the cluster; put the public keys in sshKeys/gpgKeys")
                }
                do throws(SourceError) { verify = try CommitVerification(value: v) } catch {
                    throw SpecError("spec.source.git.verify: \(error.message)" + (error.fix.map { " (fix: \($0))" } ?? ""))
                }
            }
        } else if let p = src?["path"]?.string, !p.isEmpty {
            source = .path(p)
        } else {
            throw SpecError("spec.source needs either git.url (a pattern repository) or path (a local directory)")
        }
        do {
            intervalSeconds = try DurationParser.seconds(spec["interval"]?.string ?? "5m", field: "spec.interval")
            timeoutSeconds = try DurationParser.seconds(spec["timeout"]?.string ?? "5m", field: "spec.timeout")
        }
        guard intervalSeconds > 0 else { throw SpecError("spec.interval must be positive") }
        let dp = spec["driftPolicy"]?.string ?? "report"
        guard let policy = DriftPolicy(rawValue: dp) else { throw SpecError("spec.driftPolicy must be 'report' or 'heal', not '\(dp)'") }
        driftPolicy = policy
        prune = spec["prune"]?.bool ?? true
        suspend = spec["suspend"]?.bool ?? false
        recordNamespace = spec["recordNamespace"]?.string ?? "pattern-system"
        cluster = try ClusterRef(spec: spec)
        if let m = spec[path: ["validatedPatterns", "multiSourceConfig"]], !m.isNull {
            guard m.object != nil else { throw SpecError("spec.validatedPatterns.multiSourceConfig must be an object") }
            multiSourceConfig = MultiSourceConfig(value: m)
        }
        if let id = spec["ignoreDifferences"] {
            do { ignoreDifferences = try IgnoreRule.decodeList(id, file: "PatternSync spec", in: "spec") } catch {
                throw SpecError("spec.ignoreDifferences: " + error.items.map { $0.message + ($0.fix.map { " (\($0))" } ?? "") }.joined(separator: "; "))
            }
        }
    }
}

/// A PatternSync spec that cannot be used.
public struct SpecError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ m: String) { message = m }
    public var description: String { message }
}

/// Go-style durations as Kubernetes users write them: `30s`, `5m`, `1h30m`, `500ms`.
public enum DurationParser {
    public static func seconds(_ s: String, field: String) throws(SpecError) -> Double {
        var total = 0.0
        var num = ""
        var unit = ""
        var sawAny = false
        func flush() throws(SpecError) {
            guard let n = Double(num) else { throw SpecError("\(field): '\(s)' is not a duration (examples: 30s, 5m, 1h)") }
            switch unit {
            case "ms": total += n / 1000
            case "s": total += n
            case "m": total += n * 60
            case "h": total += n * 3600
            default: throw SpecError("\(field): unknown unit '\(unit)' in '\(s)' (use ms, s, m or h)")
            }
            num = ""; unit = ""; sawAny = true
        }
        for c in s {
            if c.isNumber || c == "." {
                if !unit.isEmpty { try flush() }
                num.append(c)
            } else if c.isLetter {
                unit.append(c)
            } else {
                throw SpecError("\(field): '\(s)' is not a duration (examples: 30s, 5m, 1h)")
            }
        }
        if !num.isEmpty || !unit.isEmpty { try flush() }
        guard sawAny else { throw SpecError("\(field): empty duration") }
        return total
    }
}

/// UTC timestamps in the formats the API uses (RFC 3339 seconds, and MicroTime for Leases).
public enum Timestamp {
    /// Now, as seconds and microseconds since the epoch.
    public static func now() -> (seconds: Int, micros: Int) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return (Int(ts.tv_sec), Int(ts.tv_nsec / 1000))
    }

    /// RFC 3339 in seconds (`2026-01-02T03:04:05Z`), of `seconds` or now.
    public static func rfc3339(_ seconds: Int? = nil) -> String { format(seconds ?? now().seconds, micros: nil) }

    /// RFC 3339 with microseconds, now.
    public static func micro() -> String {
        let n = now()
        return format(n.seconds, micros: n.micros)
    }

    /// RFC 3339 of `seconds`, with microseconds when given.
    public static func format(_ seconds: Int, micros: Int?) -> String {
        var t = time_t(seconds)
        var tm = tm()
        gmtime_r(&t, &tm)
        func p(_ v: Int32, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
        var out = "\(p(tm.tm_year + 1900, 4))-\(p(tm.tm_mon + 1, 2))-\(p(tm.tm_mday, 2))T\(p(tm.tm_hour, 2)):\(p(tm.tm_min, 2)):\(p(tm.tm_sec, 2))"
        if let micros { out += "." + p(Int32(micros), 6) }
        return out + "Z"
    }

    /// Parses `2026-01-02T03:04:05Z` / `…05.123456Z` to seconds since the epoch.
    public static func parse(_ s: String) -> Double? {
        let b = Array(s.utf8)
        guard b.count >= 20 else { return nil }
        func num(_ r: Range<Int>) -> Int32? { Int32(String(decoding: b[r], as: UTF8.self)) }
        guard let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), let h = num(11..<13), let mi = num(14..<16), let se = num(17..<19) else { return nil }
        var tm = tm()
        tm.tm_year = y - 1900; tm.tm_mon = mo - 1; tm.tm_mday = d; tm.tm_hour = h; tm.tm_min = mi; tm.tm_sec = se
        var frac = 0.0
        if b.count > 20, b[19] == UInt8(ascii: ".") {
            var digits = ""
            var i = 20
            while i < b.count, b[i] >= 48, b[i] <= 57 { digits.append(Character(UnicodeScalar(b[i]))); i += 1 }
            frac = Double("0." + digits) ?? 0
        }
        return Double(timegm(&tm)) + frac
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
