import Testing
import TestSupport
import PatternCore
import PatternCompile
import PatternApply
import KubeClient
import KubeTestServer
import ValidatedPatterns

/// The test API server with a client, and CRDs as the real clusters serve them.
struct VPCluster {
    let server: TestAPIServer
    let client: KubeClient

    init() throws {
        var o = TestAPIServerOptions()
        o.simulateControllers = true
        server = try TestAPIServer.start(o)
        let dir = TemporaryDirectories.make("vp-kube")
        writeFile(dir + "/kubeconfig", server.kubeconfig())
        var config = try ClientConfig.load(kubeconfig: dir + "/kubeconfig", context: "test")
        config.retry = RetryPolicy(maxAttempts: 5, baseDelay: 0.01, maxDelay: 0.05, jitter: 0.1, maxRetryAfter: 1)
        client = KubeClient(config: config)
    }

    /// A CRD whose versions keep unknown fields (the OLM, Argo CD and OpenShift config CRDs are
    /// far larger; what matters here is group, kind, plural, scope and the status subresource).
    func crd(group: String, kind: String, plural: String, namespaced: Bool, version: String = "v1") throws {
        try server.store.seed([
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": ["name": .string("\(plural).\(group)")],
            "spec": ["group": .string(group), "scope": namespaced ? "Namespaced" : "Cluster",
                     "names": ["plural": .string(plural), "singular": .string(kind.lowercased()), "kind": .string(kind), "listKind": .string(kind + "List")],
                     "versions": [["name": .string(version), "served": true, "storage": true, "subresources": ["status": .emptyObject],
                                   "schema": ["openAPIV3Schema": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]]]]],
        ])
    }
}

@Suite struct ClusterTests {
    /// `pattern facts` reads what the operator reads: /version, Infrastructure `cluster`,
    /// ClusterVersion `version` and Ingress `cluster` of config.openshift.io/v1.
    @Test func factsComeFromTheOpenShiftConfigObjects() async throws {
        let c = try VPCluster()
        defer { c.server.stop() }
        try c.crd(group: "config.openshift.io", kind: "Infrastructure", plural: "infrastructures", namespaced: false)
        try c.crd(group: "config.openshift.io", kind: "ClusterVersion", plural: "clusterversions", namespaced: false)
        try c.crd(group: "config.openshift.io", kind: "Ingress", plural: "ingresses", namespaced: false)
        try c.server.store.seed(["apiVersion": "config.openshift.io/v1", "kind": "Infrastructure", "metadata": ["name": "cluster"],
                                 "spec": ["platformSpec": ["type": "AWS", "aws": .emptyObject]]])
        _ = try c.server.store.setStatus(group: "config.openshift.io", resource: "infrastructures", name: "cluster",
                                         status: ["platform": "AWS", "platformStatus": ["type": "AWS", "aws": ["region": "eu-west-1"]]])
        try c.server.store.seed(["apiVersion": "config.openshift.io/v1", "kind": "ClusterVersion", "metadata": ["name": "version"],
                                 "spec": ["channel": "stable-4.18", "clusterID": "5e0c1a8e-0000-4000-8000-000000000000"]])
        _ = try c.server.store.setStatus(group: "config.openshift.io", resource: "clusterversions", name: "version",
                                         status: ["desired": ["version": "4.18.9"],
                                                  "history": [["state": "Partial", "version": "4.18.9"], ["state": "Completed", "version": "4.18.7"]]])
        try c.server.store.seed(["apiVersion": "config.openshift.io/v1", "kind": "Ingress", "metadata": ["name": "cluster"],
                                 "spec": ["domain": "apps.hub.example.com"]])
        let facts = try await SiteFacts.read(from: c.client)
        #expect(facts.global == ["clusterPlatform": "AWS", "clusterVersion": "4.18", "localClusterDomain": "apps.hub.example.com",
                                 "clusterDomain": "hub.example.com", "localClusterName": "hub"])
        #expect(facts.kubeVersion?.hasPrefix("v1.") == true)
    }

    /// A cluster without config.openshift.io: the Kubernetes version, and nothing invented.
    @Test func factsOfAPlainClusterAreItsVersionOnly() async throws {
        let c = try VPCluster()
        defer { c.server.stop() }
        let version = try await c.client.serverVersion()
        let facts = try await SiteFacts.read(from: c.client)
        let minor = (version["minor"]?.string ?? "").filter(\.isNumber)
        #expect(facts.global == ["clusterVersion": "\(version["major"]?.string ?? "")." + minor])
        #expect(facts.kubeVersion == version["gitVersion"]?.string)
    }

    /// The hub render (Applications kept, as `keep` mode applies them) applied to the test API
    /// server with the OLM and Argo CD CRDs installed.
    @Test func theHubAppliesWithSubscriptionsAndApplications() async throws {
        let c = try VPCluster()
        defer { c.server.stop() }
        try c.crd(group: "operators.coreos.com", kind: "Subscription", plural: "subscriptions", namespaced: true, version: "v1alpha1")
        try c.crd(group: "operators.coreos.com", kind: "OperatorGroup", plural: "operatorgroups", namespaced: true)
        try c.crd(group: "argoproj.io", kind: "Application", plural: "applications", namespaced: true, version: "v1alpha1")
        // The GitOps operator's namespace exists before the pattern (the operator creates it).
        try c.server.store.seed(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "openshift-gitops"]])
        let site = try compile("hub")
        var options = ApplyOptions()
        options.pollIntervalSeconds = 0.05
        options.waitTimeoutSeconds = 20
        let result = try await ApplyEngine(client: c.client).apply(site, options: options)
        #expect(result.succeeded, "\(result.failed)")
        let sub = try #require(c.server.store.get(group: "operators.coreos.com", resource: "subscriptions",
                                                   namespace: "external-secrets-operator", name: "aws-ebs-csi-driver-operator"))
        #expect(sub[path: ["spec", "channel"]]?.string == "stable")
        let app = try #require(c.server.store.get(group: "argoproj.io", resource: "applications", namespace: "openshift-gitops", name: "config-demo"))
        #expect(app[path: ["spec", "source", "path"]]?.string == "charts/all/config-demo")
        #expect(c.server.store.get(group: "operators.coreos.com", resource: "operatorgroups", namespace: "hello-world",
                                   name: "hello-world-operator-group") != nil)
        #expect(c.server.store.get(resource: "namespaces", name: "aws-storage") != nil)
    }
}
