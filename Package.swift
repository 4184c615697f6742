// swift-tools-version:6.0
import PackageDescription

// One library per pipeline stage, C only in thin `C*` shim targets, a thin `pattern`
// executable on top. See Docs/architecture.md.
//
// Linux only (glibc): the sources import Glibc and the C shims link the Debian libraries that
// scripts/setup.sh installs; there is no macOS platform claim (see README).
/// Release builds of the modules on the render and diff path skip the run-time exclusivity
/// checks: `Object`'s and `KResource`'s copy-on-write boxes are classes, and every access to a
/// class's stored property otherwise costs a `swift_beginAccess` (8 % of a 3,000-object
/// render's instructions, Docs/benchmarks.md). Debug builds, which the tests run, keep them.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "pattern",
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
        .library(name: "ArgoCD", targets: ["ArgoCD"]),
        .library(name: "ValidatedPatterns", targets: ["ValidatedPatterns"]),
        .library(name: "FuzzTargets", targets: ["FuzzTargets"]),
        .library(name: "PatternFleet", targets: ["PatternFleet"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        // MARK: C shims (libyaml, libcurl, libgit2, OpenSSL for the test API server's TLS and signatures)
        .target(name: "CYAML", linkerSettings: [.linkedLibrary("yaml")]),
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("dl")]),  // libcurl is dlopened on first use (shim.c)
        .target(name: "CGit2", linkerSettings: [.linkedLibrary("dl")]),  // libgit2 is dlopened on first use (load.c)
        .target(name: "CTestTLS", linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        .target(name: "CZlib", linkerSettings: [.linkedLibrary("z")]),
        /// glibc malloc's top pad for one-shot commands, set before any thread starts (tuning.c).
        .target(name: "CMallocTuning"),
        /// OpenSSL libcrypto: the Ed25519 / ECDSA P-256 / RSA checks of commit signature
        /// verification (the formats are parsed in Swift) and Sprig's key, certificate, AES,
        /// random and bcrypt (libcrypt) functions. Both libraries are dlopened on first use (load.c).
        .target(name: "CCrypto", linkerSettings: [.linkedLibrary("dl")]),

        // MARK: Pipeline stages
        /// Values (ordered maps), YAML/JSON codecs, diagnostics, object identity, kind tables.
        .target(name: "PatternCore", dependencies: ["CYAML", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: hotPath, linkerSettings: [.linkedLibrary("m")]),
        /// Source: git repositories through libgit2, chart repositories over libcurl,
        /// content-addressed cache, mirrors, commit signatures.
        .target(name: "PatternSource", dependencies: ["PatternCore", "CGit2", "CCrypto", "CCurl", "HelmTemplate"]),
        /// Kustomize-compatible builds of `kustomization.yaml` directories (one transformer per file).
        .target(name: "Kustomize", dependencies: ["PatternCore", "Helm", "HelmTemplate"], swiftSettings: hotPath),
        /// Helm charts: Chart.yaml, values coalescing, dependencies, values.schema.json,
        /// .tgz archives, .Files/.Capabilities/.Release, hooks, rendering through HelmTemplate.
        .target(name: "Helm", dependencies: ["PatternCore", "CZlib", "HelmTemplate"], swiftSettings: hotPath),
        /// Compile: pattern files + overlays + Kustomize directories → ordered objects.
        .target(name: "PatternCompile", dependencies: ["PatternCore", "Kustomize", "Helm", "ArgoCD", "PatternDiff"], swiftSettings: hotPath),
        /// Argo CD `Application`s and `ApplicationSet`s expanded with our engines: sources
        /// (Helm, Kustomize, directories; own repo, git repos, chart repositories), sync waves
        /// and hooks as apply ordering, sync options, `ignoreDifferences`.
        .target(name: "ArgoCD", dependencies: ["PatternCore", "Helm", "HelmTemplate", "Kustomize", "PatternDiff"], swiftSettings: hotPath),
        /// Validated Patterns checkouts as pattern repos: values-global + values-<clusterGroup>,
        /// the operator's value-file order and injected facts, the clustergroup chart, --explain.
        .target(name: "ValidatedPatterns", dependencies: ["PatternCore", "PatternCompile", "PatternDiff", "Helm", "HelmTemplate", "KubeClient", "ArgoCD"]),
        /// Kubernetes API client (kubeconfig, libcurl transport, discovery, SSA, watch).
        .target(name: "KubeClient", dependencies: ["PatternCore", "CCurl"], swiftSettings: hotPath),
        /// Diff: desired vs live on owned fields (managedFields), apply plan graph, drift attribution.
        .target(name: "PatternDiff", dependencies: ["PatternCore"], swiftSettings: hotPath),
        /// Record: inventory and ledger of applies, encoded as cluster objects.
        .target(name: "PatternRecord", dependencies: ["PatternCore"]),
        /// Report: tables, colored unified diffs, JSON output, the apply report and its progress.
        .target(name: "PatternReport", dependencies: ["PatternCore", "PatternDiff", "PatternRecord", "PatternApply"]),
        /// Observe + Apply: one LIST per kind, ordered server-side apply with readiness waits,
        /// guarded prune, inventory and ledger in the cluster, drift.
        .target(name: "PatternApply", dependencies: [
            "PatternCore", "PatternDiff", "PatternRecord", "KubeClient",
        ], swiftSettings: hotPath),
        /// The in-cluster reconcile loop: PatternSync resources, leader election, status, events,
        /// health and Prometheus metrics endpoints.
        .target(name: "PatternController", dependencies: [
            "PatternCore", "PatternCompile", "PatternSource", "PatternApply", "PatternDiff", "PatternRecord", "KubeClient",
            "ValidatedPatterns", "Kustomize", "Helm", "PatternRollout",
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        /// Fleets: site selectors (kubectl label-selector grammar), the concurrent runner with
        /// per-cluster and overall bounds, reachability, the FleetReport matrix.
        .target(name: "PatternFleet", dependencies: ["PatternCore", "KubeClient"]),
        /// Progressive rollouts: waves, soak, health gates, failure budgets, rollback of a failed
        /// wave, state in the hub cluster (see Docs/fleet.md).
        .target(name: "PatternRollout", dependencies: ["PatternCore", "PatternDiff", "PatternRecord", "PatternApply", "KubeClient"]),
        /// Go text/template + Sprig + Helm template functions, natively (no `helm` binary).
        .target(name: "HelmTemplate", dependencies: ["PatternCore", "CCrypto"], swiftSettings: hotPath),
        /// Commands shared by the CLI (render, validate, cluster check, …).
        .target(name: "PatternCLI", dependencies: [
            "PatternCore", "PatternCompile", "PatternSource", "Kustomize", "KubeClient",
            "PatternDiff", "PatternRecord", "PatternReport", "PatternApply", "PatternController", "Helm", "ValidatedPatterns",
            "PatternFleet",
            "PatternRollout",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], plugins: ["GitInfoPlugin"]),
        /// `pattern version`'s git commit: GitInfoPlugin runs pattern-gitinfo on each build
        /// that changed the checkout (Docs/cli.md, "version").
        .plugin(name: "GitInfoPlugin", capability: .buildTool(), dependencies: ["pattern-gitinfo"]),
        .executableTarget(name: "pattern-gitinfo"),
        /// Linked without exporting its symbols: with `--static-swift-stdlib` the runtime's link
        /// arguments add `-export-dynamic`, which exports ~18,000 symbols nothing looks up and
        /// that the loader and `dladdr` then page through at every start (Docs/benchmarks.md).
        /// Release builds (Benchmarks/lib.sh, Dockerfile) also pass `-Xlinker -no-pie`, which is
        /// only safe with the static runtime, so it is not set here.
        .executableTarget(name: "pattern", dependencies: ["PatternCLI", "CMallocTuning"],
                          linkerSettings: [.unsafeFlags(["-Xlinker", "--no-export-dynamic"])]),
        /// Times HelmTemplate on a `helm create`-style Deployment (Benchmarks/helm-template.sh).
        .executableTarget(name: "helm-template-bench", dependencies: ["HelmTemplate", "PatternCore"]),

        /// The fuzz targets' bodies: run by the libFuzzer executables in Fuzz/ and replayed
        /// over the corpus by FuzzCorpusTests.
        .target(name: "FuzzTargets", dependencies: ["PatternCore", "Kustomize"], path: "Fuzz/Targets"),

        // MARK: Test support
        /// A Kubernetes API server model over real HTTP on loopback, for tests and benchmarks.
        .target(name: "KubeTestServer", dependencies: ["PatternCore", "CTestTLS"]),
        .executableTarget(name: "pattern-test-apiserver", dependencies: ["KubeTestServer"]),
        /// Shared by the test targets: temporary directories removed at exit, the git helper,
        /// repository and fixture paths, the diff fixtures.
        .target(name: "TestSupport", dependencies: ["PatternCore", "KubeTestServer"], path: "Tests/TestSupport"),

        // MARK: Tests
        .testTarget(name: "PatternFleetTests", dependencies: ["TestSupport", "PatternFleet", "KubeClient", "KubeTestServer", "PatternCore"]),
        .testTarget(name: "PatternCoreTests", dependencies: ["TestSupport", "PatternCore"]),
        .testTarget(name: "HelmTests", dependencies: ["TestSupport", "Helm", "HelmTemplate", "PatternCore"]),
        .testTarget(name: "KustomizeTests", dependencies: ["Kustomize", "PatternCore"]),
        .testTarget(name: "PatternCompileTests", dependencies: ["TestSupport", "PatternCompile", "PatternDiff", "PatternCore"]),
        .testTarget(name: "PatternSourceTests", dependencies: ["TestSupport", "PatternSource", "PatternCore", "KubeTestServer"]),
        .testTarget(name: "KubeClientTests", dependencies: ["TestSupport", "KubeClient", "KubeTestServer", "PatternCore"]),
        .testTarget(name: "KubeTestServerTests", dependencies: ["TestSupport", "KubeTestServer", "PatternCore"]),
        .testTarget(name: "PatternDiffTests", dependencies: ["TestSupport", "PatternDiff", "PatternCore"]),
        .testTarget(name: "PatternRecordTests", dependencies: ["PatternRecord", "PatternCore"]),
        .testTarget(name: "PatternReportTests", dependencies: ["TestSupport", "PatternReport", "PatternApply", "PatternDiff", "PatternRecord", "PatternCore"]),
        .testTarget(name: "PatternApplyTests", dependencies: ["TestSupport", 
            "PatternApply", "PatternCompile", "PatternDiff", "PatternRecord", "KubeClient", "KubeTestServer", "PatternCore",
        ]),
        .testTarget(name: "ArgoCDTests", dependencies: ["TestSupport", "ArgoCD", "PatternCompile", "PatternDiff", "PatternCore"]),
        .testTarget(name: "ValidatedPatternsTests", dependencies: ["TestSupport",
            "ValidatedPatterns", "PatternCompile", "PatternApply", "PatternDiff", "PatternRecord", "KubeClient", "KubeTestServer", "Helm", "PatternCore",
        ]),
        .testTarget(name: "FuzzCorpusTests", dependencies: ["TestSupport", "FuzzTargets"]),
        .testTarget(name: "PatternRolloutTests", dependencies: ["TestSupport", "PatternRollout", "PatternCompile", "PatternApply",
                                                            "PatternRecord", "KubeClient", "KubeTestServer", "PatternCore"]),
        .testTarget(name: "HelmTemplateTests", dependencies: ["HelmTemplate", "PatternCore"]),
        .testTarget(name: "PatternCLITests", dependencies: ["TestSupport", "PatternCLI", "CMallocTuning", "KubeTestServer", "PatternCore", "Helm",
                                                        "Kustomize", "PatternCompile", "PatternSource", "PatternRollout", "KubeClient"]),
        .testTarget(name: "PatternControllerTests", dependencies: ["TestSupport", 
            "PatternController", "PatternApply", "PatternCompile", "PatternSource", "PatternRecord", "KubeClient", "KubeTestServer", "PatternCore",
            "ValidatedPatterns", "PatternRollout",
            .product(name: "Logging", package: "swift-log"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
