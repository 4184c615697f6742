/// A semantic version as Masterminds/semver v3 parses it (`NewVersion`, the loose form Sprig's
/// `semver`/`semverCompare` and Helm's chart dependencies use): an optional `v`, missing minor or
/// patch read as 0, a prerelease after `-` and build metadata after `+`.
public struct SemanticVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: UInt64
    public var minor: UInt64
    public var patch: UInt64
    public var prerelease: String
    public var metadata: String
    /// The text it was parsed from.
    public var original: String

    public init(major: UInt64, minor: UInt64, patch: UInt64, prerelease: String = "", metadata: String = "") {
        self.major = major
        self.minor = minor
        self.patch = patch
        self.prerelease = prerelease
        self.metadata = metadata
        self.original = ""
        self.original = description
    }

    /// Parses `text` as `semver.NewVersion` does; throws "Invalid Semantic Version" as it does.
    public init(_ text: String) throws(SemverError) {
        guard let p = SemanticVersion.parseParts(text, allowWildcards: false) else { throw SemverError.invalidVersion(text) }
        func num(_ s: Substring?) throws(SemverError) -> UInt64 {
            guard let s, !s.isEmpty else { return 0 }
            guard let n = UInt64(s) else {
                throw SemverError(message: "Error parsing version segment: strconv.ParseUint: parsing \(GoFormat.quote(String(s))): value out of range", input: text)
            }
            return n
        }
        major = try num(p.major)
        minor = try num(p.minor)
        patch = try num(p.patch)
        prerelease = String(p.pre ?? "")
        metadata = String(p.meta ?? "")
        original = text
        if !prerelease.isEmpty {
            for part in prerelease.split(separator: ".", omittingEmptySubsequences: false)
            where part.count > 1 && part.first == "0" && part.allSatisfy({ $0.isASCII && $0.isNumber }) {
                throw SemverError(message: "Version segment starts with 0", input: text)
            }
        }
    }

    struct Parts {
        var major: Substring
        var minor: Substring?
        var patch: Substring?
        var pre: Substring?
        var meta: Substring?
    }

    static func isIdentChar(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "-")
    }

    static func validIdentifiers(_ s: Substring) -> Bool {
        !s.isEmpty && s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { !$0.isEmpty && $0.allSatisfy(isIdentChar) }
    }

    /// `v?N(.N)?(.N)?(-pre)?(+meta)?`; with `allowWildcards`, N may also be `x`, `X` or `*` (or digits mixed with them, as the Go regex allows).
    static func parseParts(_ text: String, allowWildcards: Bool) -> Parts? {
        var s = Substring(text)
        if s.first == "v" { s = s.dropFirst() }
        var meta: Substring? = nil
        if let plus = s.firstIndex(of: "+") {
            meta = s[s.index(after: plus)...]
            s = s[..<plus]
            guard validIdentifiers(meta!) else { return nil }
        }
        var pre: Substring? = nil
        if let dash = s.firstIndex(of: "-") {
            pre = s[s.index(after: dash)...]
            s = s[..<dash]
            guard validIdentifiers(pre!) else { return nil }
        }
        let nums = s.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...3).contains(nums.count) else { return nil }
        for n in nums {
            guard !n.isEmpty else { return nil }
            let ok = n.allSatisfy { c in (c.isASCII && c.isNumber) || (allowWildcards && (c == "x" || c == "X" || c == "*" || c == "|")) }
            guard ok else { return nil }
        }
        return Parts(major: nums[0], minor: nums.count > 1 ? nums[1] : nil, patch: nums.count > 2 ? nums[2] : nil, pre: pre, meta: meta)
    }

    /// `Version.String()`: `MAJOR.MINOR.PATCH[-pre][+meta]`.
    public var description: String {
        var s = "\(major).\(minor).\(patch)"
        if !prerelease.isEmpty { s += "-" + prerelease }
        if !metadata.isEmpty { s += "+" + metadata }
        return s
    }

    /// `Version.Compare`: -1, 0 or 1 (metadata ignored, prereleases per SemVer 2.0).
    public func compare(_ o: SemanticVersion) -> Int {
        if major != o.major { return major < o.major ? -1 : 1 }
        if minor != o.minor { return minor < o.minor ? -1 : 1 }
        if patch != o.patch { return patch < o.patch ? -1 : 1 }
        if prerelease.isEmpty && o.prerelease.isEmpty { return 0 }
        if prerelease.isEmpty { return 1 }
        if o.prerelease.isEmpty { return -1 }
        return SemanticVersion.comparePrerelease(prerelease, o.prerelease)
    }

    static func comparePrerelease(_ v: String, _ o: String) -> Int {
        let sp = v.split(separator: ".", omittingEmptySubsequences: false)
        let op = o.split(separator: ".", omittingEmptySubsequences: false)
        for i in 0..<max(sp.count, op.count) {
            let s = i < sp.count ? sp[i] : ""
            let t = i < op.count ? op[i] : ""
            let d = comparePrePart(s, t)
            if d != 0 { return d }
        }
        return 0
    }

    static func comparePrePart(_ s: Substring, _ o: Substring) -> Int {
        if s == o { return 0 }
        if s.isEmpty { return o.isEmpty ? 1 : -1 }
        if o.isEmpty { return 1 }
        let oi = UInt64(o), si = UInt64(s)
        switch (si, oi) {
        case (nil, nil): return s.utf8.lexicographicallyPrecedes(o.utf8) ? -1 : 1
        case (_?, nil): return -1
        case (nil, _?): return 1
        case let (a?, b?): return a > b ? 1 : -1
        }
    }

    public static func < (a: SemanticVersion, b: SemanticVersion) -> Bool { a.compare(b) < 0 }
    public static func == (a: SemanticVersion, b: SemanticVersion) -> Bool { a.compare(b) == 0 }
    public func hash(into h: inout Hasher) {
        h.combine(major); h.combine(minor); h.combine(patch); h.combine(prerelease)
    }
}

/// A parse error of a version or constraint, with Masterminds/semver's message.
public struct SemverError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var input: String
    public init(message: String, input: String) {
        self.message = message
        self.input = input
    }
    static func invalidVersion(_ s: String) -> SemverError { SemverError(message: "Invalid Semantic Version", input: s) }
    public var description: String { message }
}

/// A version constraint as Masterminds/semver v3's `NewConstraint` reads it: `||`-separated
/// alternatives of space- or comma-separated (AND) comparisons; operators `=` `!=` `>` `<` `>=`
/// `<=` `~` `~>` `^`; wildcards `x` `X` `*`; hyphen ranges `1.2 - 1.4.5`. A prerelease version
/// only satisfies comparisons whose own version has a prerelease (`>=1.0.0-0`).
public struct SemverConstraint: Sendable, CustomStringConvertible {
    enum Op: String, Sendable { case eq = "", equals = "=", ne = "!=", gt = ">", lt = "<", ge = ">=", le = "<=", tilde = "~", caret = "^" }

    struct Single: Sendable {
        var op: Op
        var con: SemanticVersion
        var dirty: Bool
        var minorDirty: Bool
        var patchDirty: Bool
        var orig: String
    }

    let groups: [[Single]]
    /// The text it was parsed from.
    public let original: String

    public init(_ text: String) throws(SemverError) {
        original = text
        var groups: [[Single]] = []
        for seg in SemverConstraint.splitOr(text) {
            let items = try SemverConstraint.parseSegment(seg, whole: text)
            groups.append(items)
        }
        self.groups = groups
    }

    public var description: String { original }

    static func splitOr(_ s: String) -> [String] {
        var out: [String] = []
        var cur = ""
        var it = Array(s)
        var i = 0
        while i < it.count {
            if it[i] == "|" && i + 1 < it.count && it[i + 1] == "|" {
                out.append(cur); cur = ""; i += 2; continue
            }
            cur.append(it[i])
            i += 1
        }
        out.append(cur)
        it = []
        return out
    }

    static func isVersionChar(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "." || c == "-" || c == "+" || c == "*")
    }

    /// Tokens of one `||` segment: (operator, version) pairs, hyphen ranges rewritten.
    static func parseSegment(_ seg: String, whole: String) throws(SemverError) -> [Single] {
        let improper = SemverError(message: "improper constraint: \(seg)", input: whole)
        let c = Array(seg)
        var i = 0
        var raw: [(op: String, ver: String)] = []
        func skipSpace() { while i < c.count && (c[i] == " " || c[i] == "\t" || c[i] == "\n" || c[i] == "\r") { i += 1 } }
        while true {
            skipSpace()
            if i < c.count && c[i] == "," { i += 1; skipSpace() }
            if i >= c.count { break }
            var op = ""
            while i < c.count && "=!<>~^".contains(c[i]) && op.count < 2 { op.append(c[i]); i += 1 }
            skipSpace()
            var ver = ""
            while i < c.count && isVersionChar(c[i]) {
                // A " - " hyphen is a range separator, not part of a version.
                ver.append(c[i])
                i += 1
            }
            if ver.isEmpty { throw improper }
            raw.append((op, ver))
            // hyphen range: VERSION - VERSION
            var j = i
            var sawSpace = false
            while j < c.count && c[j] == " " { j += 1; sawSpace = true }
            if op.isEmpty, sawSpace, j < c.count, c[j] == "-", j + 1 < c.count, c[j + 1] == " " {
                j += 1
                while j < c.count && c[j] == " " { j += 1 }
                var ver2 = ""
                while j < c.count && isVersionChar(c[j]) { ver2.append(c[j]); j += 1 }
                if ver2.isEmpty { throw improper }
                raw[raw.count - 1].op = ">="
                raw.append(("<=", ver2))
                i = j
            }
        }
        if raw.isEmpty {
            if seg.allSatisfy({ $0 == " " }) && !seg.isEmpty { throw improper }
            // Empty constraint: any version (as `*`).
            return [Single(op: .eq, con: SemanticVersion(major: 0, minor: 0, patch: 0), dirty: true, minorDirty: false, patchDirty: false, orig: "")]
        }
        var out: [Single] = []
        for (opText, ver) in raw {
            let op: Op
            switch opText {
            case "": op = .eq
            case "=": op = .equals
            case "!=": op = .ne
            case ">": op = .gt
            case "<": op = .lt
            case ">=", "=>": op = .ge
            case "<=", "=<": op = .le
            case "~", "~>": op = .tilde
            case "^": op = .caret
            default: throw improper
            }
            guard let p = SemanticVersion.parseParts(ver, allowWildcards: true) else { throw improper }
            func isX(_ s: Substring?) -> Bool { s == "x" || s == "X" || s == "*" }
            var suffix = ""
            if let pre = p.pre { suffix += "-" + pre }
            if let meta = p.meta { suffix += "+" + meta }
            var dirty = false, minorDirty = false, patchDirty = false
            var text: String
            if isX(p.major) {
                text = "0.0.0" + suffix
                dirty = true
            } else if p.minor == nil || isX(p.minor) {
                minorDirty = true
                dirty = true
                text = "\(p.major).0.0" + suffix
            } else if p.patch == nil || isX(p.patch) {
                dirty = true
                patchDirty = true
                text = "\(p.major).\(p.minor!).0" + suffix
            } else {
                text = "\(p.major).\(p.minor!).\(p.patch!)" + suffix
            }
            guard let con = try? SemanticVersion(text) else { throw SemverError(message: "constraint Parser Error", input: whole) }
            out.append(Single(op: op, con: con, dirty: dirty, minorDirty: minorDirty, patchDirty: patchDirty, orig: ver))
        }
        return out
    }

    /// Whether `v` satisfies the constraint (`Constraints.Check`).
    public func check(_ v: SemanticVersion) -> Bool {
        groups.contains { group in group.allSatisfy { SemverConstraint.check(v, $0) } }
    }

    /// Parses `version` and checks it.
    public func check(_ version: String) throws(SemverError) -> Bool { check(try SemanticVersion(version)) }

    static func check(_ v: SemanticVersion, _ c: Single) -> Bool {
        let preBlocked = !v.prerelease.isEmpty && c.con.prerelease.isEmpty
        switch c.op {
        case .eq, .equals:
            if c.dirty { return tilde(v, c) }
            return v.compare(c.con) == 0
        case .ne:
            if c.dirty {
                if preBlocked { return false }
                if c.con.major != v.major { return true }
                if c.con.minor != v.minor && !c.minorDirty { return true }
                if c.minorDirty { return false }
                if c.con.patch != v.patch && !c.patchDirty { return true }
                if c.patchDirty {
                    if !v.prerelease.isEmpty || !c.con.prerelease.isEmpty {
                        return SemanticVersion.comparePrerelease(v.prerelease, c.con.prerelease) != 0
                    }
                    return false
                }
            }
            return v.compare(c.con) != 0
        case .gt:
            if preBlocked { return false }
            if !c.dirty { return v.compare(c.con) == 1 }
            if v.major > c.con.major { return true }
            if v.major < c.con.major { return false }
            if c.minorDirty { return false }
            if c.patchDirty { return v.minor > c.con.minor }
            return v.compare(c.con) == 1
        case .lt:
            if preBlocked { return false }
            return v.compare(c.con) < 0
        case .ge:
            if preBlocked { return false }
            return v.compare(c.con) >= 0
        case .le:
            if preBlocked { return false }
            if !c.dirty { return v.compare(c.con) <= 0 }
            if v.major > c.con.major { return false }
            if v.major == c.con.major && v.minor > c.con.minor && !c.minorDirty { return false }
            return true
        case .tilde:
            return tilde(v, c)
        case .caret:
            if preBlocked { return false }
            if v.compare(c.con) < 0 { return false }
            if c.con.major > 0 || c.minorDirty { return v.major == c.con.major }
            if c.con.major == 0 && v.major > 0 { return false }
            if c.con.minor > 0 || c.patchDirty { return v.minor == c.con.minor }
            if c.con.minor == 0 && v.minor > 0 { return false }
            return c.con.patch == v.patch
        }
    }

    static func tilde(_ v: SemanticVersion, _ c: Single) -> Bool {
        if !v.prerelease.isEmpty && c.con.prerelease.isEmpty { return false }
        if v.compare(c.con) < 0 { return false }
        if c.con.major == 0 && c.con.minor == 0 && c.con.patch == 0 && !c.minorDirty && !c.patchDirty { return true }
        if v.major != c.con.major { return false }
        if v.minor != c.con.minor && !c.minorDirty { return false }
        return true
    }
}

/// `*semver.Version` as a template object (`semver "1.2.3"` → `.Major`, `.Compare`, …).
struct SemverObject: TemplateObject {
    let version: SemanticVersion
    var goTypeName: String { "*semver.Version" }

    func field(_ name: String) -> TemplateValue? { nil }

    func method(_ name: String) -> TemplateMethod? {
        let v = version
        @Sendable func other(_ a: [TemplateValue]) throws -> SemanticVersion {
            guard case .object(let o) = a[0], let s = o as? SemverObject else {
                throw TemplateFunctionError("wrong type for value; expected *semver.Version; got \(a[0].goTypeName)")
            }
            return s.version
        }
        switch name {
        case "Major": return TemplateMethod { _ in .int64(Int64(truncatingIfNeeded: v.major)) }
        case "Minor": return TemplateMethod { _ in .int64(Int64(truncatingIfNeeded: v.minor)) }
        case "Patch": return TemplateMethod { _ in .int64(Int64(truncatingIfNeeded: v.patch)) }
        case "Prerelease": return TemplateMethod { _ in .string(v.prerelease) }
        case "Metadata": return TemplateMethod { _ in .string(v.metadata) }
        case "Original": return TemplateMethod { _ in .string(v.original) }
        case "String": return TemplateMethod { _ in .string(v.description) }
        case "Compare": return TemplateMethod(params: [.any]) { a in .int(v.compare(try other(a))) }
        case "LessThan": return TemplateMethod(params: [.any]) { a in .bool(v.compare(try other(a)) < 0) }
        case "GreaterThan": return TemplateMethod(params: [.any]) { a in .bool(v.compare(try other(a)) > 0) }
        case "Equal": return TemplateMethod(params: [.any]) { a in .bool(v.compare(try other(a)) == 0) }
        case "IncMajor": return TemplateMethod { _ in .object(SemverObject(version: SemanticVersion(major: v.major + 1, minor: 0, patch: 0))) }
        case "IncMinor": return TemplateMethod { _ in .object(SemverObject(version: SemanticVersion(major: v.major, minor: v.minor + 1, patch: 0))) }
        case "IncPatch":
            return TemplateMethod { _ in
                .object(SemverObject(version: v.prerelease.isEmpty && v.metadata.isEmpty
                    ? SemanticVersion(major: v.major, minor: v.minor, patch: v.patch + 1)
                    : SemanticVersion(major: v.major, minor: v.minor, patch: v.patch)))
            }
        default: return nil
        }
    }

    var goFormatted: String? { version.description }
    var dataValue: TemplateValue? { .string(version.description) }
}
