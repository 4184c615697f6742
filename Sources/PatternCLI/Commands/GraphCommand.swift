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
        usage: "pattern graph <site> [--objects] [--state] [--svg <file>]\n  [-o dot|json|yaml] [--context <name>] [-C <repo>]",
        discussion: """
            Offline unless --state. By default one box per component and level (its objects counted \
            by kind), levels as columns, and one edge per pair of boxes labelled with why the later one \
            waits (namespace, crd, dependsOn, depends-on). --objects draws every object and every edge \
            instead (large for big sites).

            --state reads the site's cluster (as `pattern diff` and `pattern drift` do) and colours \
            every box by the most urgent state of its objects, counting them per state: failed (status \
            says it will not converge), drifted (changed by another field manager), changed (apply would \
            update it), create (not in the cluster), waiting (not ready yet), ready. A legend is drawn.

            Prints DOT; with --svg, renders it with Graphviz's `dot` (it must be on PATH). -o json or \
            yaml prints a Graph document instead: levels, nodes (with kinds and states) and edges.

            Examples:
              pattern graph hub > hub.dot
              pattern graph hub --svg hub.svg
              pattern graph hub --state --svg hub-state.svg
              pattern graph hub --objects --svg hub-objects.svg
              pattern graph hub -o json
            """
    )

    @OptionGroup public var repoOptions: RepoOptions
    @Argument(help: "Site.", completion: .custom(Completions.sites)) public var site: String
    @Flag(help: "Draw every object and edge instead of components.") public var objects = false
    @Option(help: "Write an SVG rendering to this file (runs Graphviz `dot`).") public var svg: String?
    @Flag(help: "Colour boxes by the objects' live state (reads the cluster).") public var state = false
    @Option(name: .shortAndLong, help: "Output: dot, json or yaml (a Graph document).") public var output: GraphFormat = .dot
    @OptionGroup public var cluster: ClusterOptions

    /// `-o` of `pattern graph`: DOT (the default) or a `Graph` document.
    public enum GraphFormat: String, ExpressibleByArgument, CaseIterable, Sendable { case dot, json, yaml }

    public init() {}

    public func run() async throws {
        let rendered: RenderedSite
        var states: [ObjectKey: GraphState]?
        if state {
            let (r, engine) = try cluster.renderAndConnect(site, repo: repoOptions.context, errorExit: 2)
            rendered = r
            do { states = try await Self.states(rendered, engine: engine, namespaces: cluster.observedNamespaces(for: rendered)) } catch {
                throw ClusterOptions.reported(error, exit: 2)
            }
        } else {
            rendered = try renderOne(site, repo: repoOptions.context)
        }
        let plan = try ApplyEngine.plan(rendered)
        let components = Dictionary(rendered.objects.map { ($0.key, $0.component) }, uniquingKeysWith: { a, _ in a })
        if output != .dot {
            let model = ComponentGraph.model(plan, components: components, objects: objects, states: states)
            Output.document(ComponentGraph.document(model, site: rendered.site), output == .json ? .json : .yaml)
            return
        }
        let dot = objects && states == nil ? Planner.dot(plan) : ComponentGraph.dot(plan, components: components, objects: objects, states: states)
        guard let svg else { Output.out(dot); return }
        let dotFile = svg + ".dot"
        try FileSystem.write(dotFile, Array(dot.utf8))
        defer { unlink(dotFile) }
        let run: Subprocess.Output
        do { run = try Subprocess.run("dot", ["-Tsvg", "-o", svg, dotFile]) } catch {
            throw Diagnostic.error("cannot run Graphviz `dot`", fix: "install graphviz, or write DOT with `pattern graph \(site) > plan.dot`")
        }
        if !run.succeeded {
            throw Diagnostic.error("`dot` failed (status \(run.status)): \(run.stderrText)", fix: "install graphviz")
        }
        Output.err("wrote \(svg)\n")
    }

    /// Every rendered object's state: one live diff and one drift read.
    static func states(_ site: RenderedSite, engine: ApplyEngine, namespaces: [String]?) async throws -> [ObjectKey: GraphState] {
        let (diffs, observation, _) = try await engine.diff(site, namespaces: namespaces)
        let drifted = try await engine.drift(site, namespaces: namespaces).items.reduce(into: Set<ObjectKey>()) { $0.insert($1.key) }
        var states: [ObjectKey: GraphState] = [:]
        for d in diffs where d.action != .prune {
            states[d.key] = GraphState.of(action: d.action, drifted: drifted.contains(d.key), live: observation.live[d.key])
        }
        return states
    }
}
