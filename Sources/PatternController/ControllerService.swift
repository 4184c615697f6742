import ServiceLifecycle
import Logging
import UnixSignals

/// The controller as a swift-service-lifecycle `Service`: graceful shutdown (SIGTERM, SIGINT)
/// calls `PatternController.shutdown()`, which finishes the current apply step, stops the
/// workers and releases the Lease before `run()` returns.
public struct ControllerService: Service {
    public let controller: PatternController
    public init(controller: PatternController) { self.controller = controller }

    public func run() async throws {
        let c = controller
        try await withGracefulShutdownHandler {
            try await c.run()
        } onGracefulShutdown: {
            c.shutdown()
        }
    }

    /// Runs `controller` until SIGTERM or SIGINT.
    public static func runUntilSignalled(_ controller: PatternController, logger: Logger) async throws {
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [ServiceGroupConfiguration.ServiceConfiguration(service: ControllerService(controller: controller), serviceName: "pattern-controller")],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}
