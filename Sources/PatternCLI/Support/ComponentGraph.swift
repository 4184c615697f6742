import PatternCore
import PatternDiff
import PatternReport

/// What the cluster says about an object, for `pattern graph --state`: the colour of its box.
/// Cases are in order of urgency; a box with several objects takes its most urgent state.
public enum GraphState: String, CaseIterable, Sendable, Comparable {
    /// The live object's status says it will not converge (kstatus Failed).
    case failed
    /// Fields pattern applied were changed in the cluster by another field manager.
    case drifted
    /// The render differs from the live object: apply would update it.
    case changed
    /// Not in the cluster: apply would create it.
    case create
    /// Live and as rendered, but not ready yet (rollout in progress).
    case waiting
    /// Live, as rendered and ready.
    case ready

    public static func < (a: GraphState, b: GraphState) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// Fill colour of a box in this state.
    var fill: String {
        switch self {
        case .failed: "#f8c9c9"
        case .drifted: "#ffd9a8"
        case .changed: "#fff0b3"
        case .create: "#cfe2ff"
        case .waiting: "#e3dcf7"
        case .ready: "#d3f0d3"
        }
    }

    /// One object's state from the live diff, drift and the live object's readiness.
    public static func of(action: DiffAction, drifted: Bool, live: Value?) -> GraphState {
        let readiness = live.map { ReadinessRules.status(of: $0).status }
        if readiness == .failed { return .failed }
        if drifted { return .drifted }
        switch action {
        case .create: return .create
        case .update, .prune: return .changed
        case .unchanged: return readiness == .inProgress ? .waiting : .ready
        }
    }
}

/// The apply plan drawn for a person: one node per component and level (its objects counted by
/// kind), edges between them merged (one per pair, labelled with the distinct reasons), levels as
/// columns; or, with `objects`, one node per object and every plan edge. With `states` (from a
/// live diff) every box is coloured by its most urgent state and counts its objects per state.
public enum ComponentGraph {
    struct Node: Hashable, Comparable {
        var level: Int
        var component: String
        static func < (a: Node, b: Node) -> Bool { (a.level, a.component) < (b.level, b.component) }
        var id: String { "L\(level):\(component)" }
    }

    /// The graph as data: what DOT and the `Graph` document are written from.
    struct Model {
        var plan: Plan
        var objectsMode: Bool
        var nodes: [Node]
        var members: [Node: [ObjectKey]]
        var kinds: [Node: [(kind: String, count: Int)]]
        var states: [Node: [GraphState: Int]]
        var edges: [(from: Node, to: Node, reasons: [String])]

        func tier(_ level: Int) -> String {
            let t = plan.levels[level].first.flatMap { plan.tiers[$0] } ?? 0
            return Planner.tierNames[min(t, Planner.tierNames.count - 1)]
        }

        func state(_ n: Node) -> GraphState? { states[n]?.keys.min() }
    }

    static func model(_ plan: Plan, components: [ObjectKey: String], objects: Bool = false, states: [ObjectKey: GraphState]? = nil) -> Model {
        var nodeOf: [ObjectKey: Node] = [:]
        var members: [Node: [ObjectKey]] = [:]
        var kindCounts: [Node: [String: Int]] = [:]
        var stateCounts: [Node: [GraphState: Int]] = [:]
        for (i, level) in plan.levels.enumerated() {
            for k in level {
                let n = Node(level: i, component: objects ? k.description : components[k] ?? "(none)")
                nodeOf[k] = n
                members[n, default: []].append(k)
                kindCounts[n, default: [:]][k.kind, default: 0] += 1
                if let s = states?[k] { stateCounts[n, default: [:]][s, default: 0] += 1 }
            }
        }
        var edges: [Node: [Node: Set<String>]] = [:]
        for e in plan.edges {
            guard let a = nodeOf[e.from], let b = nodeOf[e.to], a != b else { continue }
            let reason: String
            switch e.reason {
            case .component: reason = "dependsOn"
            default: reason = e.reason.description
            }
            edges[a, default: [:]][b, default: []].insert(reason)
        }
        if !objects { reduce(&edges) }
        var edgeList: [(from: Node, to: Node, reasons: [String])] = []
        for a in edges.keys.sorted() {
            for b in edges[a]!.keys.sorted() { edgeList.append((a, b, edges[a]![b]!.sorted())) }
        }
        var kinds: [Node: [(kind: String, count: Int)]] = [:]
        for (n, c) in kindCounts { kinds[n] = c.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { ($0.key, $0.value) } }
        return Model(plan: plan, objectsMode: objects, nodes: kindCounts.keys.sorted(), members: members, kinds: kinds,
                     states: stateCounts, edges: edgeList)
    }

    /// DOT for `plan`, with each object's component from `components` (objects without one are
    /// grouped as `(none)`).
    public static func dot(_ plan: Plan, components: [ObjectKey: String], objects: Bool = false, states: [ObjectKey: GraphState]? = nil) -> String {
        dot(model(plan, components: components, objects: objects, states: states), coloured: states != nil)
    }

    static func dot(_ m: Model, coloured: Bool) -> String {
        func q(_ s: String) -> String {
            var out = "\""
            for c in s {
                if c == "\n" { out += "\\n"; continue }   // a line break in a label
                if c == "\\" || c == "\"" { out.append("\\") }
                out.append(c)
            }
            return out + "\""
        }
        let plan = m.plan
        var out = "digraph pattern {\n  rankdir=LR;\n  newrank=true;\n  nodesep=0.3;\n  ranksep=0.8;\n"
        out += "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#f4f6fa\", color=\"#5b6b8c\", fontname=\"Helvetica\", fontsize=11];\n"
        out += "  edge [color=\"#8a94a6\", fontname=\"Helvetica\", fontsize=9, fontcolor=\"#5b6b8c\"];\n"
        if coloured {
            // A legend: one box per state, in order of urgency.
            out += "  subgraph cluster_legend {\n    label=\"state\";\n    style=dashed;\n    color=\"#c3c9d5\";\n    fontname=\"Helvetica\";\n    fontsize=10;\n"
            for s in GraphState.allCases { out += "    \"state:\(s.rawValue)\" [label=\(q(s.rawValue)), fillcolor=\(q(s.fill))];\n" }
            out += "  }\n"
        }
        for (i, level) in plan.levels.enumerated() where !level.isEmpty {
            out += "  subgraph cluster_\(i) {\n    label=\(q("level \(i): \(m.tier(i))"));\n    style=dashed;\n    color=\"#c3c9d5\";\n    fontname=\"Helvetica\";\n    fontsize=10;\n"
            // An invisible anchor per level, ranked with the level's boxes and chained to the
            // next level's: levels become columns whatever the edges say.
            out += "    \"level\(i)\" [style=invis, shape=point, width=0, label=\"\"];\n"
            let nodes = m.nodes.filter { $0.level == i }
            out += "    { rank=same; \"level\(i)\"; " + nodes.map { q($0.id) + ";" }.joined(separator: " ") + " }\n"
            for n in nodes {
                var label: String
                if m.objectsMode {
                    label = n.component
                } else {
                    let summary = m.kinds[n]!.map { $0.count == 1 ? $0.kind : "\($0.count) \($0.kind)" }
                    // At most three kinds per line, so wide components stay readable.
                    var lines: [String] = []
                    var j = 0
                    while j < summary.count { lines.append(summary[j..<min(j + 3, summary.count)].joined(separator: ", ")); j += 3 }
                    label = "\(n.component) (\(m.members[n]!.count))\n" + lines.joined(separator: "\n")
                }
                var attributes = ""
                if coloured, let s = m.state(n) {
                    if !m.objectsMode || m.members[n]!.count > 1 {
                        let counts = m.states[n]!.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key.rawValue)" }
                        label += "\n" + counts.joined(separator: ", ")
                    }
                    attributes = ", fillcolor=\(q(s.fill))"
                }
                out += "    \(q(n.id)) [label=\(q(label))\(attributes)];\n"
            }
            out += "  }\n"
        }
        let used = plan.levels.indices.filter { !plan.levels[$0].isEmpty }
        if used.count > 1 {
            out += "  " + used.map { "\"level\($0)\"" }.joined(separator: " -> ") + " [style=invis, weight=100];\n"
        }
        for e in m.edges { out += "  \(q(e.from.id)) -> \(q(e.to.id)) [label=\(q(e.reasons.joined(separator: ", ")))];\n" }
        out += "}\n"
        return out
    }

    /// `kind: Graph`: levels, nodes (components, or objects with `--objects`) with their
    /// objects counted by kind (and state, when given), and edges with their reasons.
    static func document(_ m: Model, site: String) -> Value {
        var levels: [Value] = []
        for i in m.plan.levels.indices where !m.plan.levels[i].isEmpty {
            levels.append(["index": .int(i), "tier": .string(m.tier(i))])
        }
        var nodes: [Value] = []
        for n in m.nodes {
            var o = Object()
            o.append("id", .string(n.id))
            o.append("level", .int(n.level))
            if m.objectsMode {
                o.append("object", MachineReport.object(m.members[n]![0]))
            } else {
                o.append("component", .string(n.component))
                o.append("objects", .int(m.members[n]!.count))
                var kinds = Object()
                for (k, c) in m.kinds[n]! { kinds.append(k, .int(c)) }
                o.append("kinds", .object(kinds))
            }
            if let s = m.state(n) {
                o.append("state", .string(s.rawValue))
                var counts = Object()
                for (st, c) in m.states[n]!.sorted(by: { $0.key < $1.key }) { counts.append(st.rawValue, .int(c)) }
                o.append("states", .object(counts))
            }
            nodes.append(.object(o))
        }
        let edges: [Value] = m.edges.map {
            ["from": .string($0.from.id), "to": .string($0.to.id), "reasons": .array($0.reasons.map { .string($0) })]
        }
        return ["apiVersion": .string(MachineReport.apiVersion), "kind": "Graph", "site": .string(site),
                "mode": .string(m.objectsMode ? "objects" : "components"),
                "levels": .array(levels), "nodes": .array(nodes), "edges": .array(edges)]
    }

    /// Leaves out edges another path already implies (a → c when a → b → c): the picture keeps
    /// the order and loses the fan of "namespace" edges from the first level. Bounded: graphs
    /// over 2,000 boxes keep every edge.
    static func reduce(_ edges: inout [Node: [Node: Set<String>]]) {
        let nodeCount = Set(edges.keys).union(edges.values.flatMap(\.keys)).count
        guard nodeCount <= 2_000 else { return }
        func reachable(from a: Node, to target: Node, skipping direct: Node) -> Bool {
            var seen: Set<Node> = []
            var stack = (edges[a]?.keys.filter { $0 != direct }) ?? []
            while let n = stack.popLast() {
                if n == target { return true }
                if !seen.insert(n).inserted { continue }
                stack += edges[n]?.keys.map { $0 } ?? []
            }
            return false
        }
        for a in Array(edges.keys) {
            for b in Array(edges[a]?.keys ?? [:].keys) where reachable(from: a, to: b, skipping: b) {
                edges[a]?[b] = nil
            }
        }
    }
}
