import PatternCore

/// A small Prometheus registry: counters, gauges and histograms with labels, rendered in the
/// text exposition format (version 0.0.4). Thread-safe.
public final class MetricsRegistry: @unchecked Sendable {
    public enum Kind: String, Sendable { case counter, gauge, histogram }

    struct Family {
        var name: String
        var help: String
        var kind: Kind
        var buckets: [Double]
        /// label string (`{a="b"}`) → value (counter/gauge) or histogram state.
        var values: [String: Double] = [:]
        var histograms: [String: Histogram] = [:]
    }

    struct Histogram {
        var counts: [Int]
        var sum: Double = 0
        var count: Int = 0
    }

    private let lock = Lock()
    private var families: [String: Family] = [:]
    private var order: [String] = []

    public init() {}

    public static let durationBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]

    public func register(_ name: String, _ kind: Kind, help: String, buckets: [Double] = MetricsRegistry.durationBuckets) {
        lock.withLock {
            if families[name] == nil {
                families[name] = Family(name: name, help: help, kind: kind, buckets: buckets)
                order.append(name)
            }
        }
    }

    public func add(_ name: String, _ labels: [(String, String)] = [], _ delta: Double = 1) {
        let l = MetricsRegistry.labelString(labels)
        lock.withLock { families[name]?.values[l, default: 0] += delta }
    }

    public func set(_ name: String, _ labels: [(String, String)] = [], _ value: Double) {
        let l = MetricsRegistry.labelString(labels)
        lock.withLock { families[name]?.values[l] = value }
    }

    /// Removes every series of `name` whose labels include `label`=`value` (a deleted resource).
    public func removeSeries(_ name: String, where label: String, is value: String) {
        let needle = "\(label)=\"\(MetricsRegistry.escape(value))\""
        lock.withLock {
            guard var f = families[name] else { return }
            f.values = f.values.filter { !$0.key.contains(needle) }
            f.histograms = f.histograms.filter { !$0.key.contains(needle) }
            families[name] = f
        }
    }

    public func observe(_ name: String, _ labels: [(String, String)] = [], _ value: Double) {
        let l = MetricsRegistry.labelString(labels)
        lock.withLock {
            guard var f = families[name] else { return }
            var h = f.histograms[l] ?? Histogram(counts: Array(repeating: 0, count: f.buckets.count))
            for (i, b) in f.buckets.enumerated() where value <= b { h.counts[i] += 1 }
            h.sum += value
            h.count += 1
            f.histograms[l] = h
            families[name] = f
        }
    }

    /// The current value of a counter or gauge series (tests and status).
    public func value(_ name: String, _ labels: [(String, String)] = []) -> Double? {
        let l = MetricsRegistry.labelString(labels)
        return lock.withLock { families[name]?.values[l] }
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    static func labelString(_ labels: [(String, String)]) -> String {
        if labels.isEmpty { return "" }
        return "{" + labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
    }

    static func number(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d > 0 ? "+Inf" : "-Inf" }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return String(d)
    }

    /// The text exposition format.
    public func exposition() -> String {
        lock.withLock {
            var out = ""
            for name in order {
                guard let f = families[name] else { continue }
                out += "# HELP \(name) \(f.help)\n# TYPE \(name) \(f.kind.rawValue)\n"
                switch f.kind {
                case .counter, .gauge:
                    for (l, v) in f.values.sorted(by: { $0.key < $1.key }) { out += "\(name)\(l) \(MetricsRegistry.number(v))\n" }
                case .histogram:
                    for (l, h) in f.histograms.sorted(by: { $0.key < $1.key }) {
                        let inner = l.isEmpty ? "" : String(l.dropFirst().dropLast()) + ","
                        for (i, b) in f.buckets.enumerated() {
                            out += "\(name)_bucket{\(inner)le=\"\(MetricsRegistry.number(b))\"} \(h.counts[i])\n"
                        }
                        out += "\(name)_bucket{\(inner)le=\"+Inf\"} \(h.count)\n"
                        out += "\(name)_sum\(l) \(MetricsRegistry.number(h.sum))\n"
                        out += "\(name)_count\(l) \(h.count)\n"
                    }
                }
            }
            return out
        }
    }
}

/// The controller's metric names.
public enum ControllerMetrics {
    public static let reconcileTotal = "pattern_reconcile_total"
    public static let reconcileDuration = "pattern_reconcile_duration_seconds"
    public static let reconcileErrors = "pattern_reconcile_errors_total"
    public static let objects = "pattern_objects"
    public static let drifted = "pattern_drifted_objects"
    public static let apiRequests = "pattern_api_requests_total"
    public static let apiLatency = "pattern_api_request_duration_seconds"
    public static let gitFetchDuration = "pattern_git_fetch_duration_seconds"
    public static let triggers = "pattern_reconcile_triggers_total"
    public static let leader = "pattern_leader"
    public static let lastSuccess = "pattern_last_success_timestamp_seconds"

    public static func makeRegistry() -> MetricsRegistry {
        let r = MetricsRegistry()
        r.register(reconcileTotal, .counter, help: "Reconciles per PatternSync and result (success, failure).")
        r.register(reconcileDuration, .histogram, help: "Duration of reconciles per PatternSync, in seconds.")
        r.register(reconcileErrors, .counter, help: "Failed reconciles per PatternSync and stage (spec, source, render, drift, apply, status).")
        r.register(objects, .gauge, help: "Objects of the last reconcile per PatternSync and state (applied, unchanged, pruned, drifted, failed).")
        r.register(drifted, .gauge, help: "Objects that differ from the last applied render (hand edits, deletions), per PatternSync.")
        r.register(apiRequests, .counter, help: "Kubernetes API requests by method and status code (0: transport failure).")
        r.register(apiLatency, .histogram, help: "Kubernetes API request latency by method, in seconds.")
        r.register(gitFetchDuration, .histogram, help: "Duration of fetching and checking out the source, per PatternSync, in seconds.")
        r.register(triggers, .counter, help: "What started reconciles per PatternSync (interval, spec, owned, retry, start).")
        r.register(leader, .gauge, help: "1 while this instance holds the leader Lease.")
        r.register(lastSuccess, .gauge, help: "Unix time of the last successful reconcile per PatternSync.")
        return r
    }
}
