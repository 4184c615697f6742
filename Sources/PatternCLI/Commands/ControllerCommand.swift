import ArgumentParser
import PatternCore
import PatternSource
import PatternController
import KubeClient
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// `pattern controller`: the reconcile loop, in the cluster or against any cluster.
public struct ControllerCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "controller",
        abstract: "Run the reconcile loop for PatternSync resources (in the cluster, or against any cluster).",
        discussion: """
            Watches PatternSync resources (pattern.dev/v1alpha1) and, per resource: fetches the source, renders \
            the site, compares with the cluster, applies in order with readiness waits, prunes (guarded), records \
            inventory and ledger, and writes status conditions and Events. Reconciles run at spec.interval, when \
            the spec changes and when objects the site owns change. One replica leads through a Lease; SIGTERM \
            finishes the current apply step and releases the Lease.

            Without --kubeconfig (and without $KUBECONFIG) inside a pod, the service account is used.

            /metrics is served on loopback by default: widen it with --metrics-addr 0.0.0.0:8080 only where the \
            network in front of it is trusted. The probes (/healthz, /livez, /readyz) are served on --health-addr \
            when given (in a pod: 0.0.0.0:8081, for the kubelet), else beside /metrics.

            Hub mode: a PatternSync with spec.cluster {name: …} or spec.clusterSelector applies to a remote cluster \
            registered as a Secret in --cluster-namespace (Argo CD's format: label argocd.argoproj.io/secret-type: \
            cluster, keys name, server, config; or label pattern.dev/cluster with a kubeconfig key). Objects, \
            inventory and ledger go to that cluster; status, Events and Leases stay in this one.

            Sharding: with --shards N (N > 1) every replica runs the same command; each PatternSync \
            (namespace/name) hashes to one of N shards, each held through its own Lease <lease-name>-shard-<i>; \
            a replica holds at most ceil(N / live replicas) shards and a stopped replica's shards move within \
            --lease-duration. --shards 1 (the default) is one leader through the Lease <lease-name>.

            Logs: one line per reconcile (site, revision, trigger, result, durationMs, counts; the error text on \
            failures), as text or, with --log-format json (or -o json), one JSON object per line. The logs are \
            the controller's only output, so -o takes text or json (a log stream has no YAML form).

            Examples:
              # against a cluster, from a workstation
              pattern controller --kubeconfig ~/.kube/config --context kind-dev
              # as the Deployment runs it
              pattern controller --health-addr 0.0.0.0:8081 --log-format json
              # install the controller into the cluster (it deploys itself)
              pattern apply controller
            """
    )

    @Option(help: "Path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config, else in-cluster).") public var kubeconfig: String?
    @Option(help: "kubeconfig context.") public var context: String?
    @Option(help: "Watch PatternSyncs in this namespace only (default: all namespaces).") public var namespace: String?
    @Option(help: "Name of the leader-election Lease.") public var leaseName: String = "pattern-controller"
    @Option(help: "Namespace of the Lease (default: --namespace, else the pod's namespace, else pattern-system).") public var leaseNamespace: String?
    @Option(help: "Shards the PatternSyncs are spread over (each through its own Lease); 1: one leader reconciles all. Every replica must use the same value.") public var shards: Int = 1
    @Option(help: "Namespace of the cluster Secrets (default: the Lease's namespace).") public var clusterNamespace: String?
    @Option(help: "Lease duration in seconds: a standby takes over this long after the leader stopped renewing.") public var leaseDuration: Double = 15
    @Option(help: "Seconds between lease renewals (and attempts to acquire it).") public var leaseRetry: Double = 2
    @Option(help: "Identity in the Lease (default: $POD_NAME or hostname, plus the process id).") public var identity: String?
    @Option(help: "host:port for /metrics (and the probes unless --health-addr is given); loopback by default, 0.0.0.0:8080 to serve every interface; empty to disable.") public var metricsAddr: String = "127.0.0.1:8080"
    @Option(help: "host:port for /healthz, /livez and /readyz alone (e.g. 0.0.0.0:8081 for kubelet probes); default: beside /metrics.") public var healthAddr: String?
    @Option(help: "Source cache directory (default: $XDG_CACHE_HOME/pattern or ~/.cache/pattern).") public var cacheDir: String?
    @Option(help: "Shortest retry delay after a failure, in seconds (doubles per failure).") public var minBackoff: Double = 1
    @Option(help: "Longest retry delay after failures, in seconds.") public var maxBackoff: Double = 300
    @Option(help: "Readiness poll interval during applies, in seconds.") public var pollInterval: Double = 1
    @Option(help: "Reconciles run at once across all PatternSyncs (the others wait their turn); bounds memory and API load at a cold start of many sites.") public var concurrent: Int = 20
    @Option(help: "Seconds between a driven PatternRollout's health checks and state polls (as `pattern rollout start --poll`).") public var rolloutPoll: Double = 5
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") public var logLevel: String = "info"
    @Option(help: "Log format: text (time level message key=value …) or json (one object per line).") public var logFormat: String?
    @Option(name: .shortAndLong, help: "Output (the logs): text or json; the same as --log-format.") public var output: String?

    public init() {}

    public func run() async throws {
        // A long-running process: nothing is left to the exit, or every reconcile's render
        // bookkeeping would stay (up to `KeepUntilExit.objectBudget`).
        try await KeepUntilExit.$processEndsAfterRun.withValue(false) { try await runController() }
    }

    func runController() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw Diagnostic.error("--log-level '\(logLevel)' is not a log level", fix: "use one of: \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let format = try ControllerCommand.logFormat(logFormat: logFormat, output: output)
        guard (1...10_000).contains(concurrent) else {
            throw Diagnostic.error("--concurrent \(concurrent) is out of range", fix: "use 1 up to 10000; 20 (the default) keeps two cores and the API servers busy")
        }
        guard (1...1024).contains(shards) else {
            throw Diagnostic.error("--shards \(shards) is out of range", fix: "use 1 (one leader) up to 1024; about one shard per 100–200 PatternSyncs per replica is plenty")
        }
        LoggingSystem.bootstrap { label in ControllerLogHandler(label: label, format: format, level: level) }
        let logger = Logger(label: "pattern.controller")
        let env = ProcessEnv.environment
        var config: ClientConfig
        do {
            // kubeconfig as kubectl finds it; in a pod without one, the service account.
            config = try ClientConfig.load(kubeconfig: kubeconfig, context: context)
        } catch {
            throw Diagnostic.error("cannot configure the cluster connection: \(error)", fix: "pass --kubeconfig/--context, or run in a pod with a service account")
        }
        let id = identity ?? "\(env["POD_NAME"] ?? ProcessEnv.hostname)_\(getpid())"
        config.userAgent = "pattern-controller/\(PatternControllerVersion.current) (\(id))"
        let metrics = ControllerMetrics.makeRegistry()
        let client = PatternController.instrumentedClient(config, metrics: metrics)
        let leaseNS = leaseNamespace ?? namespace ?? env["POD_NAMESPACE"] ?? "pattern-system"
        var lease = LeaderElector.Config(name: leaseName, namespace: leaseNS, identity: id)
        lease.leaseDuration = leaseDuration
        lease.retryPeriod = leaseRetry
        lease.renewDeadline = max(leaseRetry, leaseDuration * 2 / 3)
        var settings = ReconcilerSettings(cache: cacheDir.map { SourceCache(directory: $0) } ?? .default)
        settings.waitPollSeconds = pollInterval
        var cc = ControllerConfiguration(lease: lease, reconciler: settings)
        cc.namespace = namespace
        cc.shards = shards
        cc.maxConcurrentReconciles = concurrent
        cc.rolloutPollSeconds = max(0.05, rolloutPoll)
        cc.clusterNamespace = clusterNamespace
        cc.metricsAddress = metricsAddr.isEmpty ? nil : metricsAddr
        cc.healthAddress = healthAddr.flatMap { $0.isEmpty ? nil : $0 }
        cc.minBackoff = minBackoff
        cc.maxBackoff = maxBackoff
        let controller = PatternController(client: client, configuration: cc, metrics: metrics, logger: logger)
        do { try controller.startEndpoints() } catch {
            throw Diagnostic.error("\(error)", fix: "choose another --metrics-addr/--health-addr, or pass --metrics-addr '' to disable the endpoint")
        }
        if let p = controller.metricsPort { logger.info("serving /metrics", metadata: ["port": "\(p)"]) }
        if let p = controller.healthPort { logger.info("serving /healthz, /livez and /readyz", metadata: ["port": "\(p)"]) }
        try await ControllerService.runUntilSignalled(controller, logger: logger)
    }
}

extension ControllerCommand {
    /// `--log-format` and `-o` name the same choice (default text); yaml is refused, as are two
    /// different choices.
    static func logFormat(logFormat: String?, output: String?) throws(Diagnostic) -> LogFormat {
        if let o = output, o == "yaml" {
            throw Diagnostic.error("-o yaml: the controller's output is a log stream, which has no YAML form",
                                   fix: "use -o json (one JSON object per line) or -o text")
        }
        if let l = logFormat, let o = output, l != o {
            throw Diagnostic.error("--log-format \(l) and -o \(o) disagree", fix: "pass one of them")
        }
        let name = output ?? logFormat ?? "text"
        guard let format = LogFormat(rawValue: name) else {
            throw Diagnostic.error("'\(name)' is not a log format (\(output != nil ? "-o" : "--log-format"))", fix: "use text or json")
        }
        return format
    }
}

enum ProcessEnv {
    static var environment: [String: String] {
        var out: [String: String] = [:]
        var p = environ
        while let e = p.pointee {
            let s = String(cString: e)
            if let eq = s.firstIndex(of: "=") { out[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            p += 1
        }
        return out
    }
    static var hostname: String {
        var buf = [CChar](repeating: 0, count: 256)
        gethostname(&buf, 255)
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
