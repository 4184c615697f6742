import PatternCore
import PatternReport

extension Output {
    /// Prints a machine document (it has `apiVersion` and `kind`) as indented JSON or YAML.
    static func document(_ v: Value, _ format: DocumentFormat) {
        out(format == .yaml ? YAMLEmitter().emit(v) : MachineReport.text(v))
    }
}
