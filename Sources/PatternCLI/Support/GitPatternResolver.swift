import ArgumentParser
import PatternCore
import PatternCompile
import PatternSource
import PatternController

/// Options for sites whose pattern comes from git, and charts from chart repositories.
public struct SourceOptions: ParsableArguments {
    @Option(help: "Source cache directory (default: $XDG_CACHE_HOME/pattern or ~/.cache/pattern).")
    public var cacheDir: String?
    @Flag(help: "Fail instead of using the last good cached commit (or chart version) when no git URL (or chart repository) is reachable.")
    public var requireFresh = false
    @Flag(help: "Do not fetch; use pinned commits and charts, and the last good commits and chart versions in the cache.")
    public var offline = false
    @OptionGroup public var network: NetworkDeadlineOptions

    public init() {}

    /// The resolver; it records what it resolves into `SourceRecorder.current` when a command
    /// installed one (apply, for the ledger).
    public var resolver: GitPatternResolver {
        RepoContext(cacheDir: cacheDir, requireFresh: requireFresh, offline: offline, deadlines: network.deadlines).resolver
    }

    /// `--cache-dir`, else the default cache.
    public var cache: SourceCache { cacheDir.map { SourceCache(directory: $0) } ?? .default }
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

