import PatternCore

/// `generators:` entries of kind `HelmChartInflationGenerator` (`apiVersion: builtin`): the
/// configuration holds one `helmCharts` entry's fields (`name`, `version`, `releaseName`,
/// `valuesInline`, …) plus `helmGlobals`' `chartHome`/`configHome` at its top level, as
/// Kustomize's plugin embeds `types.HelmChart` and `types.HelmGlobals`. It renders through the
/// same native chart engine as `helmCharts:` (`HelmChartsGenerator`); no `helm` binary runs.
extension BuiltinPlugins {
    static let helmChartInflationKind = "HelmChartInflationGenerator"

    /// The objects of one `HelmChartInflationGenerator` configuration, as `helm template`
    /// prints them. Relative paths (`chartHome`, `valuesFile`) are relative to the
    /// kustomization that lists the generator.
    static func inflateHelmChart(_ c: Config, kust: Kustomization, loader: TreeLoader) throws(Diagnostics) -> [KResource] {
        guard var o = c.value.object else { return [] }
        for key in ["apiVersion", "kind", "metadata", "configHome"] { o.removeValue(forKey: key) }
        var k = kust
        k.file = c.file
        k.helmGlobals = o.removeValue(forKey: "chartHome").map { ["chartHome": $0] }
        k.helmCharts = [Value(.object(o), mark: c.value.mark)]
        return try HelmChartsGenerator.generate(k, loader: loader)
    }
}
