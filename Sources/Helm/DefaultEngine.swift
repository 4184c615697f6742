/// The template engine charts render with by default.
public enum DefaultChartEngine {
    /// Placeholder until the `HelmTemplate` module is linked in.
    public static var engine: any ChartTemplateEngine { UnavailableEngine() }
}

struct UnavailableEngine: ChartTemplateEngine {
    func render(_ job: TemplateJob) throws(ChartError) -> [String: String] {
        throw ChartError(.error("the Helm template engine is not available in this build"))
    }
}

extension ChartRenderer {
    /// A renderer using the default template engine.
    public init() { self.init(engine: DefaultChartEngine.engine) }
}
