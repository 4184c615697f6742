/// The version of `pattern` (the CLI, the controller and the libraries ship together): the one
/// version constant, recorded in ledger entries, sent in the User-Agent and printed by `version`.
public enum PatternVersion {
    /// Semantic version of this build.
    public static let current = "0.1.0"

    /// The Swift compiler this build was compiled with (`6.1`, …), from `#if compiler`.
    public static var swift: String {
        #if compiler(>=6.3)
        return "6.3+"
        #elseif compiler(>=6.2)
        return "6.2"
        #elseif compiler(>=6.1)
        return "6.1"
        #else
        return "6.0"
        #endif
    }

    /// `os/arch` as Go and Kubernetes spell it (`linux/amd64`).
    public static var platform: String {
        #if os(Linux)
        let os = "linux"
        #elseif os(macOS)
        let os = "darwin"
        #else
        let os = "unknown"
        #endif
        #if arch(x86_64)
        let arch = "amd64"
        #elseif arch(arm64)
        let arch = "arm64"
        #else
        let arch = "unknown"
        #endif
        return os + "/" + arch
    }

    /// `pattern 0.1.0 (swift 6.1, linux/amd64)`: the one-line form `--version` prints.
    public static var line: String { "pattern \(current) (swift \(swift), \(platform))" }
}
