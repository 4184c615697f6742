/// Where the repository and its test fixtures are, from this file's own path (no
/// machine-specific paths: the checkout may be anywhere).
public enum RepositoryPaths {
    /// The repository root (the directory with Package.swift).
    public static let root: String = "/" + #filePath.split(separator: "/").dropLast(3).joined(separator: "/")
    /// `Tests/Fixtures`.
    public static let fixtures: String = root + "/Tests/Fixtures"
}
