// swift-tools-version:6.0
import PackageDescription

// One library per pipeline stage, C only in thin `C*` shim targets, a thin `pattern`
// executable on top. See Docs/architecture.md.
let package = Package(
    name: "pattern",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "pattern", targets: ["pattern"]),
        .executable(name: "pattern-test-apiserver", targets: ["pattern-test-apiserver"]),
        .library(name: "PatternCore", targets: ["PatternCore"]),
        .library(name: "PatternCompile", targets: ["PatternCompile"]),
        .library(name: "Kustomize", targets: ["Kustomize"]),
        .library(name: "PatternSource", targets: ["PatternSource"]),
        .library(name: "KubeClient", targets: ["KubeClient"]),
        .library(name: "KubeTestServer", targets: ["KubeTestServer"]),
        .library(name: "PatternController", targets: ["PatternController"]),
        .library(name: "Helm", targets: ["Helm"]),
        .library(name: "HelmTemplate", targets: ["HelmTemplate"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // MARK: C shims (libyaml, libcurl, libgit2, OpenSSL for the test API server's TLS)
        .target(name: "CYAML", linkerSettings: [.linkedLibrary("yaml")]),
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("curl")]),
        .target(name: "CGit2", linkerSettings: [.linkedLibrary("git2")]),
        .target(name: "CTestTLS", linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        .target(name: "CZlib", linkerSettings: [.linkedLibrary("z")]),

        // MARK: Pipeline stages
        /// Values (ordered maps), YAML/JSON codecs, diagnostics, object identity, kind tables.
        .target(name: "PatternCore", dependencies: ["CYAML"], linkerSettings: [.linkedLibrary("m")]),
        /// Source: git repositories through libgit2, content-addressed cache, mirrors.
        .target(name: "PatternSource", dependencies: ["PatternCore", "CGit2"]),
        /// Kustomize-compatible builds of `kustomization.yaml` directories (one transformer per file).
        .target(name: "Kustomize", dependencies: ["PatternCore", "Helm"]),
        /// Helm charts: Chart.yaml, values coalescing, dependencies, values.schema.json,
        /// .tgz archives, .Files/.Capabilities/.Release, hooks, rendering through HelmTemplate.
        .target(name: "Helm", dependencies: ["PatternCore", "CZlib", "HelmTemplate"]),
        /// Compile: pattern files + overlays + Kustomize directories → ordered objects.
        .target(name: "PatternCompile", dependencies: ["PatternCore", "Kustomize", "Helm"]),
        /// Kubernetes API client (kubeconfig, libcurl transport, discovery, SSA, watch).
        .target(name: "KubeClient", dependencies: ["PatternCore", "CCurl"]),
        /// Diff: desired vs live on owned fields (managedFields), apply plan graph, drift attribution.
        .target(name: "PatternDiff", dependencies: ["PatternCore"]),
        /// Record: inventory and ledger of applies, encoded as cluster objects.
        .target(name: "PatternRecord", dependencies: ["PatternCore"]),
        /// Report: tables, colored unified diffs, JSON output.
        .target(name: "PatternReport", dependencies: ["PatternCore", "PatternDiff", "PatternRecord"]),
        /// Observe + Apply: one LIST per kind, ordered server-side apply with readiness waits,
        /// guarded prune, inventory and ledger in the cluster, drift.
        .target(name: "PatternApply", dependencies: [
            "PatternCore", "PatternCompile", "PatternDiff", "PatternRecord", "KubeClient",
        ]),
        /// The in-cluster reconcile loop: PatternSync resources, leader election, status, events,
        /// health and Prometheus metrics endpoints.
        .target(name: "PatternController", dependencies: [
            "PatternCore", "PatternCompile", "PatternSource", "PatternApply", "PatternDiff", "PatternRecord", "KubeClient",
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        /// Go text/template + Sprig + Helm template functions, natively (no `helm` binary).
        .target(name: "HelmTemplate", dependencies: ["PatternCore"]),
        /// Commands shared by the CLI (render, validate, cluster check, …).
        .target(name: "PatternCLI", dependencies: [
            "PatternCore", "PatternCompile", "PatternSource", "KubeClient",
            "PatternDiff", "PatternRecord", "PatternReport", "PatternApply", "PatternController", "Helm",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "pattern", dependencies: ["PatternCLI"]),
        /// Times HelmTemplate on a `helm create`-style Deployment (Benchmarks/helm-template.sh).
        .executableTarget(name: "helm-template-bench", dependencies: ["HelmTemplate", "PatternCore"]),

        // MARK: Test support
        /// A Kubernetes API server model over real HTTP on loopback, for tests and benchmarks.
        .target(name: "KubeTestServer", dependencies: ["PatternCore", "CTestTLS"]),
        .executableTarget(name: "pattern-test-apiserver", dependencies: ["KubeTestServer"]),

        // MARK: Tests
        .testTarget(name: "PatternCoreTests", dependencies: ["PatternCore"]),
        .testTarget(name: "HelmTests", dependencies: ["Helm", "HelmTemplate", "PatternCore"]),
        .testTarget(name: "KustomizeTests", dependencies: ["Kustomize", "PatternCore"]),
        .testTarget(name: "PatternCompileTests", dependencies: ["PatternCompile", "PatternDiff", "PatternCore"]),
        .testTarget(name: "PatternSourceTests", dependencies: ["PatternSource", "PatternCore"]),
        .testTarget(name: "KubeClientTests", dependencies: ["KubeClient", "KubeTestServer", "PatternCore"]),
        .testTarget(name: "KubeTestServerTests", dependencies: ["KubeTestServer", "PatternCore"]),
        .testTarget(name: "PatternDiffTests", dependencies: ["PatternDiff", "PatternCore"]),
        .testTarget(name: "PatternRecordTests", dependencies: ["PatternRecord", "PatternCore"]),
        .testTarget(name: "PatternReportTests", dependencies: ["PatternReport", "PatternDiff", "PatternRecord", "PatternCore"]),
        .testTarget(name: "PatternApplyTests", dependencies: [
            "PatternApply", "PatternCompile", "PatternDiff", "PatternRecord", "KubeClient", "KubeTestServer", "PatternCore",
        ]),
        .testTarget(name: "HelmTemplateTests", dependencies: ["HelmTemplate", "PatternCore"]),
        .testTarget(name: "PatternCLITests", dependencies: ["PatternCLI", "KubeTestServer", "PatternCore", "Helm"]),
        .testTarget(name: "PatternControllerTests", dependencies: [
            "PatternController", "PatternApply", "PatternCompile", "PatternSource", "KubeClient", "KubeTestServer", "PatternCore",
        ]),
    ],
    swiftLanguageModes: [.v6]
)
