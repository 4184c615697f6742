/// Semantic version constraints for dependency matching (Masterminds/semver v3 semantics).
enum VersionRange {
    /// Whether `version` satisfies `constraint` (an empty constraint matches everything;
    /// an unparsable one matches nothing, as Helm's `IsCompatibleRange`).
    static func compatible(_ constraint: String, _ version: String) -> Bool {
        let c = constraint.trimmingCharacters(" ")
        if c.isEmpty || c == "*" || c == "x" { return true }
        return c == version || c == "v" + version
    }
}
