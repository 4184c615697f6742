import PatternCore

/// A failure in the Source stage. Messages never contain credentials: every URL in them is
/// redacted (`https://***@host/…`) and known secret values are scrubbed.
public struct SourceError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// A remote could not be reached (network, DNS, refused, TLS).
        case unreachable
        /// The remote rejected or required credentials.
        case authentication
        /// The ref (branch, tag, commit) does not exist at the source.
        case refNotFound
        /// The path inside the repository does not exist or is not a directory.
        case pathNotFound
        /// A path would leave the repository (`..`, absolute, or through a symlink).
        case pathEscapes
        /// Every remote failed and there is no usable cached commit, or `requireFresh` was set.
        case noUsableSource
        /// The source specification itself is wrong (bad URL, empty mirror list, …).
        case invalidSource
        /// The local repository is not in a state that allows the operation.
        case repositoryState
        /// A URL served history that contradicts what the cache already trusts: a commit for a
        /// ref that does not descend from the last good one, or a moved tag.
        case historyRewritten
        /// The commit is unsigned, signed by a key that is not allowed, or its signature does
        /// not verify, and the source requires signed commits (`verify`).
        case untrustedCommit
        /// Downloaded content does not match the digest that names it (a chart archive against
        /// its index `digest` or a pinned digest; an OCI manifest or layer against its
        /// descriptor), or a chart version changed content after it was first seen.
        case integrity
        /// Cache or file-system problem.
        case io
        /// Any other libgit2 failure.
        case git
    }

    public var kind: Kind
    public var message: String
    /// What the user can do about it.
    public var fix: String?

    public init(_ kind: Kind, _ message: String, fix: String? = nil) {
        self.kind = kind
        self.message = message
        self.fix = fix
    }

    public var description: String {
        var s = "error: \(message)"
        if let fix { s += "\n  fix: \(fix)" }
        return s
    }

    /// The same error as a pipeline diagnostic.
    public var diagnostic: Diagnostic { .error(message, fix: fix) }
}
