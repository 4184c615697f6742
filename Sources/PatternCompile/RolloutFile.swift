import PatternCore

/// `rollouts/<name>.yaml`: a progressive rollout of the repository's sites in waves, read
/// strictly (unknown fields, wrong types and unknown sites are errors at file:line:column) and
/// resolved to the sites each wave holds. See `Docs/fleet.md`, "Progressive rollouts".
///
/// ```yaml
/// apiVersion: pattern.dev/v1alpha1
/// kind: Rollout
/// metadata: {name: platform-1-5}
/// spec:
///   hub: hub                    # the site whose cluster keeps the rollout state
///   group: edge                 # population of percent and selector waves (default: every site)
///   requireAll: false           # unreachable sites fail instead of being deferred
///   retry: {attempts: 3, interval: 30s}
///   defaults: {maxParallel: 2, soak: 10m, failureBudget: 0, health: {timeout: 5m}}
///   waves:
///   - {name: canary, sites: [edge-eu]}
///   - {name: ten, percent: 10%}
///   - {name: eu, selector: "region in (eu-west,eu-north)", failureBudget: 10%}
///   - {name: all, percent: 100%, maxParallel: 10}
/// ```
public enum RolloutFile {
    /// Directory of rollout files at the repository root.
    public static let directory = "rollouts"
    static let knownSpec = ["hub", "group", "requireAll", "retry", "defaults", "waves", "description"]
    static let knownWaveSettings = ["maxParallel", "soak", "failureBudget", "health"]
    static let knownWave = ["name", "sites", "selector", "percent", "group"] + knownWaveSettings
    /// Most waves a rollout may declare, and most sites one may hold (its state is one ConfigMap).
    public static let maxWaves = 100
    public static let maxSites = 3000

    /// Names of the rollouts in `workspace` (`rollouts/*.yaml`), sorted.
    public static func names(in workspace: Workspace) -> [String] {
        let dir = TreePath.root.appending(directory)
        guard workspace.tree.resolvedKind(dir) == .directory, let entries = try? workspace.tree.list(dir) else { return [] }
        return entries.compactMap { e in
            e.name.hasSuffix(".yaml") ? String(e.name.dropLast(5)) : nil
        }.sorted()
    }

    /// Reads `rollouts/<name>.yaml` and resolves its waves against the workspace's sites.
    public static func load(_ name: String, workspace: Workspace) throws(Diagnostics) -> RolloutPlan {
        let path = TreePath.root.appending(directory).appending(name + ".yaml")
        guard isDNSLabel(name), workspace.tree.resolvedKind(path) == .file else {
            let known = names(in: workspace)
            let guess = FieldReader(file: "").closest(name, known)
            throw Diagnostics([.error("no rollout named '\(name)' (expected \(path.string))",
                                      fix: guess.map { "did you mean '\($0)'?" }
                                          ?? (known.isEmpty ? "create \(path.string) (see Docs/fleet.md, \"Progressive rollouts\")"
                                                            : "known rollouts: \(known.joined(separator: ", "))"))])
        }
        let docs = try workspace.readYAML(path).filter { !$0.value.isNull }
        if docs.count > 1 {
            throw Diagnostics([.error("expected one document in \(path.string), found \(docs.count)",
                                      at: SourceLocation(file: path.string, mark: docs[1].mark), fix: "remove the extra '---' documents")])
        }
        let spec = try decode(docs.first?.value ?? .null, file: path.string, expectedName: name)
        return try resolve(spec, workspace: workspace)
    }

    // MARK: Decoding

    /// How a wave chooses its sites.
    enum Selection {
        case sites([(String, Mark)])
        case selector(SiteSelector)
        case percent(Int)
    }

    struct WaveSpec {
        var name: String
        var mark: Mark
        var selection: Selection
        var group: (String, Mark)?
        var settings: Settings
    }

    /// Wave settings as written (nil: not set here).
    struct Settings {
        var maxParallel: Int?
        var soak: Double?
        var failureBudget: RolloutPlan.FailureBudget?
        var health: RolloutPlan.HealthGate?

        func over(_ base: Settings) -> Settings {
            Settings(maxParallel: maxParallel ?? base.maxParallel, soak: soak ?? base.soak,
                     failureBudget: failureBudget ?? base.failureBudget, health: health ?? base.health)
        }
    }

    struct Spec {
        var name: String
        var file: String
        var hub: (String, Mark)?
        var group: (String, Mark)?
        var requireAll: Bool
        var retry: RolloutPlan.Retry
        var waves: [WaveSpec]
    }

    static func decode(_ doc: Value, file: String, expectedName: String) throws(Diagnostics) -> Spec {
        var r = FieldReader(file: file)
        guard let top = r.object(doc, "rollout file") else {
            throw Diagnostics([.error("rollout file is empty or not a map", at: SourceLocation(file: file, mark: doc.mark),
                                      fix: "start it with 'apiVersion: \(patternAPIVersion)' and 'kind: Rollout'")])
        }
        r.checkKnown(top, PatternSpec.knownTop, in: "rollout file")
        checkHeader(&r, top, kind: "Rollout", file: file)
        let meta = r.object(top["metadata"], "metadata") ?? Object()
        let name = r.string(meta, "name", in: "metadata", required: true) ?? expectedName
        if let nv = meta["name"], name != expectedName {
            r.error("rollout name '\(name)' differs from its file name '\(expectedName).yaml'", at: nv,
                    fix: "rename the file or set metadata.name: \(expectedName)")
        }
        let spec = r.object(top["spec"], "spec") ?? Object()
        r.checkKnown(spec, knownSpec, in: "spec")
        _ = r.string(spec, "description", in: "spec")
        let hub = r.string(spec, "hub", in: "spec").map { ($0, spec["hub"]!.mark) }
        let group = r.string(spec, "group", in: "spec").map { ($0, spec["group"]!.mark) }
        let requireAll = r.bool(spec, "requireAll", in: "spec") ?? false
        var retry = RolloutPlan.Retry()
        if let ro = r.object(spec["retry"], "retry") {
            r.checkKnown(ro, ["attempts", "interval"], in: "retry")
            if let n = integer(&r, ro, "attempts", in: "retry", min: 1, max: 100) { retry.attempts = n }
            if let d = duration(&r, ro, "interval", in: "retry") { retry.intervalSeconds = d }
        }
        var defaults = Settings()
        if let dv = spec["defaults"], let d = r.object(dv, "defaults") {
            r.checkKnown(d, knownWaveSettings, in: "defaults")
            defaults = settings(&r, d, in: "defaults")
        }
        var waves: [WaveSpec] = []
        if let wv = spec["waves"], !wv.isNull {
            if let list = wv.array {
                if list.isEmpty { r.error("'waves' is empty", at: wv, fix: "add at least one wave, e.g. '- {name: canary, sites: [<site>]}'") }
                if list.count > maxWaves { r.error("\(list.count) waves: at most \(maxWaves)", at: wv) }
                for item in list.prefix(maxWaves) {
                    if let w = wave(&r, item) { waves.append(WaveSpec(name: w.name, mark: w.mark, selection: w.selection, group: w.group, settings: w.settings.over(defaults))) }
                }
            } else {
                r.error("'waves' must be a list of waves, found \(wv.typeName)", at: wv)
            }
        } else {
            r.diagnostics.append(.error("spec needs 'waves'", at: SourceLocation(file: file, mark: top["spec"]?.mark ?? .none),
                                        fix: "add 'waves:' with at least one wave, e.g. '- {name: canary, sites: [<site>]}'"))
        }
        var seen: [String: Mark] = [:]
        for w in waves {
            if seen[w.name] != nil {
                r.diagnostics.append(.error("two waves are named '\(w.name)'", at: r.loc(w.mark), fix: "give every wave its own name"))
            }
            seen[w.name] = w.mark
        }
        if !r.diagnostics.isEmpty { throw Diagnostics(r.diagnostics) }
        return Spec(name: name, file: file, hub: hub, group: group, requireAll: requireAll, retry: retry, waves: waves)
    }

    static func wave(_ r: inout FieldReader, _ item: Value) -> WaveSpec? {
        guard let o = r.object(item, "wave") else {
            if item.isNull { r.error("a wave is empty", at: item) }
            return nil
        }
        r.checkKnown(o, knownWave, in: "wave")
        let name = r.string(o, "name", in: "wave") ?? ""
        if o["name"] == nil {
            r.error("a wave needs 'name'", at: item, fix: "add 'name: <wave>' (shown by `pattern rollout status`)")
        } else if !name.isEmpty && !isDNSLabel(name) {
            r.error("wave name '\(name)' is not a DNS-1123 label", at: o["name"]!, fix: "use lowercase letters, digits and '-'")
        }
        let chosen = ["sites", "selector", "percent"].filter { o[$0] != nil }
        if chosen.count != 1 {
            r.error("a wave needs exactly one of 'sites', 'selector' or 'percent'" + (chosen.isEmpty ? "" : ", found \(chosen.joined(separator: " and "))"),
                    at: item, fix: "write 'sites: [edge-eu]', 'selector: region=eu' or 'percent: 10%'")
        }
        var selection: Selection = .sites([])
        if o["sites"] != nil {
            let list = r.strings(o, "sites", in: "wave")
            if list.isEmpty, let v = o["sites"], v.array != nil { r.error("'sites' is empty", at: v) }
            selection = .sites(list)
        } else if let sv = o["selector"] {
            if let text = r.string(o, "selector", in: "wave") {
                do { selection = .selector(try SiteSelector(parsing: text, source: "selector")) } catch {
                    r.error("selector '\(text)': \(error.message)", at: sv,
                            fix: error.fix ?? "write requirements separated by ',': key=value, key!=value, key in (a,b), key notin (a,b), key, !key")
                }
            }
        } else if let pv = o["percent"] {
            if let p = percent(pv) { selection = .percent(p) } else {
                r.error("'percent' must be a percentage from 1% to 100%, found \(pv.description)", at: pv, fix: "write e.g. 'percent: 10%'")
            }
        }
        var group: (String, Mark)? = nil
        if let gv = o["group"] {
            if let g = r.string(o, "group", in: "wave") { group = (g, gv.mark) }
            if o["sites"] != nil { r.error("'group' applies to 'percent' and 'selector' waves, not to 'sites'", at: gv) }
        }
        return WaveSpec(name: name, mark: item.mark, selection: selection, group: group, settings: settings(&r, o, in: "wave '\(name)'"))
    }

    static func settings(_ r: inout FieldReader, _ o: Object, in what: String) -> Settings {
        var s = Settings()
        s.maxParallel = integer(&r, o, "maxParallel", in: what, min: 1, max: 1000)
        s.soak = duration(&r, o, "soak", in: what)
        if let bv = o["failureBudget"], !bv.isNull {
            if let n = bv.int, n >= 0 { s.failureBudget = .count(n) } else if let p = percent(bv, allowZero: true) { s.failureBudget = .percent(p) } else {
                r.error("'failureBudget' in \(what) must be a count (0, 1, …) or a percentage (10%), found \(bv.description)", at: bv)
            }
        }
        if let hv = o["health"], let ho = r.object(hv, "health") {
            r.checkKnown(ho, ["timeout", "checks"], in: "health")
            var gate = RolloutPlan.HealthGate()
            if let t = duration(&r, ho, "timeout", in: "health") { gate.timeoutSeconds = t }
            if let cv = ho["checks"], !cv.isNull {
                if let list = cv.array {
                    for c in list { if let check = healthCheck(&r, c) { gate.checks.append(check) } }
                } else {
                    r.error("'checks' in health must be a list, found \(cv.typeName)", at: cv)
                }
            }
            s.health = gate
        }
        return s
    }

    static func healthCheck(_ r: inout FieldReader, _ v: Value) -> RolloutPlan.HealthCheck? {
        guard let o = r.object(v, "health check") else { return nil }
        r.checkKnown(o, ["job", "condition"], in: "health check")
        if (o["job"] == nil) == (o["condition"] == nil) {
            r.error("a health check needs exactly one of 'job' or 'condition'", at: v,
                    fix: "write '- job: {namespace: web, name: smoke}' or '- condition: {apiVersion: …, kind: …, name: …, type: Ready}'")
            return nil
        }
        if let jv = o["job"], let jo = r.object(jv, "job") {
            r.checkKnown(jo, ["namespace", "name"], in: "job")
            let ns = r.string(jo, "namespace", in: "job"), name = r.string(jo, "name", in: "job")
            guard let ns, let name else {
                r.error("a job check needs 'namespace' and 'name'", at: jv)
                return nil
            }
            return .job(namespace: ns, name: name)
        }
        if let cv = o["condition"], let co = r.object(cv, "condition") {
            r.checkKnown(co, ["apiVersion", "kind", "namespace", "name", "type", "status"], in: "condition")
            let api = r.string(co, "apiVersion", in: "condition"), kind = r.string(co, "kind", in: "condition")
            let name = r.string(co, "name", in: "condition"), type = r.string(co, "type", in: "condition")
            let ns = r.string(co, "namespace", in: "condition")
            let status = r.string(co, "status", in: "condition") ?? "True"
            guard let api, let kind, let name, let type else {
                r.error("a condition check needs 'apiVersion', 'kind', 'name' and 'type'", at: cv)
                return nil
            }
            if !["True", "False", "Unknown"].contains(status) {
                r.error("'status' in condition must be True, False or Unknown, found '\(status)'", at: co["status"]!, fix: "quote it: status: \"True\"")
            }
            return .condition(apiVersion: api, kind: kind, namespace: ns, name: name, type: type, status: status)
        }
        return nil
    }

    static func integer(_ r: inout FieldReader, _ o: Object, _ key: String, in what: String, min: Int, max: Int) -> Int? {
        guard let v = o[key], !v.isNull else { return nil }
        guard let n = v.int, n >= min, n <= max else {
            r.error("'\(key)' in \(what) must be a whole number from \(min) to \(max), found \(v.description)", at: v)
            return nil
        }
        return n
    }

    static func duration(_ r: inout FieldReader, _ o: Object, _ key: String, in what: String) -> Double? {
        guard let v = o[key], !v.isNull else { return nil }
        if let n = v.int, n >= 0 { return Double(n) }
        if let s = v.string, let d = parseDuration(s) { return d }
        r.error("'\(key)' in \(what) must be a duration such as 30s, 10m, 1h30m, found \(v.description)", at: v)
        return nil
    }

    /// Go-style durations without fractions: `90s`, `10m`, `1h30m`, `2h` (at most 30 days).
    public static func parseDuration(_ s: String) -> Double? {
        var total = 0.0, digits = "", any = false
        for c in s {
            if c.isASCII && c.isNumber { digits.append(c); continue }
            guard let n = Double(digits), !digits.isEmpty, digits.count <= 7 else { return nil }
            switch c {
            case "s": total += n
            case "m": total += n * 60
            case "h": total += n * 3600
            case "d": total += n * 86400
            default: return nil
            }
            digits = ""; any = true
        }
        guard any, digits.isEmpty, total <= 30 * 86400 else { return nil }
        return total
    }

    /// `10%` (a string) → 10; 1…100 (0 too with `allowZero`).
    static func percent(_ v: Value, allowZero: Bool = false) -> Int? {
        guard let s = v.string, s.hasSuffix("%"), let n = Int(s.dropLast()), n <= 100, n >= (allowZero ? 0 : 1) else { return nil }
        return n
    }

    // MARK: Resolving waves to sites

    /// Resolves every wave to sites: `sites` as listed; `selector` and `percent` from the
    /// wave's (or the rollout's) group, or every site, leaving out sites of earlier waves.
    static func resolve(_ spec: Spec, workspace: Workspace) throws(Diagnostics) -> RolloutPlan {
        let file = spec.file
        var problems: [Diagnostic] = []
        let sites = try workspace.siteNames()
        let siteSet = Set(sites)
        // Each site's labels (cluster.labels along its chain) and groups (every overlay it extends).
        var labels: [String: [String: String]] = [:], groups: [String: Set<String>] = [:]
        for s in sites {
            let chain = try workspace.overlayChain(s)
            // The labels `--selector` sees in diff/apply/drift (Docs/fleet.md "Selecting sites").
            labels[s] = SiteLabels.labels(site: s, chain: chain.map {
                SiteLabels.Layer(name: $0.name, clusterLabels: $0.cluster.labels, clusterName: $0.cluster.name, context: $0.cluster.context)
            })
            groups[s] = Set(chain.dropLast().map(\.name))
        }
        let allGroups = Set(groups.values.flatMap { $0 })
        func checkGroup(_ g: (String, Mark)?) {
            guard let (name, mark) = g, !allGroups.contains(name) else { return }
            let guess = FieldReader(file: "").closest(name, Array(allGroups))
            problems.append(.error("no site extends a group named '\(name)'", at: SourceLocation(file: file, mark: mark),
                                   fix: guess.map { "did you mean '\($0)'?" } ?? "groups sites extend: \(allGroups.sorted().joined(separator: ", "))"))
        }
        checkGroup(spec.group)
        if let (hub, mark) = spec.hub, !siteSet.contains(hub) {
            problems.append(.error("hub '\(hub)' is not a site", at: SourceLocation(file: file, mark: mark),
                                   fix: FieldReader(file: "").closest(hub, sites).map { "did you mean '\($0)'?" } ?? "name a site in overlays/"))
        }
        var placed: [String: String] = [:]   // site → wave
        var waves: [RolloutPlan.Wave] = []
        for w in spec.waves {
            checkGroup(w.group)
            let groupName = (w.group ?? spec.group)?.0
            let population = sites.filter { s in groupName.map { groups[s]?.contains($0) ?? false } ?? true }
            var chosen: [String] = []
            switch w.selection {
            case .sites(let list):
                for (s, m) in list {
                    if !siteSet.contains(s) {
                        problems.append(.error("wave '\(w.name)': '\(s)' is not a site", at: SourceLocation(file: file, mark: m),
                                               fix: FieldReader(file: "").closest(s, sites).map { "did you mean '\($0)'?" } ?? "name a site in overlays/"))
                    } else if let earlier = placed[s] {
                        problems.append(.error("wave '\(w.name)': site '\(s)' is already in wave '\(earlier)'", at: SourceLocation(file: file, mark: m),
                                               fix: "list every site in one wave only"))
                    } else if !chosen.contains(s) {
                        chosen.append(s)
                    }
                }
            case .selector(let sel):
                chosen = population.filter { placed[$0] == nil && sel.matches(labels[$0] ?? [:]) }
            case .percent(let p):
                chosen = percentSelection(population, percent: p).filter { placed[$0] == nil }
            }
            for s in chosen { placed[s] = w.name }
            let st = w.settings
            waves.append(RolloutPlan.Wave(name: w.name, sites: chosen, maxParallel: st.maxParallel ?? 1, soakSeconds: st.soak ?? 0,
                                          failureBudget: st.failureBudget ?? .count(0), health: st.health ?? RolloutPlan.HealthGate()))
        }
        if placed.count > maxSites {
            problems.append(.error("the rollout holds \(placed.count) sites: at most \(maxSites)", at: SourceLocation(file: file),
                                   fix: "split it into several rollouts by group"))
        }
        if !problems.isEmpty { throw Diagnostics(problems) }
        return RolloutPlan(name: spec.name, file: file, hubSite: spec.hub?.0, requireAll: spec.requireAll, retry: spec.retry, waves: waves)
    }

    /// The first ⌈p·n/100⌉ sites of `population` in a fixed order: by the SHA-256 of the site
    /// name. A site's place in that order never depends on the other sites, so adding a site
    /// moves the boundary by at most one and never reshuffles who came first; later percentage
    /// waves take the next sites of the same order (`10%` then `50%` is cumulative).
    public static func percentSelection(_ population: [String], percent p: Int) -> [String] {
        let n = (population.count * p + 99) / 100
        let ordered = population.map { (SHA256.hex("pattern.dev/rollout:" + $0), $0) }.sorted { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
        return ordered.prefix(n).map(\.1)
    }
}

