/// The tool's one version constant: recorded in ledger entries and sent in the User-Agent.
public enum PatternVersion { public static let current = "0.1.0" }
