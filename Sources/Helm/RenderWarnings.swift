import PatternCore
import Synchronization

extension ChartRender {
    /// The render's warnings as a caller shows them beside its other compile warnings: each
    /// message names the chart (`<context>chart <name>: …`), and a warning located at a
    /// template (`<chart>/templates/x.yaml`, `<chart>/charts/<sub>/templates/…`) points at
    /// that file as the user sees it (`shown`, the same mapping as the objects' `# Source`
    /// files). Warnings already located in the chart's files (values.yaml, Chart.yaml) keep
    /// their place; one without a place is located at the chart's Chart.yaml.
    public func locatedWarnings(chart: Chart, context: String = "", shown: (String) -> String) -> [Diagnostic] {
        var out: [Diagnostic] = []
        out.reserveCapacity(warnings.count)
        let root = chart.display("")
        for var w in warnings {
            w.message = "\(context)chart \(chart.name): " + w.message
            if var loc = w.location {
                if !(loc.file.hasPrefix(root) && !root.isEmpty) && loc.file.hasPrefix(chart.name + "/") { loc.file = shown(loc.file) }
                w.location = loc
            } else {
                w.location = SourceLocation(file: chart.display("Chart.yaml"))
            }
            out.append(w)
        }
        return out
    }
}

/// Collects chart warnings from renders running concurrently (Argo CD sources of one level,
/// chart components), for the caller to report in a stable order once they are done.
public final class ChartWarningSink: Sendable {
    private let items = Mutex<[Diagnostic]>([])

    public init() {}

    public func add(_ d: Diagnostic) { add([d]) }

    public func add(_ ds: [Diagnostic]) {
        if ds.isEmpty { return }
        items.withLock { $0 += ds }
    }

    /// Everything added, sorted by file, line, column and message (renders finish in any order).
    public var all: [Diagnostic] {
        items.withLock { $0 }.sorted { a, b in
            let fa = a.location?.file ?? "", fb = b.location?.file ?? ""
            if fa != fb { return fa < fb }
            let la = a.location?.mark.line ?? 0, lb = b.location?.mark.line ?? 0
            if la != lb { return la < lb }
            let ca = a.location?.mark.column ?? 0, cb = b.location?.mark.column ?? 0
            if ca != cb { return ca < cb }
            return a.message < b.message
        }
    }
}
