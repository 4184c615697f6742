/// Where the repository and its test fixtures are, from this file's own path (no
/// machine-specific paths: the checkout may be anywhere).
public enum RepositoryPaths {
    /// The repository root (the directory with Package.swift).
    public static let root: String = "/" + #filePath.split(separator: "/").dropLast(3).joined(separator: "/")
    /// `Tests/Fixtures`.
    public static let fixtures: String = root + "/Tests/Fixtures"
}

import PatternCore
#if canImport(Glibc)
import Glibc
#endif

/// Files from `Tests/Fixtures/diff` (real API server responses, see the README there), as
/// text or parsed into `Value` (JSON by extension, else YAML).
public enum Fixture {
    public static var dir: String { RepositoryPaths.fixtures + "/diff/" }

    public static func text(_ name: String) -> String {
        let path = dir + name
        guard let f = fopen(path, "r") else { fatalError("missing fixture \(path)") }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buf, 1, buf.count, f)
            if n <= 0 { break }
            bytes += buf[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func value(_ name: String) -> Value {
        let t = text(name)
        if name.hasSuffix(".json") { return try! JSONParser.parse(t, file: name) }
        return try! YAMLParser.parse(t, file: name)
    }
}
