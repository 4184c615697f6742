import ArgumentParser
import PatternCore
import PatternCompile
import PatternDiff
import PatternReport
import PatternApply
import KubeClient

/// `pattern apply`: change the cluster to match the render, in dependency order.
public struct ApplyCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Apply a site to its cluster: ordered server-side apply, readiness waits, safe prune, ledger.",
        discussion: """
            Order: namespaces and CRDs first (waiting until CRDs are Established), then the usual kind \
            order, component dependsOn and config.kubernetes.io/depends-on annotations. Inside a level \
            objects are applied concurrently; objects that did not change are not written at all. Between \
            levels apply waits until objects are ready (Deployments rolled out, Jobs complete, …).

            Prune removes objects that earlier applies created and the render no longer has, after \
            everything else, dependents first. It is refused when the render is empty or would remove more \
            than half of the inventory, unless --prune-confirm. Nothing is written when the render fails.

            Examples:
              pattern apply hub --dry-run             show the plan and what would change
              pattern apply hub                       apply, wait, prune, record
              pattern apply edge-eu --force-conflicts take over fields another manager owns
            """
    )

    @OptionGroup public var repoOptions: RepoOptions
    @OptionGroup public var cluster: ClusterOptions
    @Argument(help: "Site to apply.") public var site: String
    @Flag(help: "Show the plan and changes; write nothing.") public var dryRun = false
    @Flag(help: "Take ownership of fields other field managers own instead of failing.") public var forceConflicts = false
    @Flag(help: "Do not prune objects that are no longer rendered.") public var noPrune = false
    @Flag(help: "Allow a prune that the safety checks refuse (empty render, large shrink).") public var pruneConfirm = false
    @Flag(help: "Do not wait for readiness between levels.") public var noWait = false
    @Option(help: "Longest readiness wait per level, in seconds.") public var timeout: Double = 300
    @Option(help: "Concurrent requests inside a level.") public var concurrency: Int = 8
    @Option(name: .shortAndLong, help: "Output: text or json.") public var output: ReportFormat = .text

    public init() {}

    public func run() async throws {
        let (rendered, engine) = try cluster.renderAndConnect(site, repo: repoOptions, errorExit: 1)
        var options = ApplyOptions()
        options.dryRun = dryRun
        options.forceConflicts = forceConflicts
        options.prune = !noPrune
        options.pruneConfirm = pruneConfirm
        options.wait = !noWait
        options.waitTimeoutSeconds = timeout
        options.concurrency = max(1, concurrency)
        if dryRun && output == .text {
            let plan = try ApplyEngine.plan(rendered)
            Output.out("Plan for \(rendered.site) (\(rendered.objects.count) objects, \(plan.levels.count) levels):\n")
            for (i, level) in plan.levels.enumerated() {
                Output.out("  level \(i + 1): " + level.map(\.description).joined(separator: ", ") + "\n")
            }
        }
        let tty = Output.stderrIsTTY
        let progress = ProgressPrinter(tty: tty, quiet: output == .json)
        let result: ApplyResult
        do {
            result = try await engine.apply(rendered, options: options) { progress.handle($0) }
        } catch let e as ApplyError {
            progress.finish()
            Output.report([.error(e.message, fix: e.fix)])
            throw ReportedFailure()
        }
        progress.finish()
        switch output {
        case .json:
            Output.out(MachineReport.text(ApplyReportJSON.value(result, site: rendered)))
        case .text:
            Output.out(ApplyReportText.render(result, site: rendered, dryRun: dryRun))
        }
        if !result.succeeded { throw ReportedFailure() }
    }
}

/// Prints apply progress to stderr: one line per change of state (a live line on a terminal).
final class ProgressPrinter: @unchecked Sendable {
    let tty: Bool
    let quiet: Bool
    var last: [ObjectKey: String] = [:]
    var live = false
    private let lock = Lock()

    init(tty: Bool, quiet: Bool) { self.tty = tty; self.quiet = quiet }

    func handle(_ p: ApplyProgress) {
        guard !quiet else { return }
        lock.withLock {
            switch p {
            case .observing(let kinds): line("observing \(kinds) kinds")
            case .applyingLevel(let i, let n, let count): line("level \(i + 1)/\(n): applying \(count) objects")
            case .applied: break  // listed in the final report
            case .waiting(let k, let msg):
                if last[k] != msg {
                    last[k] = msg
                    line(msg.contains(k.name) ? "waiting: \(msg)" : "waiting for \(k): \(msg)", transient: true)
                }
            case .pruning(let k): line("pruning \(k)")
            }
        }
    }

    func line(_ s: String, transient: Bool = false) {
        if tty {
            Output.err("\r\u{1B}[2K" + s + (transient ? "" : "\n"))
            live = transient
        } else {
            Output.err(s + "\n")
        }
    }

    func finish() { if tty && live { lock.withLock { Output.err("\r\u{1B}[2K") } } }
}

/// Human report of an apply: what was applied, what failed and why, what was not attempted.
enum ApplyReportText {
    static func render(_ r: ApplyResult, site: RenderedSite, dryRun: Bool) -> String {
        var out = ""
        let interesting = r.outcomes.filter { $0.status != .unchanged }
        for o in interesting {
            out += "\(o.status.rawValue.padding(16)) \(o.key)"
            if let m = o.message { out += "\n    \(m)" }
            out += "\n"
        }
        let counts = ObjectOutcome.Status.allCases.compactMap { s -> String? in
            let n = r.count(s)
            return n == 0 ? nil : "\(n) \(s.rawValue)"
        }
        out += "\(site.site): \(counts.joined(separator: ", ")) in \(r.levels) levels; revision \(Renderer.short(r.revision))"
        out += "; \(r.writeRequests) writes, \(r.listRequests) lists, \(String(format2: r.durationSeconds))s\n"
        if dryRun { out += "(dry run: nothing was written)\n" }
        return out
    }
}

enum ApplyReportJSON {
    static func value(_ r: ApplyResult, site: RenderedSite) -> Value {
        [
            "site": .string(site.site), "revision": .string(r.revision), "succeeded": .bool(r.succeeded),
            "levels": .int(r.levels), "writeRequests": .int(r.writeRequests), "listRequests": .int(r.listRequests),
            "durationSeconds": .double(r.durationSeconds),
            "objects": .array(r.outcomes.map { o in
                var v: Value = ["object": MachineReport.object(o.key), "status": .string(o.status.rawValue)]
                if let m = o.message { v["message"] = .string(m) }
                if let l = o.level { v["level"] = .int(l + 1) }
                return v
            }),
        ]
    }
}

extension String {
    func padding(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
    init(format2 d: Double) {
        let v = (d * 100).rounded() / 100
        self = String(v)
    }
}
