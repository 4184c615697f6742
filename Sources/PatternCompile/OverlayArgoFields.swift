import PatternCore
import PatternDiff

extension OverlaySpec {
    /// The overlay fields of the Argo CD integration (`Docs/argocd.md`).
    static let argoSpecFields = ["applications", "ignoreDifferences"]

    /// Reads `spec.applications` and `spec.ignoreDifferences`, type-checked with file:line.
    mutating func decodeArgoFields(_ spec: Object, file: String) throws(Diagnostics) {
        var problems: [Diagnostic] = []
        if let v = spec["applications"], !v.isNull {
            if let s = v.string, let mode = ApplicationsMode(rawValue: s) { applications = mode } else {
                problems.append(.error("'applications' in spec must be expand or keep, found \(v.description)",
                                       at: SourceLocation(file: file, mark: v.mark),
                                       fix: "applications: expand (pattern applies the Applications' contents) or keep (Argo CD does)"))
            }
        }
        if let v = spec["ignoreDifferences"] {
            do { ignoreDifferences = try IgnoreRule.decodeList(v, file: file, in: "spec") } catch { problems += error.items }
        }
        if !problems.isEmpty { throw Diagnostics(problems) }
    }
}
