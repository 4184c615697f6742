import Foundation
import PatternCore
@testable import KubeTestServer
#if canImport(Glibc)
import Glibc
#endif

/// A minimal blocking HTTP/1.1 client over a POSIX socket (tests only): keeps the test target
/// free of the client module under test elsewhere.
struct TestHTTPResponse {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
    var json: Value { (try? JSONParser.parse(body)) ?? .null }
    /// Newline-delimited JSON (watch streams).
    var lines: [Value] { text.split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) } }
}

enum TestHTTPError: Error { case connect, io, parse(String) }

final class TestHTTPConnection {
    let fd: Int32
    var buffer: [UInt8] = []

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        if rc != 0 { close(fd); throw TestHTTPError.connect }
        var tv = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ method: String, _ path: String, body: [UInt8]? = nil, headers: [String: String] = [:]) throws {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if let body { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        var out = Array(head.utf8)
        if let body { out += body }
        var off = 0
        while off < out.count {
            let n = out.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw TestHTTPError.io }
            off += n
        }
    }

    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { return false }
        buffer += chunk[0..<n]
        return true
    }

    private func line() throws -> String? {
        while true {
            if let i = buffer.firstIndex(of: 10) {
                var l = Array(buffer[0..<i]); if l.last == 13 { l.removeLast() }
                buffer.removeFirst(i + 1)
                return String(decoding: l, as: UTF8.self)
            }
            if try !fill() { return nil }
        }
    }

    /// Reads one response; `onChunk` sees chunked body pieces as they arrive.
    func receive(onChunk: (([UInt8]) -> Void)? = nil) throws -> TestHTTPResponse {
        guard let statusLine = try line() else { throw TestHTTPError.io }
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw TestHTTPError.parse(statusLine) }
        var headers: [String: String] = [:]
        while let l = try line(), !l.isEmpty {
            if let c = l.firstIndex(of: ":") { headers[l[..<c].lowercased()] = l[l.index(after: c)...].trimmingCharacters(in: .whitespaces) }
        }
        if status == 100 { return try receive(onChunk: onChunk) }
        var body: [UInt8] = []
        if headers["transfer-encoding"] == "chunked" {
            while true {
                guard let sz = try line(), let n = Int(sz, radix: 16) else { throw TestHTTPError.io }
                if n == 0 { _ = try line(); break }
                while buffer.count < n + 2 { if try !fill() { throw TestHTTPError.io } }
                let piece = Array(buffer[0..<n])
                buffer.removeFirst(n + 2)
                body += piece
                onChunk?(piece)
            }
        } else if let cl = headers["content-length"], let n = Int(cl) {
            while buffer.count < n { if try !fill() { throw TestHTTPError.io } }
            body = Array(buffer[0..<n])
            buffer.removeFirst(n)
        }
        return TestHTTPResponse(status: status, headers: headers, body: body)
    }
}

extension TestAPIServer {
    /// One request on a fresh connection.
    func request(_ method: String, _ path: String, body: Value? = nil, rawBody: String? = nil, contentType: String? = nil,
                 headers: [String: String] = [:]) throws -> TestHTTPResponse {
        let c = try TestHTTPConnection(port: port)
        var h = headers
        if h["User-Agent"] == nil { h["User-Agent"] = "kubetestserver-tests/1.0" }
        var bytes: [UInt8]? = nil
        if let body { bytes = JSONWriter.bytes(body); h["Content-Type"] = contentType ?? "application/json" }
        if let rawBody { bytes = Array(rawBody.utf8); h["Content-Type"] = contentType ?? "application/json" }
        try c.send(method, path, body: bytes, headers: h)
        return try c.receive()
    }

    func apply(_ path: String, _ yaml: String, manager: String = "pattern", force: Bool = false, dryRun: Bool = false) throws -> TestHTTPResponse {
        var q = "fieldManager=\(manager)"
        if force { q += "&force=true" }
        if dryRun { q += "&dryRun=All" }
        return try request("PATCH", path + (path.contains("?") ? "&" : "?") + q, rawBody: yaml, contentType: "application/apply-patch+yaml")
    }
}

/// Where the fixtures live (Tests/Fixtures/kube-api).
enum Fixtures {
    static var dir: String {
        let here = URL(fileURLWithPath: #filePath)
        return here.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/kube-api").path
    }

    static func recording(_ name: String) throws -> [Value] {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(name).json"))
        return try JSONParser.parse(Array(data)).array ?? []
    }
}
