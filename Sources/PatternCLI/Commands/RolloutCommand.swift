import ArgumentParser
import PatternCore
import PatternCompile
import PatternApply
import PatternRecord
import PatternRollout
import PatternController
import PatternFleet
import KubeClient
#if canImport(Glibc)
import Glibc
#endif

/// `pattern rollout`: progressive rollouts of `rollouts/<name>.yaml` in waves, with state in the hub cluster.
public struct RolloutCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "rollout",
        abstract: "Roll a pattern out to many sites in waves: soak, health gates, failure budgets, automatic rollback.",
        discussion: """
            A rollout is declared in rollouts/<name>.yaml (see Docs/fleet.md, "Progressive rollouts"): ordered \
            waves of sites (by name, label selector or a percentage of a group), how many sites of a wave are \
            applied at once, how long a healthy wave soaks, its health checks and its failure budget.

            Each site is applied as `pattern apply` would, then waited for until every object is ready (and \
            the wave's checks hold). When more sites of a wave fail than its budget allows, the rollout stops \
            and every site that wave applied is rolled back to the revision its ledger had before. Sites \
            whose cluster cannot be reached are deferred and retried, unless the rollout sets requireAll.

            The state lives in a ConfigMap pattern-rollout-<name> in the hub cluster (--hub-context, else the \
            context of the rollout's spec.hub site), written after every transition, so any client sees it \
            and `resume` continues where a crashed or stopped client left off.

            Examples:
              pattern rollout start platform-1-5 --revision v1.5.0   every site's git pattern at tag v1.5.0, then the waves
              pattern rollout status platform-1-5                    wave by wave: done, soaking, waiting, failed, deferred
              pattern rollout status platform-1-5 -o json            the same for CI
              pattern rollout pause platform-1-5                     the driver stops after the site it is applying
              pattern rollout resume platform-1-5                    continue (also after a crash)
              pattern rollout abort platform-1-5                     stop for good; sites keep what they have
            """,
        subcommands: [Start.self, Status.self, Pause.self, Resume.self, Abort.self]
    )
    public init() {}

    /// Where the rollout state lives and how clusters are reached.
    public struct Options: ParsableArguments {
        @OptionGroup public var repoOptions: RepoOptions
        @Option(help: "Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).")
        public var kubeconfig: String?
        @Option(help: "kubeconfig context of the hub cluster that keeps the rollout state (default: the context of the rollout's spec.hub site).")
        public var hubContext: String?
        @Option(help: "Namespace of the rollout state on the hub (default: pattern-system).")
        public var recordNamespace: String = Inventory.defaultNamespace
        public init() {}

        /// The rollout's plan from the repository (errors are reported; exit 1).
        func plan(_ name: String) throws -> RolloutPlan {
            do { return try RolloutFile.load(name, workspace: repoOptions.workspace) } catch {
                Output.report(error.items)
                throw ExitCode(1)
            }
        }

        /// The store in the hub cluster: --hub-context, else the hub site's context.
        func store(_ name: String, plan: RolloutPlan? = nil) throws -> ConfigMapRolloutStore {
            var context = hubContext
            if context == nil {
                let p = try plan ?? self.plan(name)
                guard let hub = p.hubSite else {
                    Output.report([.error("rollout \(name) names no hub site, and --hub-context is not given",
                                          fix: "pass --hub-context <kubeconfig context>, or set spec.hub in rollouts/\(name).yaml")])
                    throw ExitCode(2)
                }
                do { context = try repoOptions.workspace.overlayChain(hub).reversed().lazy.compactMap(\.cluster.context).first } catch {
                    Output.report(error.items)
                    throw ExitCode(1)
                }
            }
            do { return ConfigMapRolloutStore(client: try KubeClient(kubeconfig: kubeconfig, context: context), namespace: recordNamespace) } catch {
                Output.report([.error("cannot configure the hub cluster connection: \(error)", fix: "check --kubeconfig and --hub-context")])
                throw ExitCode(2)
            }
        }
    }

    /// `user@host/pid`.
    static var who: String {
        var buf = [CChar](repeating: 0, count: 256)
        gethostname(&buf, 255)
        let user = getenv("USER").map { String(cString: $0) } ?? "unknown"
        return "\(user)@\(String(cString: buf))/\(getpid())"
    }

    static func fail(_ error: RolloutError) -> ExitCode {
        Output.report([.error(error.message, fix: error.fix)])
        return ExitCode(error.kind == .invalidTransition || error.kind == .notFound ? 2 : 1)
    }

    /// Prints the final state and sets the exit code: 0 succeeded or paused, 1 otherwise.
    static func finish(_ state: RolloutState, _ output: ReportFormat) throws {
        switch output {
        case .text: Output.out(RolloutStatusView.text(state, now: SystemRolloutClock().now()))
        case .json, .yaml: Output.document(RolloutStatusView.document(state), output)
        }
        if state.phase == .failed || state.phase == .aborted { throw ExitCode(1) }
    }

    /// A runner for the plan's sites: every site rendered first (nothing is written when one
    /// fails), at `sourceRef` when given; each site's apply records its render (so it can be
    /// rolled back to), and sites a PatternSync reconciles are refused unless `overrideController`.
    static func runner(_ options: Options, plan: RolloutPlan, store: ConfigMapRolloutStore, noPrune: Bool,
                       poll: Double, sourceRef: String?, overrideController: Bool) async throws -> (runner: RolloutRunner, digest: String) {
        let names = plan.waves.flatMap(\.sites)
        let repo = options.repoOptions.context
        let pin = try sourceRef.map { try RolloutCommand.pin($0, sites: names, repo: repo) }
        let (rendered, items, firstRecorders) = RenderRecord.compile(names, repo: repo, revision: pin)
        var recorders = firstRecorders
        let errors = items.filter { $0.diagnostic.severity == .error }
        if !errors.isEmpty || rendered.count != Set(names).count {
            Output.report(errors.map(\.diagnostic))
            Output.err("nothing was applied: every site of the rollout must render first\n")
            throw ExitCode(1)
        }
        let overlay = RenderRecord.overlay(repo)
        var sites: [String: ClusterSite] = [:]
        for var r in rendered {
            let client: KubeClient
            do { client = try KubeClient(kubeconfig: options.kubeconfig, context: r.cluster.context) } catch {
                Output.report([.error("site \(r.site): cannot configure its cluster connection (context \(r.cluster.context ?? "current")): \(error)",
                                      fix: "add that context to your kubeconfig")])
                throw ExitCode(2)
            }
            let engine = ApplyEngine(client: client, recordNamespace: r.apply.recordNamespace ?? Inventory.defaultNamespace)
            // Chart components render as Helm would: an upgrade where the release's objects were
            // applied before (as `pattern apply` and the site's PatternSync decide).
            let choice = await ChartReleaseRecords.choice(r, engine: engine)
            let siteName = r.site
            var upgradeRecorder = recorders[siteName]
            let releases: ChartReleases
            (r, releases) = try await choice.render(installed: r) { (releases: ChartReleases) async throws -> RenderedSite in
                let again = RenderRecord.compile([siteName], repo: repo, revision: pin, chartReleases: releases)
                guard let upgrade = again.rendered.first else {
                    Output.report(again.items.map(\.diagnostic).filter { $0.severity == .error })
                    Output.err("nothing was applied: every site of the rollout must render first\n")
                    throw ExitCode(1)
                }
                upgradeRecorder = again.recorders[siteName]
                return upgrade
            }
            recorders[r.site] = upgradeRecorder
            var o = ApplyOptions()
            o.prune = !noPrune
            o.namespaces = r.apply.namespaces
            if let kinds = r.apply.pruneKinds { o.pruneKinds = Set(kinds.map(GroupKind.parse)) }
            if let recorder = recorders[r.site] {
                o.render = RenderRecord.make(r, repo: repo, recorder: recorder, releases: releases, overlay: overlay)
            }
            sites[r.site] = ClusterSite(rendered: r, engine: engine, options: o)
        }
        if !overrideController { try await refuseManaged(sites) }
        // A failed wave's site goes back through the ledger rollback of `pattern rollback`: the
        // entry with the revision it had before, rendered again offline and checked against it.
        var clusterSites = ClusterRolloutSites(sites: sites, revert: { site, cs, revision in
            do {
                let r = try await Rollback.rollback(site: site, to: .id(revision), repo: repo, engine: cs.engine, options: cs.options)
                return r.succeeded ? .ok(revision) : .failed("rollback to \(Revision.short(revision)) failed: \(r.failed.count) object(s) failed")
            } catch {
                return .failed("rollback to \(Revision.short(revision)) failed: \(error)")
            }
        })
        if !overrideController {
            // Checked again right before each apply: a PatternSync may appear during a long rollout.
            clusterSites.refuse = { _, cs in
                do { return try await managedReason(cs) } catch { return "cannot check whether a PatternSync reconciles it: \(error)" }
            }
        }
        var runner = RolloutRunner(store: store, sites: clusterSites, driverID: who)
        runner.pollSeconds = max(0.1, poll)
        runner.onEvent = { Output.err($0 + "\n") }
        return (runner, digest(sites.values.map(\.rendered)))
    }

    /// Why a PatternSync that is not suspended reconciles the site (nil: none does).
    static func managedReason(_ cs: ClusterSite) async throws(KubeError) -> String? {
        let claimants: [SiteClaims.Claimant]
        do {
            claimants = try await SiteClaims.claimants(cs.engine.client, pattern: cs.rendered.pattern, site: cs.rendered.site,
                                                       recordNamespace: cs.engine.records.namespace)
        } catch {
            if case .forbidden = error { return nil }   // as `pattern apply`: cannot list, cannot tell
            throw error
        }
        let active = claimants.filter { !$0.suspended }
        guard !active.isEmpty else { return nil }
        return "reconciled in the cluster by \(active.map(\.description).joined(separator: ", ")); a rollout would be reverted by the controller"
    }

    /// Before anything is written: every reachable site that a PatternSync reconciles (and is
    /// not suspended) refuses the whole rollout, as `pattern apply` refuses such a site.
    /// Unreachable sites are checked again right before their apply.
    static func refuseManaged(_ sites: [String: ClusterSite]) async throws {
        let fleet = sites.keys.sorted().map { FleetSite(name: $0, clusterKey: sites[$0]!.rendered.cluster.context ?? "(current context)") }
        let results = await FleetRunner.run(fleet, limits: FleetLimits(parallel: 8, perCluster: 2)) { s in
            let cs = sites[s.name]!
            var r = SiteResult(site: s.name, cluster: s.clusterKey, outcome: .inSync)
            do {
                if try await Reachability.probe(cs.engine.client) != nil { return r }
                if let why = try await managedReason(cs) { r.outcome = .failed; r.message = why }
            } catch {
                r.outcome = .failed
                r.message = "cannot check whether a PatternSync reconciles it: \(error)"
            }
            return r
        }
        let refused = results.filter { $0.outcome == .failed }
        guard !refused.isEmpty else { return }
        Output.report(refused.map { .error("site \($0.site): \($0.message ?? "")",
                                           fix: "set spec.suspend: true on the PatternSync first, leave the site out of the rollout, or re-run with --override-controller") })
        Output.err("nothing was applied\n")
        throw ExitCode(1)
    }

    /// `--revision`: the git revision every site's git pattern source is rendered at. Every
    /// site of the rollout must take its pattern from git (a pattern in the repository itself
    /// has no revision to choose; roll out a commit of the repository by checking it out).
    static func pin(_ ref: String, sites: [String], repo: RepoContext) throws -> RenderRecord.SourceRevision {
        var urls = Set<String>()
        var local: [String] = []
        for s in Set(sites).sorted() {
            guard let chain = try? repo.workspace.overlayChain(s) else { continue }   // the compile reports it
            if let git = chain.reversed().lazy.compactMap({ $0.pattern?.git }).first { urls.insert(git.url) } else { local.append(s) }
        }
        if !local.isEmpty {
            Output.report([.error("--revision \(ref) selects a git revision of the sites' pattern source, but the pattern of \(local.joined(separator: ", ")) is not taken from git",
                                  fix: "give those sites a pattern.git source, or leave out --revision to roll out what the overlays name (check out the commit of this repository to roll out)")])
            throw ExitCode(2)
        }
        return RenderRecord.SourceRevision(ref: ref, urls: urls)
    }

    /// The render digest of the rollout's sites: what a rollout without --revision is named by.
    static func digest(_ rendered: [RenderedSite]) -> String {
        "sha256:" + SHA256.hex(rendered.map { $0.site + "=" + $0.revision }.sorted().joined(separator: "\n"))
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start a rollout and drive it wave by wave until it succeeds, fails, is paused or aborted.",
            discussion: """
                Every site of the rollout is rendered before anything is written. Progress goes to stderr; \
                the final status to stdout. Exit 0 when the rollout succeeded or was paused, 1 when it failed \
                (a wave broke its budget and was rolled back) or was aborted.

              Examples:
                pattern rollout start platform-1-5 --revision v1.5.0
                pattern rollout start platform-1-5 --hub-context hub-admin -o json
              """)
        @OptionGroup var options: Options
        @Argument(help: "Rollout name (rollouts/<name>.yaml).") var name: String
        @Option(help: "The git revision (tag, branch or commit) of the sites' pattern source to roll out, instead of the ref each overlay names; every site's pattern must come from git. Recorded in the state; resume renders at it too.")
        var revision: String?
        @Flag(help: "Do not prune objects the sites no longer render.") var noPrune = false
        @Flag(help: "Roll out to sites that a PatternSync reconciles in their cluster (it will revert what differs from its source).") var overrideController = false
        @Option(help: "Seconds between health polls.") var poll: Double = 5
        @Option(name: .shortAndLong, help: "Final status: text, json or yaml.") var output: ReportFormat = .text

        func run() async throws {
            let plan = try options.plan(name)
            let store = try options.store(name, plan: plan)
            let (runner, digest) = try await RolloutCommand.runner(options, plan: plan, store: store, noPrune: noPrune, poll: poll,
                                                                   sourceRef: revision, overrideController: overrideController)
            let rev = revision ?? digest
            do { try RolloutCommand.finish(try await runner.start(plan, revision: rev, sourceRef: revision), output) } catch let e as RolloutError { throw RolloutCommand.fail(e) }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a rollout wave by wave: which sites are done, soaking, waiting, failed, deferred, and why.",
            discussion: """
              Examples:
                pattern rollout status platform-1-5
                pattern rollout status platform-1-5 -o yaml
              """)
        @OptionGroup var options: Options
        @Argument(help: "Rollout name.") var name: String
        @Option(name: .shortAndLong, help: "Output: text, json or yaml.") var output: ReportFormat = .text

        func run() async throws {
            let store = try options.store(name)
            let state: RolloutState?
            do { state = try await store.load(name) } catch { throw RolloutCommand.fail(error) }
            guard let state else {
                Output.report([.error("no rollout named \(name) in \(store.namespace) on the hub cluster", fix: "start it with `pattern rollout start \(name)`")])
                throw ExitCode(1)
            }
            switch output {
            case .text: Output.out(RolloutStatusView.text(state, now: SystemRolloutClock().now()))
            case .json, .yaml: Output.document(RolloutStatusView.document(state), output)
            }
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pause a running rollout; its driver stops after the sites it is applying.",
            discussion: "Example:\n  pattern rollout pause platform-1-5")
        @OptionGroup var options: Options
        @Argument(help: "Rollout name.") var name: String
        @Option(name: .shortAndLong, help: "Output: text, or json/yaml (the paused rollout's status document).") var output: ReportFormat = .text

        func run() async throws {
            let store = try options.store(name)
            do {
                let s = try await RolloutRunner.pause(name, store: store, by: RolloutCommand.who, now: SystemRolloutClock().now())
                switch output {
                case .text: Output.out("rollout \(name) paused (wave \(s.currentWave.map { s.waves[$0].name } ?? "-")); `pattern rollout resume \(name)` continues\n")
                case .json, .yaml: Output.document(RolloutStatusView.document(s), output)
                }
            } catch { throw RolloutCommand.fail(error) }
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Resume a paused rollout, or one whose driving client is gone, and drive it.",
            discussion: """
                Sites are rendered from the repository again; the waves, soak times and budgets are the ones \
                recorded when the rollout started. A soak continues from its recorded start.

              Examples:
                pattern rollout resume platform-1-5
                pattern rollout resume platform-1-5 --take-over    the other driver is known to be gone
              """)
        @OptionGroup var options: Options
        @Argument(help: "Rollout name.") var name: String
        @Flag(help: "Resume although another client's heartbeat is recent.") var takeOver = false
        @Flag(help: "Do not prune objects the sites no longer render.") var noPrune = false
        @Flag(help: "Roll out to sites that a PatternSync reconciles in their cluster.") var overrideController = false
        @Option(help: "Seconds between health polls.") var poll: Double = 5
        @Option(name: .shortAndLong, help: "Final status: text, json or yaml.") var output: ReportFormat = .text

        func run() async throws {
            let store = try options.store(name)
            let stored: RolloutState?
            do { stored = try await store.load(name) } catch { throw RolloutCommand.fail(error) }
            guard let stored else { throw RolloutCommand.fail(RolloutRunner.notFound(name)) }
            let (runner, _) = try await RolloutCommand.runner(options, plan: stored.plan, store: store, noPrune: noPrune, poll: poll,
                                                              sourceRef: stored.sourceRef, overrideController: overrideController)
            do { try RolloutCommand.finish(try await runner.resume(name, takeOver: takeOver), output) } catch let e as RolloutError { throw RolloutCommand.fail(e) }
        }
    }

    struct Abort: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Abort a rollout: nothing more is applied; sites keep what they have.",
            discussion: "Example:\n  pattern rollout abort platform-1-5\n  pattern rollback edge-eu      then revert a site by hand")
        @OptionGroup var options: Options
        @Argument(help: "Rollout name.") var name: String
        @Option(name: .shortAndLong, help: "Output: text, or json/yaml (the aborted rollout's status document).") var output: ReportFormat = .text

        func run() async throws {
            let store = try options.store(name)
            do {
                let s = try await RolloutRunner.abort(name, store: store, by: RolloutCommand.who, now: SystemRolloutClock().now())
                switch output {
                case .text: Output.out("rollout \(name) aborted\n")
                case .json, .yaml: Output.document(RolloutStatusView.document(s), output)
                }
            } catch { throw RolloutCommand.fail(error) }
        }
    }
}
