import ServiceLifecycle
import Logging
import UnixSignals

/// The reconcile loops as a swift-service-lifecycle `Service`: graceful shutdown calls
/// `PatternController.shutdown()`, which finishes the current apply step and stops the workers.
/// It reconciles only while `LeaderElectionService` holds the Lease: run the two together
/// (`runUntilSignalled` does), with leader election first so it is shut down after this one.
public struct ControllerService: Service {
    public let controller: PatternController
    public init(controller: PatternController) { self.controller = controller }

    public func run() async throws {
        let c = controller
        await withGracefulShutdownHandler {
            await c.runReconcilers()
        } onGracefulShutdown: {
            c.shutdown()
        }
    }

    /// Runs `controller` until SIGTERM or SIGINT as three services, started in this order and
    /// shut down in the reverse one: the health/metrics endpoints, leader election, the
    /// reconcile loops. So on SIGTERM the applies in flight finish first, then the Lease is
    /// released (a standby takes over at once), and the probes answer until the very end.
    public static func runUntilSignalled(_ controller: PatternController, logger: Logger) async throws {
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [
                .init(service: EndpointService(controller: controller), serviceName: "endpoints"),
                .init(service: LeaderElectionService(controller: controller), serviceName: "leader-election"),
                .init(service: ControllerService(controller: controller), serviceName: "reconcilers"),
            ],
            gracefulShutdownSignals: [UnixSignal.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}

/// Leader election (a `coordination.k8s.io/v1` Lease) as its own `Service`: renews until
/// graceful shutdown reaches it, then releases the Lease.
public struct LeaderElectionService: Service {
    public let controller: PatternController
    public init(controller: PatternController) { self.controller = controller }

    public func run() async throws {
        let c = controller
        await withGracefulShutdownHandler {
            await c.runElection()
        } onGracefulShutdown: {
            c.stopElection()
        }
    }
}

/// The `/healthz` `/livez` `/readyz` and `/metrics` endpoints as their own `Service`: bound
/// when the service starts (an address in use fails the group at once), closed last.
public struct EndpointService: Service {
    public let controller: PatternController
    public init(controller: PatternController) { self.controller = controller }

    public func run() async throws {
        try controller.startEndpoints()
        // Serves (on its own threads) until graceful shutdown or cancellation reaches it.
        try? await gracefulShutdown()
        controller.stopEndpoints()
    }
}
