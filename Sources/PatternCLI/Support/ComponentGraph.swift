import PatternCore
import PatternDiff

/// The apply plan drawn for a person: one node per component and level (its objects counted by
/// kind), edges between them merged (one per pair, labelled with the distinct reasons), levels as
/// columns. `pattern graph --objects` draws every object instead (`Planner.dot`).
public enum ComponentGraph {
    struct Node: Hashable, Comparable {
        var level: Int
        var component: String
        static func < (a: Node, b: Node) -> Bool { (a.level, a.component) < (b.level, b.component) }
        var id: String { "L\(level):\(component)" }
    }

    /// DOT for `plan`, with each object's component from `components` (objects without one are
    /// grouped as `(none)`).
    public static func dot(_ plan: Plan, components: [ObjectKey: String]) -> String {
        func q(_ s: String) -> String {
            var out = "\""
            for c in s {
                if c == "\n" { out += "\\n"; continue }   // a line break in a label
                if c == "\\" || c == "\"" { out.append("\\") }
                out.append(c)
            }
            return out + "\""
        }
        var nodeOf: [ObjectKey: Node] = [:]
        var kinds: [Node: [String: Int]] = [:]
        for (i, level) in plan.levels.enumerated() {
            for k in level {
                let n = Node(level: i, component: components[k] ?? "(none)")
                nodeOf[k] = n
                kinds[n, default: [:]][k.kind, default: 0] += 1
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
        reduce(&edges)
        var out = "digraph pattern {\n  rankdir=LR;\n  newrank=true;\n  nodesep=0.3;\n  ranksep=0.8;\n"
        out += "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#f4f6fa\", color=\"#5b6b8c\", fontname=\"Helvetica\", fontsize=11];\n"
        out += "  edge [color=\"#8a94a6\", fontname=\"Helvetica\", fontsize=9, fontcolor=\"#5b6b8c\"];\n"
        let nodes = kinds.keys.sorted()
        for (i, level) in plan.levels.enumerated() where !level.isEmpty {
            let t = level.first.flatMap { plan.tiers[$0] } ?? 0
            let tier = Planner.tierNames[min(t, Planner.tierNames.count - 1)]
            out += "  subgraph cluster_\(i) {\n    label=\(q("level \(i): \(tier)"));\n    style=dashed;\n    color=\"#c3c9d5\";\n    fontname=\"Helvetica\";\n    fontsize=10;\n"
            // An invisible anchor per level, ranked with the level's boxes and chained to the
            // next level's: levels become columns whatever the edges say.
            out += "    \"level\(i)\" [style=invis, shape=point, width=0, label=\"\"];\n"
            out += "    { rank=same; \"level\(i)\"; " + nodes.filter { $0.level == i }.map { q($0.id) + ";" }.joined(separator: " ") + " }\n"
            for n in nodes where n.level == i {
                let counts = kinds[n]!.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
                let summary = counts.map { $0.value == 1 ? $0.key : "\($0.value) \($0.key)" }
                // At most three kinds per line, so wide components stay readable.
                var lines: [String] = []
                var i = 0
                while i < summary.count { lines.append(summary[i..<min(i + 3, summary.count)].joined(separator: ", ")); i += 3 }
                let total = counts.reduce(0) { $0 + $1.value }
                out += "    \(q(n.id)) [label=\(q("\(n.component) (\(total))\n" + lines.joined(separator: "\n")))];\n"
            }
            out += "  }\n"
        }
        let used = plan.levels.indices.filter { !plan.levels[$0].isEmpty }
        if used.count > 1 {
            out += "  " + used.map { "\"level\($0)\"" }.joined(separator: " -> ") + " [style=invis, weight=100];\n"
        }
        for a in edges.keys.sorted() {
            for b in edges[a]!.keys.sorted() {
                out += "  \(q(a.id)) -> \(q(b.id)) [label=\(q(edges[a]![b]!.sorted().joined(separator: ", ")))];\n"
            }
        }
        out += "}\n"
        return out
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
