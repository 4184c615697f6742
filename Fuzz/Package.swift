// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for pattern's input readers. A separate package so the normal build and
// test never see `-sanitize=fuzzer`. Build and run (see Docs/fuzzing.md):
//
//   swift build --package-path Fuzz -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
//   Fuzz/.build/release/FuzzYAML Fuzz/corpus/yaml -max_total_time=60
let package = Package(
    name: "pattern-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "pattern", path: "..")],
    targets: [
        .executableTarget(name: "FuzzYAML", dependencies: [.product(name: "PatternCore", package: "pattern")]),
        .executableTarget(name: "FuzzJSON", dependencies: [.product(name: "PatternCore", package: "pattern")]),
        .executableTarget(name: "FuzzKustomize", dependencies: [
            .product(name: "PatternCore", package: "pattern"), .product(name: "Kustomize", package: "pattern"),
        ]),
    ]
)
