import HelmTemplate

/// Semantic version constraints for dependency versions and `kubeVersion`, with
/// Masterminds/semver v3 semantics (HelmTemplate's `SemverConstraint`).
enum VersionRange {
    /// Whether `version` satisfies `constraint`. An empty constraint matches everything; an
    /// unparsable constraint or version matches nothing (as Helm's `IsCompatibleRange`).
    static func compatible(_ constraint: String, _ version: String) -> Bool {
        let c = constraint.trimming(.spacesAndTabs)
        if c.isEmpty { return SemverSyntax.isValid(version) || (try? SemanticVersion(version)) != nil }
        guard let con = try? SemverConstraint(c), let v = try? SemanticVersion(version.trimming(.spacesAndTabs)) else { return false }
        return con.check(v)
    }
}

extension String {
    func components(separatedBy sep: String) -> [String] {
        var out: [String] = []
        var rest = Substring(self)
        while let r = rest.firstRange(of: sep) { out.append(String(rest[..<r.lowerBound])); rest = rest[r.upperBound...] }
        out.append(String(rest))
        return out
    }
}
