import CoreMetrics
import Prometheus
import Synchronization
import PatternCore

/// The controller's metrics: recorded through swift-metrics (`FloatingPointCounter`, `Gauge`,
/// `Recorder`) into a swift-prometheus `PrometheusCollectorRegistry`, and rendered in the
/// Prometheus text exposition format (version 0.0.4).
///
/// Every metric is registered once with its kind, HELP text (which lists its labels and their
/// values) and buckets; each registry has its own `MetricsFactory`, so several controllers in
/// one process (tests) never share series and nothing depends on the global `MetricsSystem`.
public final class MetricsRegistry: Sendable {
    /// What a metric is.
    public enum Kind: String, Sendable { case counter, gauge, histogram }

    /// The swift-prometheus registry behind this one (what `/metrics` renders).
    public let prometheus: PrometheusCollectorRegistry
    /// The swift-metrics factory that creates series in `prometheus` with their HELP text.
    public let factory: PatternMetricsFactory

    private enum Series: Sendable {
        case counter(CoreMetrics.FloatingPointCounter)
        case gauge(CoreMetrics.Gauge)
        case histogram(CoreMetrics.Recorder)
    }

    private struct Entry: Sendable {
        var labels: [(String, String)]
        var series: Series
        /// Counter total or gauge value (histograms: the count of observations).
        var value: Double
    }

    private struct State: Sendable {
        /// metric name → label key → series.
        var series: [String: [String: Entry]] = [:]
    }

    private let state = Mutex(State())

    /// An empty registry; `register` the metrics before recording them.
    public init() {
        prometheus = PrometheusCollectorRegistry()
        factory = PatternMetricsFactory(registry: prometheus)
    }

    /// Buckets for durations in seconds, from 5 ms to 5 minutes.
    public static let durationBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]

    /// Declares a metric: its kind, HELP text and (histograms) buckets. Recording a name that
    /// was never registered is ignored.
    public func register(_ name: String, _ kind: Kind, help: String, buckets: [Double] = MetricsRegistry.durationBuckets) {
        factory.catalog.declare(name, MetricDefinition(kind: kind, help: help, buckets: buckets))
    }

    private static func key(_ labels: [(String, String)]) -> String {
        labels.map { "\($0.0)=\($0.1)" }.joined(separator: "\u{0}")
    }

    /// The series of `name` with `labels`, created on first use.
    private func series(_ name: String, _ labels: [(String, String)], _ expected: Kind) -> Series? {
        guard let def = factory.catalog.definition(name), def.kind == expected else { return nil }
        let k = MetricsRegistry.key(labels)
        return state.withLock { s -> Series in
            if let e = s.series[name]?[k] { return e.series }
            let made: Series
            switch def.kind {
            case .counter: made = .counter(CoreMetrics.FloatingPointCounter(label: name, dimensions: labels, factory: factory))
            case .gauge: made = .gauge(CoreMetrics.Gauge(label: name, dimensions: labels, factory: factory))
            case .histogram: made = .histogram(CoreMetrics.Recorder(label: name, dimensions: labels, aggregate: true, factory: factory))
            }
            s.series[name, default: [:]][k] = Entry(labels: labels, series: made, value: 0)
            return made
        }
    }

    /// Adds `delta` to a counter.
    public func add(_ name: String, _ labels: [(String, String)] = [], _ delta: Double = 1) {
        guard case .counter(let c)? = series(name, labels, .counter) else { return }
        c.increment(by: delta)
        let k = MetricsRegistry.key(labels)
        state.withLock { $0.series[name]?[k]?.value += delta }
    }

    /// Sets a gauge.
    public func set(_ name: String, _ labels: [(String, String)] = [], _ value: Double) {
        guard case .gauge(let g)? = series(name, labels, .gauge) else { return }
        g.record(value)
        let k = MetricsRegistry.key(labels)
        state.withLock { $0.series[name]?[k]?.value = value }
    }

    /// Records one observation in a histogram.
    public func observe(_ name: String, _ labels: [(String, String)] = [], _ value: Double) {
        guard case .histogram(let h)? = series(name, labels, .histogram) else { return }
        h.record(value)
        let k = MetricsRegistry.key(labels)
        state.withLock { $0.series[name]?[k]?.value += 1 }
    }

    /// Removes every series, of every metric, whose labels include all of `labels` (the
    /// series of a deleted PatternSync: its namespace *and* name, so a PatternSync of the same
    /// name in another namespace keeps its series).
    public func removeSeries(matching labels: [(String, String)]) { remove(nil, labels) }

    /// Removes the series of `name` whose labels include all of `labels`.
    public func removeSeries(_ name: String, matching labels: [(String, String)]) { remove(name, labels) }

    private func remove(_ only: String?, _ labels: [(String, String)]) {
        let doomed = state.withLock { s -> [Series] in
            var out: [Series] = []
            for (name, entries) in s.series where only == nil || only == name {
                for (k, e) in entries where labels.allSatisfy({ want in e.labels.contains { $0 == want } }) {
                    out.append(e.series)
                    s.series[name]?[k] = nil
                }
            }
            return out
        }
        // swift-metrics' destroy() unregisters each series from the Prometheus registry.
        for d in doomed {
            switch d {
            case .counter(let c): c.destroy()
            case .gauge(let g): g.destroy()
            case .histogram(let h): h.destroy()
            }
        }
    }

    /// The current value of a counter or gauge series, or the number of observations of a
    /// histogram series (tests and status); nil when the series does not exist.
    public func value(_ name: String, _ labels: [(String, String)] = []) -> Double? {
        let k = MetricsRegistry.key(labels)
        return state.withLock { $0.series[name]?[k]?.value }
    }

    /// The label sets of every series of `name`.
    public func labelSets(_ name: String) -> [[(String, String)]] {
        state.withLock { s in (s.series[name] ?? [:]).values.map(\.labels) }
    }

    /// The text exposition format, as `/metrics` serves it.
    public func exposition() -> String { prometheus.emitToString() }
}

/// What a registered metric is.
public struct MetricDefinition: Sendable {
    public var kind: MetricsRegistry.Kind
    public var help: String
    public var buckets: [Double]
}

/// The registered metrics of one registry (name → kind, HELP text, buckets).
public final class MetricCatalog: Sendable {
    private let definitions = Mutex<[String: MetricDefinition]>([:])
    func declare(_ name: String, _ d: MetricDefinition) { definitions.withLock { if $0[name] == nil { $0[name] = d } } }
    /// The definition of `name`, if it was registered.
    public func definition(_ name: String) -> MetricDefinition? { definitions.withLock { $0[name] } }
}

/// A swift-metrics `MetricsFactory` over a `PrometheusCollectorRegistry` that gives every
/// series the HELP text and buckets its metric was registered with (swift-prometheus's own
/// factory writes no HELP lines).
public struct PatternMetricsFactory: MetricsFactory, Sendable {
    public let registry: PrometheusCollectorRegistry
    public let catalog = MetricCatalog()

    public init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    private func descriptor(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: catalog.definition(label)?.help ?? "")
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: descriptor(label), labels: dimensions) }
        let buckets = catalog.definition(label)?.buckets ?? MetricsRegistry.durationBuckets
        return registry.makeValueHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets)
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let buckets = (catalog.definition(label)?.buckets ?? MetricsRegistry.durationBuckets).map { Duration.nanoseconds(Int64($0 * 1e9)) }
        return registry.makeDurationHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets)
    }

    public func destroyCounter(_ handler: any CounterHandler) {
        if let c = handler as? Prometheus.Counter { registry.unregisterCounter(c) }
    }

    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let c = handler as? Prometheus.Counter { registry.unregisterCounter(c) }
    }

    public func destroyRecorder(_ handler: any RecorderHandler) {
        if let g = handler as? Prometheus.Gauge { registry.unregisterGauge(g) }
        if let h = handler as? ValueHistogram { registry.unregisterValueHistogram(h) }
    }

    public func destroyMeter(_ handler: any MeterHandler) {
        if let g = handler as? Prometheus.Gauge { registry.unregisterGauge(g) }
    }

    public func destroyTimer(_ handler: any TimerHandler) {
        if let h = handler as? DurationHistogram { registry.unregisterDurationHistogram(h) }
    }
}

/// The controller's metric names. Every HELP text lists the metric's labels and their values.
public enum ControllerMetrics {
    public static let reconcileTotal = "pattern_reconcile_total"
    public static let reconcileDuration = "pattern_reconcile_duration_seconds"
    public static let stageDuration = "pattern_reconcile_stage_duration_seconds"
    public static let reconcileErrors = "pattern_reconcile_errors_total"
    public static let objects = "pattern_objects"
    public static let drifted = "pattern_drifted_objects"
    public static let apiRequests = "pattern_api_requests_total"
    public static let apiLatency = "pattern_api_request_duration_seconds"
    public static let gitFetchDuration = "pattern_git_fetch_duration_seconds"
    public static let triggers = "pattern_reconcile_triggers_total"
    public static let leader = "pattern_leader"
    public static let shardsHeld = "pattern_controller_shards_held"
    public static let replicas = "pattern_controller_replicas"
    public static let lastSuccess = "pattern_last_success_timestamp_seconds"
    public static let syncInfo = "pattern_sync_info"
    public static let syncReady = "pattern_sync_ready"
    public static let buildInfo = "pattern_build_info"

    /// The reconcile stages timed in `stageDuration`.
    public static let stages = ["source", "render", "drift", "apply", "status"]

    /// A registry with every controller metric registered, `pattern_build_info` set and
    /// `pattern_leader` at 0 (a standby exports it too).
    public static func makeRegistry() -> MetricsRegistry {
        let r = MetricsRegistry()
        let ps = "namespace, name (the PatternSync)"
        r.register(reconcileTotal, .counter, help: "Reconciles per PatternSync. Labels: \(ps); result: success, failure, stalled, suspended, cancelled.")
        r.register(reconcileDuration, .histogram, help: "Duration of whole reconciles in seconds. Labels: \(ps).")
        r.register(stageDuration, .histogram, help: "Duration of each reconcile stage in seconds. Labels: \(ps); stage: \(stages.joined(separator: ", ")).")
        r.register(reconcileErrors, .counter, help: "Failed reconciles. Labels: \(ps); stage: spec, source, render, drift, apply, status.")
        r.register(objects, .gauge, help: "Objects of the last reconcile. Labels: \(ps); state: applied, unchanged, pruned, drifted, failed.")
        r.register(drifted, .gauge, help: "Objects that differ from the last applied render (hand edits, deletions). Labels: \(ps).")
        r.register(apiRequests, .counter, help: "Kubernetes API requests. Labels: method: GET, POST, PUT, PATCH, DELETE; code: the HTTP status, 0 for a transport failure.")
        r.register(apiLatency, .histogram, help: "Kubernetes API request latency in seconds. Labels: method: GET, POST, PUT, PATCH, DELETE.")
        r.register(gitFetchDuration, .histogram, help: "Duration of fetching and checking out a git source in seconds. Labels: \(ps).")
        r.register(triggers, .counter, help: "What started reconciles. Labels: \(ps); trigger: \(ReconcileTrigger.allCases.map(\.rawValue).joined(separator: ", ")).")
        r.register(leader, .gauge, help: "1 while this instance holds the leader Lease, 0 while it stands by. No labels.")
        r.register(shardsHeld, .gauge, help: "Shards this replica holds and reconciles (sharded mode, --shards > 1). No labels.")
        r.register(replicas, .gauge, help: "Live controller replicas this one sees through their Leases (sharded mode). No labels.")
        r.register(lastSuccess, .gauge, help: "Unix time of the last successful reconcile. Labels: \(ps).")
        r.register(syncInfo, .gauge, help: "Always 1: the state of each PatternSync in its labels. Labels: \(ps); site; revision: the last applied render (sha256:<12 hex>, empty before the first apply); ready: True, False, Unknown; suspended: true, false.")
        r.register(syncReady, .gauge, help: "1 when the PatternSync's Ready condition is True, else 0. Labels: \(ps).")
        r.register(buildInfo, .gauge, help: "Always 1: the build of this controller. Labels: version.")
        r.set(buildInfo, [("version", PatternControllerVersion.current)], 1)
        r.set(leader, [], 0)
        return r
    }
}
