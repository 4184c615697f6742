// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for pattern's input readers. A separate package so the normal build and
// test never see `-sanitize=fuzzer`. Each target's main.swift hands control to libFuzzer's
// driver (SwiftPM aliases `main` to `<Module>_main`, so `-parse-as-library` cannot be used).
// Build and run (see Docs/fuzzing.md):
//
//   swift build --package-path Fuzz -c release -Xswiftc -sanitize=fuzzer,address
//   Fuzz/.build/release/FuzzYAML Fuzz/corpus/yaml -max_total_time=60
let package = Package(
    name: "pattern-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "pattern", path: "..")],
    targets: [
        // The bodies live in the main package's FuzzTargets library (Fuzz/Targets), which
        // Tests/FuzzCorpusTests also runs over every seed and saved crasher.
        .executableTarget(name: "FuzzYAML", dependencies: [.product(name: "FuzzTargets", package: "pattern")]),
        .executableTarget(name: "FuzzJSON", dependencies: [.product(name: "FuzzTargets", package: "pattern")]),
        .executableTarget(name: "FuzzKustomize", dependencies: [.product(name: "FuzzTargets", package: "pattern")]),
    ]
)
