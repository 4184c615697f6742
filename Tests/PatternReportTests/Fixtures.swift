import PatternCore

/// Loads files from Tests/Fixtures/diff (real API server responses, see README there).
enum Fixture {
    static var dir: String {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)  // PatternReportTests/Fixtures.swift
        return parts.joined(separator: "/") + "/Fixtures/diff/"
    }

    static func text(_ name: String) -> String {
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

    static func value(_ name: String) -> Value {
        let t = text(name)
        if name.hasSuffix(".json") { return try! JSONParser.parse(t, file: name) }
        return try! YAMLParser.parse(t, file: name)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
