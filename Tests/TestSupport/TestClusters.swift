import Foundation
import KubeTestServer

/// N test clusters served by one `TestAPIFleetServer` and a kubeconfig with one context per
/// cluster (named as the cluster), written into a temporary directory that `stop()` (or
/// releasing the value) removes.
///
/// ```swift
/// let clusters = try TestClusters(["hub", "edge-eu", "edge-us"], refused: ["edge-gone"])
/// defer { clusters.stop() }
/// clusters.kubeconfigPath            // contexts hub, edge-eu, edge-us, edge-gone
/// clusters["edge-eu"].requestLog     // that cluster's requests
/// ```
public final class TestClusters: @unchecked Sendable {
    public let fleet: TestAPIFleetServer
    public let directory: TemporaryDirectory
    /// `<directory>/kubeconfig`.
    public let kubeconfigPath: String
    /// Contexts whose server refuses connections (nothing listens on their port).
    public let refusedContexts: [String]

    /// Starts one cluster per name; `refused` adds contexts pointing at a port where nothing
    /// listens (connection refused).
    public init(_ names: [String], refused: [String] = [], options: TestAPIServerOptions = TestAPIServerOptions()) throws {
        fleet = try TestAPIFleetServer.start(clusters: names, options: options)
        directory = TemporaryDirectory("clusters")
        kubeconfigPath = directory.file("kubeconfig")
        refusedContexts = refused
        var extra: [(name: String, server: String)] = []
        for r in refused { extra.append((r, try TestAPIFleetServer.refusedURL())) }
        try fleet.kubeconfig(extra: extra).write(toFile: kubeconfigPath, atomically: true, encoding: .utf8)
    }

    /// Starts `count` clusters named `<prefix>1` … `<prefix>N`.
    public convenience init(count: Int, prefix: String = "cluster-", options: TestAPIServerOptions = TestAPIServerOptions()) throws {
        try self.init((1...max(1, count)).map { "\(prefix)\($0)" }, options: options)
    }

    /// The cluster with this name (a test bug when it does not exist).
    public subscript(name: String) -> TestAPIServer {
        guard let c = fleet[name] else { fatalError("no test cluster \(name)") }
        return c
    }

    /// Stops the server and removes the kubeconfig directory.
    public func stop() {
        fleet.stop()
        directory.remove()
    }

    deinit { fleet.stop() }
}
