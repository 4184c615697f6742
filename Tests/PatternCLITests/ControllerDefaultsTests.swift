import Testing
import PatternCLI

/// The controller's defaults that the least-privilege section promises (issue 15):
/// metrics and probes on loopback unless the user widens them.
@Suite struct ControllerDefaultsTests {
    @Test func metricsAreServedOnLoopbackByDefault() throws {
        let command = try ControllerCommand.parse([])
        #expect(command.metricsAddr == "127.0.0.1:8080")
        let widened = try ControllerCommand.parse(["--metrics-addr", "0.0.0.0:8080"])
        #expect(widened.metricsAddr == "0.0.0.0:8080")
    }
}
