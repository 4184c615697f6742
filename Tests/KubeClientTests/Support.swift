import Foundation
import PatternCore
import TestSupport
@testable import KubeClient

/// Paths of test fixtures (Tests/Fixtures/…).
enum Fixtures {
    static let root: String = {
        let file = #filePath
        var parts = file.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)  // KubeClientTests/Support.swift
        return parts.joined(separator: "/") + "/Fixtures"
    }()
    static func path(_ relative: String) -> String { root + "/" + relative }
    static func json(_ name: String) throws -> Value {
        let data = try Data(contentsOf: URL(fileURLWithPath: path("kube-api-client/" + name)))
        return try JSONParser.parse([UInt8](data), file: name)
    }
}

/// A fresh temporary directory, removed by `cleanup()` and in any case when the test process
/// exits (TestSupport).
struct TempDir {
    let path: String
    init() throws { path = TemporaryDirectories.make("kubeclient") }
    func file(_ name: String) -> String { path + "/" + name }
    func write(_ name: String, _ text: String, executable: Bool = false) throws {
        try text.write(toFile: file(name), atomically: false, encoding: .utf8)
        if executable { chmod(file(name), 0o755) }
    }
    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}
