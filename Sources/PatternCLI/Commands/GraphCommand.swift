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
        abstract: "Draw a site's apply plan as a Graphviz graph: components by level, or every object.",
        usage: "pattern graph <site> [--objects] [--svg <file>] [-C <repo>]",
        discussion: """
            Offline: needs no cluster. By default one box per component and level (its objects counted \
            by kind), levels as columns, and one edge per pair of boxes labelled with why the later one \
            waits (namespace, crd, dependsOn, depends-on). --objects draws every object and every edge \
            instead (large for big sites).

            Prints DOT; with --svg, renders it with Graphviz's `dot` (it must be on PATH).

            Examples:
              pattern graph hub > hub.dot
              pattern graph hub --svg hub.svg
              pattern graph hub --objects --svg hub-objects.svg
            """
    )

    @OptionGroup public var repoOptions: RepoOptions
    @Argument(help: "Site.", completion: .custom(Completions.sites)) public var site: String
    @Flag(help: "Draw every object and edge instead of components.") public var objects = false
    @Option(help: "Write an SVG rendering to this file (runs Graphviz `dot`).") public var svg: String?

    public init() {}

    public func run() async throws {
        let rendered = try renderOne(site, repo: repoOptions)
        let plan = try ApplyEngine.plan(rendered)
        let dot = objects ? Planner.dot(plan)
            : ComponentGraph.dot(plan, components: Dictionary(rendered.objects.map { ($0.key, $0.component) }, uniquingKeysWith: { a, _ in a }))
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
