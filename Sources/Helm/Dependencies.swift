import PatternCore

/// Helm's dependency processing (`chartutil.ProcessDependenciesWithMerge`): aliases,
/// `condition` and `tags` (subcharts that are disabled are removed from the tree), then
/// `import-values` (child values copied into the parent's defaults).
public enum DependencyProcessor {
    /// Processes `chart` in place against the user's values. Returns warnings (a condition
    /// that is not a boolean, a missing import table, …).
    public static func process(_ chart: inout Chart, values: Value) throws(ChartError) -> [Diagnostic] {
        var warnings: [Diagnostic] = []
        try checkPresent(chart)
        try enable(&chart, values, path: "", warnings: &warnings)
        try importValues(&chart, warnings: &warnings)
        return warnings
    }

    /// Every dependency in Chart.yaml must be in charts/ (as `helm template` checks).
    static func checkPresent(_ chart: Chart) throws(ChartError) {
        var missing: [Diagnostic] = []
        func walk(_ c: Chart) {
            for d in c.metadata.dependencies where !c.dependencies.contains(where: { $0.name == d.name }) {
                missing.append(.error("found in Chart.yaml, but missing in charts/ directory: \(d.name)",
                                      at: SourceLocation(file: c.display("Chart.yaml"), mark: d.mark),
                                      fix: "put the '\(d.name)' chart (directory or .tgz) into \(c.display("charts/")), or remove the dependency"))
            }
            for s in c.dependencies { walk(s) }
        }
        walk(chart)
        if !missing.isEmpty { throw ChartError(missing) }
    }

    static func enable(_ c: inout Chart, _ v: Value, path: String, warnings: inout [Diagnostic]) throws(ChartError) {
        if c.metadata.dependencies.isEmpty { return }
        // Subcharts not named in Chart.yaml stay; named ones are taken with their alias.
        var deps: [Chart] = []
        for existing in c.dependencies {
            let named = c.metadata.dependencies.contains {
                existing.name == $0.name && VersionRange.compatible($0.version, existing.metadata.version)
            }
            if !named { deps.append(existing) }
        }
        for i in c.metadata.dependencies.indices {
            let req = c.metadata.dependencies[i]
            if var sub = c.dependencies.first(where: { $0.name == req.name && VersionRange.compatible(req.version, $0.metadata.version) }) {
                if !req.alias.isEmpty { sub.metadata.name = req.alias }
                deps.append(sub)
            } else if c.dependencies.contains(where: { $0.name == req.name }) {
                warnings.append(Diagnostic(.warning, at: SourceLocation(file: c.display("Chart.yaml"), mark: req.mark),
                    "dependency '\(req.name)' version \"\(req.version)\" does not match the chart in charts/; it is not used",
                    fix: "update the version constraint or the chart in charts/"))
            }
            if !req.alias.isEmpty { c.metadata.dependencies[i].name = req.alias }
            c.metadata.dependencies[i].enabled = true
        }
        c.dependencies = deps

        var w = HelmValues.Warnings()
        let cvals = HelmValues.coalesce(c, v, warnings: &w)
        if let failure = HelmValues.failure(w, chart: c) { throw failure }
        // tags, then conditions (a condition that resolves wins over tags).
        let tags = HelmValues.table(cvals, "tags")
        for i in c.metadata.dependencies.indices {
            let r = c.metadata.dependencies[i]
            if let tags {
                var hasTrue = false, hasFalse = false
                for t in r.tags {
                    guard let b = tags[t] else { continue }
                    if let bv = b.bool { if bv { hasTrue = true } else { hasFalse = true } } else {
                        warnings.append(Diagnostic(.warning, at: SourceLocation(file: c.display("Chart.yaml"), mark: r.mark),
                                                   "tag '\(t)' for chart \(r.name) returned a non-bool value"))
                    }
                }
                if !hasTrue && hasFalse { c.metadata.dependencies[i].enabled = false }
                else if hasTrue || !hasFalse { c.metadata.dependencies[i].enabled = true }
            }
            for cond in r.condition.trimming(TrimSet(characters: " \t\n")).split(separator: ",") where !cond.isEmpty {
                let condPath = String(cond)
                guard let vv = HelmValues.pathValue(cvals, path + condPath) else { continue }
                if let b = vv.bool { c.metadata.dependencies[i].enabled = b; break }
                warnings.append(Diagnostic(.warning, at: SourceLocation(file: c.display("Chart.yaml"), mark: r.mark),
                                           "condition path '\(condPath)' for chart \(r.name) returned a non-bool value",
                                           fix: "set \(path + condPath) to true or false"))
            }
        }
        let disabled = Set(c.metadata.dependencies.filter { !$0.enabled }.map(\.name))
        c.dependencies.removeAll { disabled.contains($0.name) }
        c.metadata.dependencies.removeAll { disabled.contains($0.name) }
        for i in c.dependencies.indices {
            let subpath = path + c.dependencies[i].name + "."
            try enable(&c.dependencies[i], cvals, path: subpath, warnings: &warnings)
        }
    }

    static func importValues(_ c: inout Chart, warnings: inout [Diagnostic]) throws(ChartError) {
        for i in c.dependencies.indices { try importValues(&c.dependencies[i], warnings: &warnings) }
        if c.metadata.dependencies.isEmpty { return }
        var w = HelmValues.Warnings()
        let cvals = HelmValues.merge(c, .emptyObject, warnings: &w)
        if let failure = HelmValues.failure(w, chart: c) { throw failure }
        var b = Object()
        for r in c.metadata.dependencies {
            for riv in r.importValues {
                let loc = SourceLocation(file: c.display("Chart.yaml"), mark: riv.mark)
                if let iv = riv.object {
                    guard let child = iv["child"]?.string, let parent = iv["parent"]?.string else {
                        warnings.append(Diagnostic(.warning, at: loc, "import-values entry needs string 'child' and 'parent'"))
                        continue
                    }
                    guard let vv = HelmValues.table(cvals, r.name + "." + child) else {
                        warnings.append(Diagnostic(.warning, at: loc, "import-values: chart \(r.name) has no table '\(child)'",
                                                   fix: "check the child path against the subchart's values.yaml"))
                        continue
                    }
                    HelmValues.coalesceTables(&b, HelmValues.pathToMap(parent, vv), prefix: "", merge: true, warnings: &w)
                } else if let s = riv.string {
                    guard let vm = HelmValues.table(cvals, r.name + ".exports." + s) else {
                        warnings.append(Diagnostic(.warning, at: loc, "import-values: chart \(r.name) exports no '\(s)'",
                                                   fix: "the subchart must define exports.\(s) in its values.yaml"))
                        continue
                    }
                    HelmValues.coalesceTables(&b, vm, prefix: "", merge: true, warnings: &w)
                } else {
                    warnings.append(Diagnostic(.warning, at: loc, "import-values entries must be strings or {child, parent} maps"))
                }
            }
        }
        var merged = cvals.object ?? Object()
        HelmValues.coalesceTables(&merged, b, prefix: "", merge: true, warnings: &w)
        c.values = Value(.object(merged), mark: c.values.mark)
    }
}
