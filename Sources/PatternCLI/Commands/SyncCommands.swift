import ArgumentParser
import PatternCore
import PatternController
import KubeClient

// `pattern get|status|reconcile|suspend|resume|events`: the controller's PatternSyncs from the
// command line, read from and written to the cluster (no checkout needed).

/// Output of the PatternSync commands: a table, or documents that carry `apiVersion` and `kind`.
public enum DocumentFormat: String, ExpressibleByArgument, CaseIterable, Sendable { case text, json, yaml }

/// Connection and selection options of the PatternSync commands.
public struct SyncOptions: ParsableArguments {
    @Option(help: "Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).")
    public var kubeconfig: String?

    @Option(help: ArgumentHelp("kubeconfig context (default: the current context).", valueName: "name"),
            completion: .custom(Completions.contexts))
    public var context: String?

    @Option(name: .shortAndLong, help: "Namespace of the PatternSync.")
    public var namespace: String = "pattern-system"

    @Option(name: .shortAndLong, help: "Output format: text, json or yaml.")
    public var output: DocumentFormat = .text

    public init() {}

    func client() throws -> KubeClient {
        do { return try KubeClient(kubeconfig: kubeconfig, context: context) } catch {
            throw Diagnostic.error("cannot configure the cluster connection: \(error)", fix: "check --kubeconfig and --context")
        }
    }

    /// The PatternSync `name` in `namespace`; not found and API errors become diagnostics.
    func fetch(_ client: KubeClient, _ name: String) async throws -> Value {
        do {
            guard let o = try await client.getIfPresent(PatternSyncSpec.gvk, name: name, namespace: namespace) else {
                throw Diagnostic.error("PatternSync \(namespace)/\(name) not found",
                                       fix: "list them with `pattern get -A`, and pass the namespace with -n")
            }
            return o
        } catch let e as KubeError {
            throw SyncOptions.diagnostic(e)
        }
    }

    static func diagnostic(_ e: KubeError) -> Diagnostic {
        if case .unknownKind = e {
            return Diagnostic.error("this cluster does not serve PatternSync (pattern.dev/v1alpha1)",
                                    fix: "install the controller and its CRD with `pattern apply controller`")
        }
        return Diagnostic.error("cannot read PatternSyncs: \(e)", fix: "check the cluster connection (--kubeconfig, --context) and your RBAC")
    }

    /// Prints `doc` as JSON or YAML (text output is the command's own).
    func printDocument(_ doc: Value) {
        switch output {
        case .json: Output.out(JSONWriter.string(doc, options: .init(indent: 2)) + "\n")
        case .yaml: Output.out(YAMLEmitter().emit(doc))
        case .text: break
        }
    }

    /// Merge-patches the PatternSync (metadata or spec; never status).
    func patch(_ client: KubeClient, _ name: String, _ patch: Value) async throws -> Value {
        do {
            return try await client.patch(PatternSyncSpec.gvk, name: name, namespace: namespace, patch: patch, type: .merge,
                                          fieldManager: "pattern")
        } catch let e {
            if e.isNotFound {
                throw Diagnostic.error("PatternSync \(namespace)/\(name) not found", fix: "list them with `pattern get -A`, and pass the namespace with -n")
            }
            throw Diagnostic.error("cannot update PatternSync \(namespace)/\(name): \(e)", fix: "check your RBAC: patching patternsyncs.pattern.dev is needed")
        }
    }
}

/// A PatternSync as the commands show it.
struct SyncSummary {
    var namespace: String
    var name: String
    var site: String
    var ready: String
    var reason: String
    var message: String
    var suspended: Bool
    var revision: String
    var age: String

    init(_ o: Value, now: Double) {
        namespace = o.metadataNamespace ?? ""
        name = o.metadataName ?? ""
        site = o[path: ["spec", "site"]]?.string ?? ""
        let ready = o[path: ["status", "conditions"]]?.array?.first { $0["type"]?.string == "Ready" }
        self.ready = ready?["status"]?.string ?? "Unknown"
        reason = ready?["reason"]?.string ?? ""
        message = ready?["message"]?.string ?? "not reconciled yet"
        suspended = o[path: ["spec", "suspend"]]?.bool ?? false
        revision = SyncSummary.short(o[path: ["status", "lastAppliedRevision"]]?.string ?? "")
        age = o[path: ["metadata", "creationTimestamp"]]?.string.flatMap(Timestamp.parse).map { SyncSummary.age(now - $0) } ?? ""
    }

    /// `sha256:` and 12 hex digits, as the controller's metrics and logs show revisions.
    static func short(_ r: String) -> String {
        guard !r.isEmpty else { return "" }
        let hex = r.hasPrefix("sha256:") ? String(r.dropFirst(7)) : r
        return "sha256:" + hex.prefix(12)
    }

    /// kubectl's age format: `45s`, `12m`, `3h`, `5d`.
    static func age(_ seconds: Double) -> String {
        let s = Int(max(0, seconds))
        if s < 120 { return "\(s)s" }
        if s < 7200 { return "\(s / 60)m" }
        if s < 172_800 { return "\(s / 3600)h" }
        return "\(s / 86400)d"
    }
}

/// Left-aligned columns separated by three spaces, as kubectl prints tables.
func table(_ rows: [[String]]) -> String {
    guard let width = rows.map(\.count).max() else { return "" }
    var widths = [Int](repeating: 0, count: width)
    for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
    var out = ""
    for r in rows {
        var line = ""
        for (i, c) in r.enumerated() {
            line += c
            if i < r.count - 1 { line += String(repeating: " ", count: widths[i] - c.count + 3) }
        }
        out += line + "\n"
    }
    return out
}

/// `pattern get`: PatternSyncs with Ready, Suspended, revision, age and message.
public struct GetCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "List PatternSyncs: Ready, Suspended, applied revision, age and message.",
        usage: "pattern get [<name>] [-A | -n <namespace>] [-o text|json|yaml]\n  [--kubeconfig <file>] [--context <name>]",
        discussion: """
            Reads PatternSync resources from the cluster (no checkout needed), as `flux get kustomizations` \
            does. Without a name, every PatternSync of the namespace (-n, default pattern-system), or of \
            every namespace with -A.

            Examples:
              pattern get -A                 every PatternSync in the cluster
              pattern get hub -n platform    one PatternSync
              pattern get -A -o json         a PatternSyncList (apiVersion, kind, items)

            Exit codes: 0 listed (whatever their state), 1 not found or the cluster cannot be read, 2 usage errors.
            """
    )

    @Argument(help: "A PatternSync name (default: all of the namespace).") public var name: String?
    @Flag(name: [.customShort("A"), .customLong("all-namespaces")], help: "List PatternSyncs of every namespace.") public var allNamespaces = false
    @OptionGroup public var sync: SyncOptions

    public init() {}

    public func run() async throws {
        let client = try sync.client()
        var items: [Value]
        if let name {
            items = [try await sync.fetch(client, name)]
        } else {
            do { items = try await client.list(PatternSyncSpec.gvk, namespace: allNamespaces ? nil : sync.namespace).items } catch {
                throw SyncOptions.diagnostic(error)
            }
        }
        items.sort { ($0.metadataNamespace ?? "", $0.metadataName ?? "") < ($1.metadataNamespace ?? "", $1.metadataName ?? "") }
        if sync.output != .text {
            sync.printDocument(["apiVersion": .string(PatternSyncSpec.gvk.apiVersion), "kind": "PatternSyncList", "items": .array(items)])
            return
        }
        if items.isEmpty {
            Output.err(allNamespaces ? "no PatternSyncs found\n" : "no PatternSyncs found in namespace \(sync.namespace)\n")
            return
        }
        let now = Double(Timestamp.now().seconds)
        let wide = allNamespaces
        var rows: [[String]] = [(wide ? ["NAMESPACE"] : []) + ["NAME", "SITE", "READY", "SUSPENDED", "REVISION", "AGE", "MESSAGE"]]
        for o in items {
            let s = SyncSummary(o, now: now)
            rows.append((wide ? [s.namespace] : []) + [s.name, s.site, s.ready, s.suspended ? "True" : "False", s.revision, s.age,
                                                       s.message.split(separator: "\n").first.map(String.init) ?? ""])
        }
        Output.out(table(rows))
    }
}

/// `pattern status`: one PatternSync in detail, or many sites at once from the repository.
public struct StatusCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show one PatternSync (conditions, last apply, counts, drift), or the status of many sites at once.",
        usage: """
            pattern status <name> [-n <namespace>] [-o text|json|yaml]
              [--kubeconfig <file>] [--context <name>]
            pattern status (<site> <site>... | --all | --selector <sel>) [-C <repo>]
              [--detail] [-o text|json|yaml] [--parallel <n>] [--per-cluster <n>]
              [--kubeconfig <file>] [--record-namespace <ns>]
            """,
        discussion: """
            One name: reads the PatternSync's status as the controller wrote it: its conditions (Ready, \
            Reconciling, Stalled, SourceReady, Drifted), the last applied revision and commit, the object \
            counts of the last apply that changed something, and the objects that drifted from it.

            Several sites, --all or --selector (Docs/fleet.md, "Many sites"): the sites of the repository \
            (-C), each read from its own cluster (its cluster.context) at most --parallel at once and \
            --per-cluster at once on one cluster: the last apply in its ledger (revision, age), how many of \
            the objects the repository renders now are ready, drift, and one RESULT per site: in-sync, \
            changed (behind: the repository renders another revision than the last apply), drifted (or \
            never applied), progressing (objects not ready yet), failed (the last apply failed, an object \
            will not become ready, the site does not compile or cannot be read) or unreachable (never \
            "in sync"). One matrix; above 20 sites only the sites that are not in sync are listed, \
            --detail lists every site and its detail; -o json|yaml prints one FleetReport. For one site \
            of the repository use --selector pattern.dev/site=<site>.

            Examples:
              pattern status hub                        the PatternSync hub in pattern-system
              pattern status hub -o yaml                the PatternSync itself (apiVersion, kind, spec, status)
              pattern status --all                      every site of the repository: applied, ready, drift
              pattern status --selector tier=edge -o json   one FleetReport for CI

            Exit codes: one PatternSync: 0 Ready, 1 not Ready (or not found, or the cluster cannot be read), \
            2 usage errors. Many sites: 0 every site in sync, 1 some site behind, drifted, never applied or \
            not ready, 2 some site failed or is unreachable, bad selector, no site chosen.
            """
    )

    @Argument(help: "The PatternSync name; or several site names (a fleet).") public var names: [String] = []
    @OptionGroup public var sync: SyncOptions
    @OptionGroup public var fleet: FleetOptions
    @OptionGroup public var repoOptions: RepoOptions
    @Option(help: "Fleet form: namespace holding inventories and ledgers (default: the site's apply.recordNamespace, else pattern-system).")
    public var recordNamespace: String?
    @Flag(help: "Fleet form: allow --context to name another context than a site's cluster.context.")
    public var allowOtherContext = false

    public init() {}

    public func validate() throws {
        if !fleet.isFleet(names) && names.count != 1 {
            throw ValidationError("Missing expected argument '<name>' (or several sites, --all, --selector)")
        }
    }

    public func run() async throws {
        if fleet.isFleet(names) { return try await runFleet() }
        let name = names[0]
        let client = try sync.client()
        let o = try await sync.fetch(client, name)
        let s = SyncSummary(o, now: Double(Timestamp.now().seconds))
        if sync.output != .text {
            sync.printDocument(o)
        } else {
            Output.out(StatusCommand.describe(o, s))
        }
        if s.ready != "True" { throw ExitCode(1) }
    }

    /// The fleet form: every chosen site's status from its own cluster, one matrix.
    func runFleet() async throws {
        // The cluster options of diff/apply/drift, from this command's own flags (-n names
        // the PatternSync namespace here, so it is not the observed-namespace option).
        var args: [String] = []
        if let k = sync.kubeconfig { args += ["--kubeconfig", k] }
        if let c = sync.context { args += ["--context", c] }
        if let n = recordNamespace { args += ["--record-namespace", n] }
        if allowOtherContext { args.append("--allow-other-context") }
        let cluster = try ClusterOptions.parse(args)
        let format: ReportFormat = switch sync.output { case .text: .text; case .json: .json; case .yaml: .yaml }
        try await FleetRun(repo: repoOptions, cluster: cluster, fleet: fleet, output: format).status(names)
    }

    static func describe(_ o: Value, _ s: SyncSummary) -> String {
        let st = o["status"] ?? .emptyObject
        var out = "PatternSync \(s.namespace)/\(s.name)\n"
        out += "  site:        \(s.site)\n"
        if let git = o[path: ["spec", "source", "git"]] {
            out += "  source:      \(git["url"]?.string ?? "")\(git["ref"]?.string.map { " @ \($0)" } ?? "")\n"
        } else if let p = o[path: ["spec", "source", "path"]]?.string {
            out += "  source:      \(p)\n"
        }
        out += "  ready:       \(s.ready)\(s.reason.isEmpty ? "" : " (\(s.reason))")\n"
        out += "  suspended:   \(s.suspended ? "yes" : "no")\n"
        if let r = st["lastAppliedRevision"]?.string { out += "  applied:     \(SyncSummary.short(r))\(st["lastAppliedCommit"]?.string.map { " (commit \($0.prefix(12)))" } ?? "")\n" }
        if let r = st["lastAttemptedRevision"]?.string, r != st["lastAppliedRevision"]?.string { out += "  attempted:   \(SyncSummary.short(r))\n" }
        if let t = st["lastReconcileTime"]?.string { out += "  reconciled:  \(t)\n" }
        if let t = st[ReconcileRequest.statusField]?.string { out += "  requested:   \(t) (handled)\n" }
        if let counts = st["counts"]?.object {
            let keys = ["objects", "applied", "unchanged", "pruned", "drifted", "failed"]
            // A plain loop: the closure form (`compactMap { counts[k]?.int.map … }`) crashes the
            // Swift 6.3 optimizer's ownership verifier in release builds.
            var parts: [String] = []
            for k in keys {
                if let n = counts[k]?.int { parts.append("\(n) \(k)") }
            }
            out += "  objects:     " + parts.joined(separator: ", ") + "\n"
        }
        if let e = st["lastError"]?.string { out += "  last error:  \(e)\n" }
        if let conditions = st["conditions"]?.array, !conditions.isEmpty {
            out += "\nConditions:\n"
            var rows = [["TYPE", "STATUS", "REASON", "SINCE", "MESSAGE"]]
            for c in conditions {
                rows.append([c["type"]?.string ?? "", c["status"]?.string ?? "", c["reason"]?.string ?? "",
                             c["lastTransitionTime"]?.string ?? "", c["message"]?.string ?? ""])
            }
            out += table(rows).split(separator: "\n").map { "  " + $0 + "\n" }.joined()
        }
        if let drifted = st["drifted"]?.array, !drifted.isEmpty {
            out += "\nDrifted:\n"
            var rows = [["OBJECT", "FIELD", "CHANGE", "BY"]]
            for d in drifted {
                rows.append([d["object"]?.string ?? "", d["field"]?.string ?? "", d["change"]?.string ?? "", d["manager"]?.string ?? ""])
            }
            out += table(rows).split(separator: "\n").map { "  " + $0 + "\n" }.joined()
        }
        return out
    }
}

/// `pattern reconcile`: asks the controller to reconcile now.
public struct ReconcileCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Ask the controller to reconcile a PatternSync now.",
        usage: "pattern reconcile <name> [-n <namespace>] [--with-source] [--wait]\n  [--timeout <seconds>] [-o text|json|yaml]\n  [--kubeconfig <file>] [--context <name>]",
        discussion: """
            Sets the annotation pattern.dev/reconcile-requested-at to the current time. The controller \
            watches it, reconciles at once and writes the value to status.lastHandledReconcileAt (as Flux's \
            reconcile.fluxcd.io/requestedAt). With --wait, the command waits for that and reports the result.

            Every reconcile fetches the source, so --with-source changes nothing here; it is accepted for \
            Flux users' habits.

            Examples:
              pattern reconcile hub          request it and return
              pattern reconcile hub --wait   wait for the controller; exit 1 unless Ready

            Exit codes: 0 requested (with --wait: reconciled and Ready), 1 suspended, not found, not Ready or \
            timed out, 2 usage errors.
            """
    )

    @Argument(help: "The PatternSync name.") public var name: String
    @Flag(help: "Fetch the source too (always done: every reconcile fetches it).") public var withSource = false
    @Flag(help: "Wait until the controller answered the request, then report Ready.") public var wait = false
    @Option(help: "With --wait: give up after this many seconds.") public var timeout: Double = 300
    @OptionGroup public var sync: SyncOptions

    public init() {}

    public func run() async throws {
        let client = try sync.client()
        let current = try await sync.fetch(client, name)
        if current[path: ["spec", "suspend"]]?.bool == true {
            throw Diagnostic.error("PatternSync \(sync.namespace)/\(name) is suspended: the controller does not reconcile it",
                                   fix: "resume it with `pattern resume \(name) -n \(sync.namespace)` (that also reconciles it)")
        }
        let token = Timestamp.micro()
        _ = try await sync.patch(client, name, ["metadata": ["annotations": [ReconcileRequest.annotation: .string(token)]]])
        if !wait {
            if sync.output == .text { Output.out("reconcile requested for PatternSync \(sync.namespace)/\(name) (\(token))\n") }
            else { sync.printDocument(try await sync.fetch(client, name)) }
            return
        }
        let o = try await ReconcileCommand.waitHandled(client, sync: sync, name: name, token: token, timeout: timeout)
        let s = SyncSummary(o, now: Double(Timestamp.now().seconds))
        if sync.output == .text {
            Output.out("PatternSync \(sync.namespace)/\(name) reconciled: Ready \(s.ready)\(s.revision.isEmpty ? "" : ", revision \(s.revision)"): \(s.message)\n")
        } else {
            sync.printDocument(o)
        }
        if s.ready != "True" { throw ExitCode(1) }
    }

    /// Polls until `status.lastHandledReconcileAt` is `token` (bounded by `timeout`).
    static func waitHandled(_ client: KubeClient, sync: SyncOptions, name: String, token: String, timeout: Double) async throws -> Value {
        let deadline = ContinuousClock.now + .seconds(max(0, min(timeout, 86_400)))
        while true {
            let o = try await sync.fetch(client, name)
            if ReconcileRequest.handled(o) == token { return o }
            if ContinuousClock.now >= deadline {
                throw Diagnostic.error("the controller did not answer the reconcile request within \(Int(timeout))s",
                                       fix: "check that the controller runs (`kubectl -n pattern-system get pods`) and its logs; the request stays and is answered when it does")
            }
            try await Task.sleep(for: .milliseconds(500))
        }
    }
}

/// `pattern suspend`: stops the controller from reconciling a PatternSync.
public struct SuspendCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "suspend",
        abstract: "Stop reconciling a PatternSync (sets spec.suspend); its objects stay as they are.",
        usage: "pattern suspend <name> [-n <namespace>] [-o text|json|yaml]\n  [--kubeconfig <file>] [--context <name>]",
        discussion: """
            While suspended nothing is fetched, applied, pruned or healed; drift is not reported. \
            `pattern resume` undoes it. A later apply of the PatternSync's manifest that sets spec.suspend \
            wins over this.

            Exit codes: 0 suspended, 1 not found or the cluster cannot be written, 2 usage errors.
            """
    )

    @Argument(help: "The PatternSync name.") public var name: String
    @OptionGroup public var sync: SyncOptions

    public init() {}

    public func run() async throws {
        let client = try sync.client()
        let o = try await sync.patch(client, name, ["spec": ["suspend": true]])
        if sync.output == .text { Output.out("PatternSync \(sync.namespace)/\(name) suspended\n") } else { sync.printDocument(o) }
    }
}

/// `pattern resume`: reconciles a suspended PatternSync again, at once.
public struct ResumeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Resume a suspended PatternSync and reconcile it at once.",
        usage: "pattern resume <name> [-n <namespace>] [--wait] [--timeout <seconds>]\n  [-o text|json|yaml] [--kubeconfig <file>] [--context <name>]",
        discussion: """
            Sets spec.suspend to false and requests a reconcile (pattern.dev/reconcile-requested-at). With \
            --wait, waits for the controller's answer and exits 1 unless the PatternSync is Ready.

            Exit codes: 0 resumed (with --wait: reconciled and Ready), 1 not found, not Ready or timed out, \
            2 usage errors.
            """
    )

    @Argument(help: "The PatternSync name.") public var name: String
    @Flag(help: "Wait until the controller reconciled it, then report Ready.") public var wait = false
    @Option(help: "With --wait: give up after this many seconds.") public var timeout: Double = 300
    @OptionGroup public var sync: SyncOptions

    public init() {}

    public func run() async throws {
        let client = try sync.client()
        let token = Timestamp.micro()
        var o = try await sync.patch(client, name, ["spec": ["suspend": false],
                                                    "metadata": ["annotations": [ReconcileRequest.annotation: .string(token)]]])
        if wait { o = try await ReconcileCommand.waitHandled(client, sync: sync, name: name, token: token, timeout: timeout) }
        let s = SyncSummary(o, now: Double(Timestamp.now().seconds))
        if sync.output == .text {
            Output.out("PatternSync \(sync.namespace)/\(name) resumed" + (wait ? ": Ready \(s.ready): \(s.message)\n" : "\n"))
        } else {
            sync.printDocument(o)
        }
        if wait && s.ready != "True" { throw ExitCode(1) }
    }
}

/// `pattern events`: the Events the controller recorded for a PatternSync.
public struct EventsCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Show the Events the controller recorded for a PatternSync, oldest first.",
        usage: "pattern events <name> [-n <namespace>] [-o text|json|yaml]\n  [--kubeconfig <file>] [--context <name>]",
        discussion: """
            The controller records an Event when a reconcile applies or prunes objects, finds drift, or \
            fails (with advice). Events expire after the API server's event TTL (one hour by default).

            Examples:
              pattern events hub
              pattern events hub -o json     an EventList (apiVersion, kind, items)

            Exit codes: 0 listed (also when there are none), 1 not found or the cluster cannot be read, \
            2 usage errors.
            """
    )

    @Argument(help: "The PatternSync name.") public var name: String
    @OptionGroup public var sync: SyncOptions

    public init() {}

    public func run() async throws {
        let client = try sync.client()
        let o = try await sync.fetch(client, name)
        let uid = o[path: ["metadata", "uid"]]?.string
        let gvk = GroupVersionKind(group: "", version: "v1", kind: "Event")
        var events: [Value]
        do {
            events = try await client.list(gvk, namespace: sync.namespace,
                                           fieldSelector: "involvedObject.kind=\(PatternSyncSpec.kind),involvedObject.name=\(name)").items
        } catch {
            throw Diagnostic.error("cannot read Events: \(error)", fix: "check your RBAC: listing events in \(sync.namespace) is needed")
        }
        // The selector again (servers that ignore it), and only this PatternSync's incarnation.
        events = events.filter {
            $0[path: ["involvedObject", "kind"]]?.string == PatternSyncSpec.kind && $0[path: ["involvedObject", "name"]]?.string == name
                && (uid == nil || $0[path: ["involvedObject", "uid"]]?.string.map { $0 == uid || $0.isEmpty } ?? true)
        }
        func time(_ e: Value) -> String { e["lastTimestamp"]?.string ?? e["eventTime"]?.string ?? e[path: ["metadata", "creationTimestamp"]]?.string ?? "" }
        events.sort { time($0) < time($1) }
        if sync.output != .text {
            sync.printDocument(["apiVersion": "v1", "kind": "EventList", "items": .array(events)])
            return
        }
        if events.isEmpty { Output.err("no Events for PatternSync \(sync.namespace)/\(name)\n"); return }
        let now = Double(Timestamp.now().seconds)
        var rows = [["LAST SEEN", "TYPE", "REASON", "COUNT", "MESSAGE"]]
        for e in events {
            let seen = Timestamp.parse(time(e)).map { SyncSummary.age(now - $0) } ?? ""
            rows.append([seen, e["type"]?.string ?? "", e["reason"]?.string ?? "", String(e["count"]?.int ?? 1),
                         (e["message"]?.string ?? "").split(separator: "\n").joined(separator: " ")])
        }
        Output.out(table(rows))
    }
}
