import PatternCore

/// Argo CD's sync phases and waves as apply ordering.
///
/// Argo CD syncs PreSync hooks, then the Sync phase, then PostSync hooks; inside a phase by
/// `argocd.argoproj.io/sync-wave` (default 0, lowest first). Helm hooks map onto the phases as
/// Argo CD maps them (`pre-install`/`pre-upgrade` → PreSync, `post-install`/`post-upgrade` →
/// PostSync, the weight as the wave). Expanded Applications keep their own wave in their
/// parent: every object carries the list of (phase, wave) positions from the outermost
/// Application down, and groups of equal positions are applied in order.
///
/// The ordering reaches the planner through the `config.kubernetes.io/depends-on` annotation
/// (the mechanism Helm hooks use): every object of a group depends on every object of the
/// group before it. Namespaces and CustomResourceDefinitions take no part: the planner already
/// applies them before whatever lives in or uses them.
public enum SyncOrdering {
    public static let waveAnnotation = "argocd.argoproj.io/sync-wave"
    public static let hookAnnotation = "argocd.argoproj.io/hook"
    public static let hookDeletePolicyAnnotation = "argocd.argoproj.io/hook-delete-policy"
    public static let syncOptionsAnnotation = "argocd.argoproj.io/sync-options"
    public static let dependsOnAnnotation = "config.kubernetes.io/depends-on"

    /// A position in one Application: phase (0 PreSync, 1 Sync, 2 PostSync) and wave.
    public struct Position: Sendable, Hashable, Comparable {
        public var phase: Int
        public var wave: Int
        public init(phase: Int, wave: Int) { self.phase = phase; self.wave = wave }
        public static func < (a: Position, b: Position) -> Bool { (a.phase, a.wave) < (b.phase, b.wave) }
        public static let sync = Position(phase: 1, wave: 0)
    }

    /// What the hook annotations say about an object.
    public enum Placement: Sendable, Hashable {
        case at(Position)
        /// `hook: Skip`, or a hook pattern has no moment for (SyncFail, PreDelete, PostDelete,
        /// Helm's delete/rollback/test hooks): left out of the render.
        case skipped(String)
    }

    /// The Argo CD phase of a Helm hook, nil when Argo CD never runs it on sync.
    static func helmPhase(_ object: Value) -> Int? {
        guard let text = object.annotations["helm.sh/hook"]?.string else { return 1 }
        var phase: Int? = nil
        for raw in text.split(separator: ",") {
            switch raw.trimming(.spacesAndTabs) {
            case "pre-install", "pre-upgrade", "crd-install": phase = min(phase ?? 0, 0)
            case "post-install", "post-upgrade": phase = phase ?? 2
            default: continue
            }
        }
        return phase
    }

    /// The object's phase and wave; `throws` a message for an unreadable wave or hook.
    public static func placement(of object: Value) throws(Diagnostic) -> Placement {
        let a = object.annotations
        var wave = 0
        if let w = a[waveAnnotation] {
            guard let text = w.scalarText, let n = Int(text.trimming(.spacesAndTabs)) else {
                throw .error("\(waveAnnotation) must be an integer, found \(w.description)", fix: "write it as a quoted integer: \"-1\"")
            }
            wave = n
        } else if a["helm.sh/hook"] != nil, let hw = a["helm.sh/hook-weight"]?.scalarText, let n = Int(hw.trimming(.spacesAndTabs)) {
            wave = n
        }
        if let hook = a[hookAnnotation]?.string {
            var phase: Int? = nil
            for raw in hook.split(separator: ",") {
                switch raw.trimming(.spacesAndTabs) {
                case "PreSync": phase = min(phase ?? 0, 0)
                case "Sync": phase = min(phase ?? 1, 1)
                case "PostSync": phase = phase ?? 2
                case "Skip": return .skipped("hook: Skip")
                case "SyncFail", "PreDelete", "PostDelete": continue
                default:
                    throw .error("unknown \(hookAnnotation) value '\(raw)'", fix: "Argo CD's hooks: PreSync, Sync, PostSync, SyncFail, PreDelete, PostDelete, Skip")
                }
            }
            guard let phase else { return .skipped("hook \(hook) does not run on sync") }
            return .at(Position(phase: phase, wave: wave))
        }
        guard let phase = helmPhase(object) else { return .skipped("Helm hook \(a["helm.sh/hook"]?.string ?? "") does not run on sync") }
        return .at(Position(phase: phase, wave: wave))
    }

    /// `config.kubernetes.io/depends-on` reference of an object.
    static func reference(_ k: ObjectKey) -> String {
        k.namespace.isEmpty ? "\(k.group)/\(k.kind)/\(k.name)" : "\(k.group)/namespaces/\(k.namespace)/\(k.kind)/\(k.name)"
    }

    /// Adds depends-on edges between consecutive groups of equal positions. Positions of
    /// different depth compare as if the shorter were padded with `Position.sync`.
    static func link(_ items: inout [ExpandedObject]) {
        let depth = items.map(\.order.count).max() ?? 0
        func padded(_ o: [Position]) -> [Position] { o + Array(repeating: .sync, count: depth - o.count) }
        var groups: [[Position]: [Int]] = [:]
        for (i, item) in items.enumerated() where !item.order.isEmpty {
            if ["Namespace", "CustomResourceDefinition"].contains(item.object.kindName ?? "") { continue }
            groups[padded(item.order), default: []].append(i)
        }
        if groups.count < 2 { return }
        let keys = groups.keys.sorted { $0.lexicographicallyPrecedes($1) }
        var previous: [String] = []
        for key in keys {
            let members = groups[key]!
            if !previous.isEmpty {
                for i in members { addDependencies(&items[i].object, previous) }
            }
            previous = members.compactMap { items[$0].object.objectKey.map(reference) }
        }
    }

    static func addDependencies(_ object: inout Value, _ refs: [String]) {
        var existing = object.annotations[dependsOnAnnotation]?.string.map {
            $0.split(separator: ",").map { $0.trimming(.spacesAndTabs) }
        } ?? []
        var seen = Set(existing)
        for r in refs where seen.insert(r).inserted { existing.append(r) }
        object[path: ["metadata", "annotations", dependsOnAnnotation]] = .string(existing.joined(separator: ","))
    }
}
