import ArgumentParser
import PatternCore
import PatternCompile
import PatternSource
import PatternController

/// Options for sites whose pattern comes from git.
public struct SourceOptions: ParsableArguments {
    @Option(help: "Source cache directory (default: $XDG_CACHE_HOME/pattern or ~/.cache/pattern).")
    public var cacheDir: String?
    @Flag(help: "Fail instead of using the last good cached commit when no git URL is reachable.")
    public var requireFresh = false
    @Flag(help: "Do not fetch; use pinned commits and the last good commits in the cache.")
    public var offline = false

    public init() {}

    public var resolver: GitPatternResolver {
        GitPatternResolver(resolver: SourceResolver(cache: cacheDir.map { SourceCache(directory: $0) } ?? .default,
                                                    requireFresh: requireFresh, offline: offline))
    }
}

