import ArgumentParser
import PatternCore
import PatternCompile
import PatternSource

/// Options for sites whose pattern comes from git.
public struct SourceOptions: ParsableArguments {
    @Option(help: "Source cache directory (default: $XDG_CACHE_HOME/pattern or ~/.cache/pattern).")
    public var cacheDir: String?
    @Flag(help: "Fail instead of using the last good cached commit when no git URL is reachable.")
    public var requireFresh = false
    @Flag(help: "Do not fetch; use pinned commits and the last good commits in the cache.")
    public var offline = false
    @OptionGroup public var network: NetworkDeadlineOptions

    public init() {}

    public var resolver: GitPatternResolver {
        GitPatternResolver(resolver: SourceResolver(cache: cacheDir.map { SourceCache(directory: $0) } ?? .default,
                                                    requireFresh: requireFresh, offline: offline, deadlines: network.deadlines))
    }
}

/// Connect and low-speed deadlines for git transports (git, http, https, ssh).
public struct NetworkDeadlineOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Seconds to wait for a TCP connection to a git URL before trying the next mirror.", valueName: "seconds"))
    public var connectTimeout: Double = NetworkDeadlines.default.connectTimeout
    @Option(help: ArgumentHelp("Seconds a git transfer may go without progress (or under --low-speed-limit bytes/s) before the next mirror is tried.", valueName: "seconds"))
    public var lowSpeedTime: Double = NetworkDeadlines.default.lowSpeedTime
    @Option(help: ArgumentHelp("Bytes per second a git transfer must average over each --low-speed-time window.", valueName: "bytes"))
    public var lowSpeedLimit: Int = NetworkDeadlines.default.lowSpeedLimit

    public init() {}

    public func validate() throws {
        if !(connectTimeout > 0) || !(lowSpeedTime > 0) || lowSpeedLimit < 0 {
            throw ValidationError("--connect-timeout and --low-speed-time must be positive, --low-speed-limit at least 0")
        }
    }

    public var deadlines: NetworkDeadlines {
        NetworkDeadlines(connectTimeout: connectTimeout, lowSpeedTime: lowSpeedTime, lowSpeedLimit: lowSpeedLimit)
    }
}

/// Resolves a site's `pattern.git` with libgit2 (cache, mirrors, stale fallback): the
/// compiler then reads the pattern straight from the git tree at the resolved commit.
public struct GitPatternResolver: PatternSourceResolver {
    public let resolver: SourceResolver

    public func resolve(_ ref: PatternRef.GitRef) throws -> (tree: any SourceTree, directory: TreePath, provenance: Provenance, warnings: [String]) {
        let c = ref.credentials
        let creds = GitCredentials(username: c["username"], tokenEnv: c["tokenEnv"], tokenFile: c["tokenFile"], sshKey: c["sshKey"],
                                   sshPublicKey: c["sshPublicKey"], sshPassphraseEnv: c["sshPassphraseEnv"], caBundle: c["caBundle"])
        let source = GitSource(url: ref.url, mirrors: ref.mirrors, ref: ref.ref, path: ref.path, credentials: creds,
                               allowForcePush: ref.allowForcePush)
        let r = try resolver.resolve(source)
        var warnings = r.warnings.map(\.message)
        if r.stale {
            warnings.append("every URL of \(r.url ?? ref.url) failed: rendering the last good commit \(r.commit ?? "?") from the cache (stale)")
        }
        return (r.tree, .root, Provenance(source: r.url ?? ref.url, commit: r.commit, stale: r.stale), warnings)
    }
}
