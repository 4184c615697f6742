import ArgumentParser
import PatternCore
import PatternCompile
import PatternDiff
import PatternApply
#if canImport(Glibc)
import Glibc
#endif

/// `pattern graph`: the apply plan as a graph.
public struct GraphCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Print a site's apply plan as a Graphviz DOT graph (levels and dependency edges).",
        discussion: """
            Offline: needs no cluster. Each level is a cluster of objects applied together; edges say why \
            an object waits for another (namespace, CRD, component dependsOn, depends-on annotation).

            Examples:
              pattern graph hub > hub.dot
              pattern graph hub --svg hub.svg      needs Graphviz's `dot` on PATH
            """
    )

    @OptionGroup public var repoOptions: RepoOptions
    @Argument(help: "Site.") public var site: String
    @Option(help: "Write an SVG rendering to this file (runs Graphviz `dot`).") public var svg: String?

    public init() {}

    public func run() async throws {
        let rendered = try renderOne(site, repo: repoOptions)
        let dot = Planner.dot(try ApplyEngine.plan(rendered))
        guard let svg else { Output.out(dot); return }
        let dotFile = svg + ".dot"
        try FileSystem.write(dotFile, Array(dot.utf8))
        defer { unlink(dotFile) }
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("dot"), strdup("-Tsvg"), strdup("-o"), strdup(svg), strdup(dotFile), nil]
        defer { for a in argv { free(a) } }
        guard posix_spawnp(&pid, "dot", nil, nil, argv, environ) == 0 else {
            throw Diagnostic.error("cannot run Graphviz `dot`", fix: "install graphviz, or write DOT with `pattern graph \(site) > plan.dot`")
        }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        if status != 0 { throw Diagnostic.error("`dot` failed (status \(status >> 8))", fix: "install graphviz") }
        Output.err("wrote \(svg)\n")
    }
}
