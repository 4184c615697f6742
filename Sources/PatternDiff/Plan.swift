import PatternCore

/// Why one object must be applied after another.
public enum EdgeReason: Sendable, Hashable, CustomStringConvertible {
    /// The object lives in a Namespace of the render.
    case namespace
    /// The object is a custom resource of a CRD in the render.
    case crd
    /// The object's component depends on the other's component.
    case component(String, dependsOn: String)
    /// `config.kubernetes.io/depends-on` on the object.
    case annotation

    public var description: String {
        switch self {
        case .namespace: return "namespace"
        case .crd: return "crd"
        case .component(let c, let d): return "component \(c) dependsOn \(d)"
        case .annotation: return "depends-on"
        }
    }
}

/// `to` is applied after `from` (`from` is the dependency).
public struct PlanEdge: Sendable, Hashable {
    public var from: ObjectKey
    public var to: ObjectKey
    public var reason: EdgeReason
    public init(from: ObjectKey, to: ObjectKey, reason: EdgeReason) { self.from = from; self.to = to; self.reason = reason }
}

/// Ordered levels: every object of a level can be applied concurrently once all earlier
/// levels are applied (and ready).
public struct Plan: Sendable, Hashable {
    public var levels: [[ObjectKey]]
    /// Hard edges (namespace, CRD, component, depends-on), deduplicated, sorted.
    public var edges: [PlanEdge]
    /// Kind tier of each object (see `Planner.tier(ofKind:)`).
    public var tiers: [ObjectKey: Int]
    /// Non-fatal findings (a dependency that exists only in the cluster, …).
    public var warnings: [Diagnostic]

    /// Level index of each object.
    public var levelOf: [ObjectKey: Int] {
        var r: [ObjectKey: Int] = [:]
        for (i, l) in levels.enumerated() { for k in l { r[k] = i } }
        return r
    }

    /// Prune order: levels reversed (dependents removed before what they depend on).
    public var reversedLevels: [[ObjectKey]] { levels.reversed() }
}

/// What the planner needs of one object, typed: its identity, component, the kind it defines
/// (a CRD), its `config.kubernetes.io/depends-on` references and its Helm hook. Built once per
/// object from the render (no copies with annotations written into them).
public struct PlanNode: Sendable, Hashable {
    /// A Helm hook: the events it runs for and its weight (`helm.sh/hook`, `helm.sh/hook-weight`).
    public struct Hook: Sendable, Hashable {
        /// Events (`pre-install`, `post-install`, `pre-upgrade`, …) in annotation order.
        public var phases: [String]
        /// `helm.sh/hook-weight` (0 when absent or not an integer).
        public var weight: Int
        public init(phases: [String], weight: Int = 0) { self.phases = phases; self.weight = weight }
    }

    public var key: ObjectKey
    /// Component that rendered the object (component dependsOn edges join on it).
    public var component: String?
    /// For a CustomResourceDefinition: the group-kind it defines (its custom resources wait for it).
    public var definesKind: GroupKind?
    /// The raw `config.kubernetes.io/depends-on` value (parsed by the planner, which reports
    /// malformed references together with the other plan errors).
    public var dependsOn: String?
    /// The Helm hook the object is, if any.
    public var hook: Hook?

    public init(key: ObjectKey, component: String? = nil, definesKind: GroupKind? = nil, dependsOn: String? = nil, hook: Hook? = nil) {
        self.key = key; self.component = component; self.definesKind = definesKind; self.dependsOn = dependsOn; self.hook = hook
    }

    /// The node of an object (nil when it has no identity: no kind or name).
    public init?(_ object: Value, component: String?) {
        guard let key = object.objectKey else { return nil }
        var defined: GroupKind? = nil
        if key.kind == "CustomResourceDefinition" && key.group == "apiextensions.k8s.io",
           let g = object[path: ["spec", "group"]]?.string, let kind = object[path: ["spec", "names", "kind"]]?.string {
            defined = GroupKind(group: g, kind: kind)
        }
        let annotations = object.annotations
        var hook: Hook? = nil
        if let h = annotations[PlanNode.hookAnnotation]?.string {
            var phases: [String] = []
            for p in h.split(separator: ",") {
                let t = p.trimmingSpaces
                if !t.isEmpty { phases.append(t) }
            }
            let weight = annotations[PlanNode.hookWeightAnnotation]?.string.flatMap { Int(Substring($0).trimmingSpaces) } ?? 0
            if !phases.isEmpty { hook = Hook(phases: phases, weight: weight) }
        }
        self.init(key: key, component: component, definesKind: defined,
                  dependsOn: annotations[Planner.dependsOnAnnotation]?.string, hook: hook)
    }

    public static let hookAnnotation = "helm.sh/hook"
    public static let hookWeightAnnotation = "helm.sh/hook-weight"
}

public enum Planner {
    public struct Options: Sendable {
        /// Annotation naming an object's component.
        public var componentAnnotation: String
        /// Component → components it depends on (from the pattern file).
        public var componentDependencies: [String: [String]]
        /// Hook: does an object that is not in the render exist in the cluster? When it returns
        /// true a depends-on to it is a warning (nothing to wait for in this apply), not an error.
        public var existsInCluster: (@Sendable (ObjectKey) -> Bool)?
        /// Ignore depends-on targets missing from the set (used for prune ordering).
        public var ignoreMissing: Bool

        public init(componentAnnotation: String = Planner.componentAnnotation,
                    componentDependencies: [String: [String]] = [:],
                    existsInCluster: (@Sendable (ObjectKey) -> Bool)? = nil,
                    ignoreMissing: Bool = false) {
            self.componentAnnotation = componentAnnotation
            self.componentDependencies = componentDependencies
            self.existsInCluster = existsInCluster
            self.ignoreMissing = ignoreMissing
        }
    }

    public static let componentAnnotation = "pattern.dev/component"
    public static let dependsOnAnnotation = "config.kubernetes.io/depends-on"

    /// Tier names, index = tier.
    public static let tierNames = ["definitions", "cluster policy", "identity and config", "workloads", "webhooks"]

    /// Kind tier, derived from `KindTable.applyRank`: 0 CRDs and Namespaces; 1 cluster-wide
    /// classes, RBAC cluster roles, quotas and policies; 2 service accounts, roles, Secrets,
    /// ConfigMaps and volumes; 3 Services, workloads, Ingresses, APIServices and custom
    /// resources; 4 admission webhooks. Kinds of one tier share a level.
    public static func tier(ofKind kind: String) -> Int {
        let r = KindTable.applyRank(kind)
        if r <= KindTable.applyRank("Namespace") { return 0 }
        if r < KindTable.applyRank("ServiceAccount") { return 1 }
        if r < KindTable.applyRank("Service") { return 2 }
        if r < 10_000 { return 3 }
        return 4
    }

    /// Parses a `config.kubernetes.io/depends-on` value: comma-separated
    /// `group/namespaces/<ns>/<kind>/<name>` or `group/<kind>/<name>` (core group empty: `/namespaces/…`).
    public static func parseDependsOn(_ text: String) throws(Diagnostic) -> [ObjectKey] {
        var out: [ObjectKey] = []
        for raw in text.split(separator: ",") {
            let ref = raw.trimmingSpaces
            if ref.isEmpty { continue }
            let parts = ref.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            if parts.count == 5 && parts[1] == "namespaces" && !parts[2].isEmpty && !parts[3].isEmpty && !parts[4].isEmpty {
                out.append(ObjectKey(group: parts[0], kind: parts[3], namespace: parts[2], name: parts[4]))
            } else if parts.count == 3 && !parts[1].isEmpty && !parts[2].isEmpty {
                out.append(ObjectKey(group: parts[0], kind: parts[1], namespace: "", name: parts[2]))
            } else {
                throw Diagnostic.error("invalid \(dependsOnAnnotation) reference \"\(ref)\"",
                    fix: "write <group>/namespaces/<namespace>/<kind>/<name> or <group>/<kind>/<name> (core group empty, e.g. /namespaces/app/ConfigMap/cfg)")
            }
        }
        return out
    }

    /// Formats a key as a depends-on reference.
    public static func dependsOnReference(_ k: ObjectKey) -> String {
        k.namespace.isEmpty ? "\(k.group)/\(k.kind)/\(k.name)" : "\(k.group)/namespaces/\(k.namespace)/\(k.kind)/\(k.name)"
    }

    /// Builds the plan from objects: each becomes a `PlanNode` (its component read from
    /// `options.componentAnnotation` when present). See `plan(nodes:options:)`.
    public static func plan(_ objects: [Value], options: Options = Options()) throws(Diagnostics) -> Plan {
        var nodes: [PlanNode] = []
        nodes.reserveCapacity(objects.count)
        for o in objects {
            guard let n = PlanNode(o, component: o.annotations[options.componentAnnotation]?.string) else { continue }
            nodes.append(n)
        }
        return try plan(nodes: nodes, options: options)
    }

    /// Builds the plan from typed nodes. Errors (all reported together): malformed depends-on,
    /// a dependency on an object neither rendered nor (per the hook) in the cluster, a
    /// dependency cycle. The first node of a key wins.
    public static func plan(nodes input: [PlanNode], options: Options = Options()) throws(Diagnostics) -> Plan {
        var keys: [ObjectKey] = []
        var byKey: [ObjectKey: PlanNode] = [:]
        for n in input {
            guard byKey[n.key] == nil else { continue }
            keys.append(n.key)
            byKey[n.key] = n
        }
        var errors: [Diagnostic] = []
        var warnings: [Diagnostic] = []
        var edgeSet = Set<PlanEdge>()
        func add(_ from: ObjectKey, _ to: ObjectKey, _ r: EdgeReason) {
            if from != to { edgeSet.insert(PlanEdge(from: from, to: to, reason: r)) }
        }

        // Namespaces and CRDs in the render.
        var crdFor: [GroupKind: ObjectKey] = [:]
        for k in keys { if let defined = byKey[k]!.definesKind { crdFor[defined] = k } }
        var components: [String: [ObjectKey]] = [:]
        for k in keys {
            if !k.namespace.isEmpty {
                let ns = ObjectKey(group: "", kind: "Namespace", namespace: "", name: k.namespace)
                if byKey[ns] != nil { add(ns, k, .namespace) }
            }
            if let crd = crdFor[k.groupKind] { add(crd, k, .crd) }
            let n = byKey[k]!
            if let c = n.component { components[c, default: []].append(k) }
            if let dep = n.dependsOn {
                do {
                    for target in try parseDependsOn(dep) {
                        if byKey[target] != nil { add(target, k, .annotation); continue }
                        if options.ignoreMissing { continue }
                        if options.existsInCluster?(target) == true {
                            warnings.append(Diagnostic(.warning, at: nil,
                                "\(k) depends on \(target), which is not in the render but exists in the cluster; not waiting for it"))
                        } else {
                            errors.append(.error("\(k) depends on \(target), which is not in the render",
                                fix: "add \(target) to the pattern, or remove it from the \(dependsOnAnnotation) annotation"))
                        }
                    }
                } catch {
                    var d = error
                    d.message = "\(k): " + d.message
                    errors.append(d)
                }
            }
        }
        for (c, deps) in options.componentDependencies.sorted(by: { $0.key < $1.key }) {
            guard let members = components[c] else { continue }
            for d in deps {
                for target in components[d] ?? [] { for m in members { add(target, m, .component(c, dependsOn: d)) } }
            }
        }
        if !errors.isEmpty { throw Diagnostics(errors) }

        // Levels: Kahn's algorithm; each round takes the ready objects of the lowest kind tier.
        let edges = edgeSet.sorted { ($0.to, $0.from, $0.reason.description) < ($1.to, $1.from, $1.reason.description) }
        var preds: [ObjectKey: Set<ObjectKey>] = [:]
        var succs: [ObjectKey: [ObjectKey]] = [:]
        for e in edges {
            if preds[e.to, default: []].insert(e.from).inserted { succs[e.from, default: []].append(e.to) }
        }
        var tiers: [ObjectKey: Int] = [:]
        for k in keys { tiers[k] = tier(ofKind: k.kind) }
        var remaining = Set(keys)
        var indeg: [ObjectKey: Int] = [:]
        for k in keys { indeg[k] = preds[k]?.count ?? 0 }
        var levels: [[ObjectKey]] = []
        while !remaining.isEmpty {
            let ready = remaining.filter { indeg[$0] == 0 }
            if ready.isEmpty {
                throw Diagnostics([cycleDiagnostic(remaining: remaining, preds: preds, edges: edges)])
            }
            let t = ready.map { tiers[$0]! }.min()!
            let level = ready.filter { tiers[$0] == t }.sorted {
                (KindTable.applyRank($0.kind), $0) < (KindTable.applyRank($1.kind), $1)
            }
            levels.append(level)
            for k in level {
                remaining.remove(k)
                for s in succs[k] ?? [] { indeg[s]! -= 1 }
            }
        }
        return Plan(levels: levels, edges: edges, tiers: tiers, warnings: warnings)
    }

    /// Prune order for objects to delete (live objects): the same rules among them, reversed,
    /// so custom resources go before their CRD and namespaced objects before their Namespace.
    public static func pruneLevels(_ objects: [Value]) -> [[ObjectKey]] {
        let p = (try? plan(objects, options: Options(ignoreMissing: true)))
        if let p { return p.reversedLevels }
        // A cycle among objects to delete: fall back to reverse kind order.
        let keys = objects.compactMap(\.objectKey).sorted {
            (KindTable.applyRank($0.kind), $0) > (KindTable.applyRank($1.kind), $1)
        }
        return keys.map { [$0] }
    }

    static func cycleDiagnostic(remaining: Set<ObjectKey>, preds: [ObjectKey: Set<ObjectKey>], edges: [PlanEdge]) -> Diagnostic {
        // Walk predecessors inside the remaining set until a node repeats.
        var start = remaining.min()!
        var seen: [ObjectKey: Int] = [:]
        var path: [ObjectKey] = []
        var cur = start
        while seen[cur] == nil {
            seen[cur] = path.count
            path.append(cur)
            cur = (preds[cur] ?? []).filter { remaining.contains($0) }.min()!
        }
        let cycle = Array(path[seen[cur]!...])  // each depends on the next
        start = cycle[0]
        var parts: [String] = []
        for (i, k) in cycle.enumerated() {
            let next = cycle[(i + 1) % cycle.count]
            let r = edges.first { $0.to == k && $0.from == next }?.reason.description ?? "?"
            parts.append("\(k) depends on \(next) (\(r))")
        }
        return .error("dependency cycle: " + parts.joined(separator: "; "),
                      fix: "remove one of these dependencies (depends-on annotation or component dependsOn)")
    }

    // MARK: DOT

    /// Graphviz DOT for `pattern graph`: one cluster per level, hard edges labelled with reasons.
    public static func dot(_ plan: Plan) -> String {
        func q(_ s: String) -> String {
            "\"" + s.dotEscaped + "\""
        }
        var out = "digraph pattern {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n"
        for (i, level) in plan.levels.enumerated() {
            let t = level.first.flatMap { plan.tiers[$0] } ?? 0
            out += "  subgraph cluster_\(i) {\n    label=\(q("level \(i): \(tierNames[min(t, tierNames.count - 1)])"));\n"
            for k in level { out += "    \(q(k.description));\n" }
            out += "  }\n"
        }
        for e in plan.edges {
            out += "  \(q(e.from.description)) -> \(q(e.to.description)) [label=\(q(e.reason.description))];\n"
        }
        out += "}\n"
        return out
    }
}

extension Substring {
    var trimmingSpaces: String {
        var s = self
        while let f = s.first, f == " " || f == "\t" || f == "\n" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" { s = s.dropLast() }
        return String(s)
    }
}

extension String {
    /// Escapes `\` and `"` for a double-quoted DOT or JSON-like string.
    var dotEscaped: String {
        var out = ""
        for c in self {
            if c == "\\" || c == "\"" { out.append("\\") }
            out.append(c)
        }
        return out
    }
}
