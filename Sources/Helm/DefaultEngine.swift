/// The template engine charts render with by default.
public enum DefaultChartEngine {
    /// HelmTemplate, deterministic (no clock/random functions), non-strict as `helm template`.
    public static var engine: any ChartTemplateEngine { HelmTemplateEngine() }
}

extension ChartRenderer {
    /// A renderer using the default template engine.
    public init() { self.init(engine: DefaultChartEngine.engine) }
}
