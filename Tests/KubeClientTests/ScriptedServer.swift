import Foundation
import PatternCore

/// A tiny scripted HTTP/1.1 server on loopback for fault injection the API server model does
/// not do: cut connections, exact status sequences, streamed watch bodies. Keep-alive, one
/// thread per connection, Content-Length bodies only.
final class ScriptedServer: @unchecked Sendable {
    struct Request: Sendable {
        var method: String
        var target: String
        var headers: [String: String]  // lowercased names
        var body: [UInt8]
        var path: String { String(target.prefix(while: { $0 != "?" })) }
        var query: String { target.contains("?") ? String(target[target.index(after: target.firstIndex(of: "?")!)...]) : "" }
    }
    enum Action: Sendable {
        case respond(Int, headers: [String: String] = [:], body: String)
        /// Close the connection without answering (after reading the request).
        case cut
        /// A chunked streaming answer: lines written with a pause between them; `thenCut` drops
        /// the connection instead of ending the body cleanly.
        case stream(Int, lines: [String], pause: Double = 0.01, thenCut: Bool = false)
    }

    private let lock = NSLock()
    private var fd: Int32 = -1
    private(set) var port = 0
    private var _requests: [Request] = []
    private var _connections = 0
    private var open: Set<Int32> = []
    private var stopped = false
    private let handler: @Sendable (Request, Int) -> Action

    /// `handler` gets the request and its 0-based index among all requests.
    init(_ handler: @escaping @Sendable (Request, Int) -> Action) throws {
        self.handler = handler
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(fd, 64)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        port = Int(UInt16(bigEndian: addr.sin_port))
        let listenFD = fd
        Thread { [self] in acceptLoop(listenFD) }.start()
    }

    var url: String { "http://127.0.0.1:\(port)" }
    var requests: [Request] { lock.lock(); defer { lock.unlock() }; return _requests }
    var connections: Int { lock.lock(); defer { lock.unlock() }; return _connections }
    /// Connections accepted and not yet closed by the client.
    var openConnections: Int { lock.lock(); defer { lock.unlock() }; return open.count }

    /// Stops accepting and ends every open connection, as a server going away does (a client
    /// must not keep reusing a connection to a server that is gone).
    func stop() {
        // Under the lock: a descriptor leaves `open` and is closed under it too, so a number
        // reused by another socket is never shut down here. The listener is only shut down,
        // once: the accept thread closes it when it leaves accept(), so its number cannot be
        // reused by another socket (another server's listener) under that thread.
        lock.lock(); defer { lock.unlock() }
        guard !stopped else { return }
        stopped = true
        shutdown(fd, Int32(SHUT_RDWR))
        for c in open { Glibc.shutdown(c, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop(_ lfd: Int32) {
        defer { close(lfd) }
        while true {
            let c = accept(lfd, nil, nil)
            if c < 0 { if errno == EINTR { continue }; return }
            lock.lock()
            if stopped { lock.unlock(); close(c); return }
            _connections += 1; open.insert(c)
            lock.unlock()
            Thread { [self] in
                serve(c)
                lock.lock(); open.remove(c); close(c); lock.unlock()
            }.start()
        }
    }

    private func serve(_ c: Int32) {
        var buf: [UInt8] = []
        while true {
            guard let req = readRequest(c, &buf) else { return }
            // The root discovery documents, as a server without aggregated discovery answers
            // them (a client asks once, for aggregated discovery): not scripted, not recorded.
            let root: String? = req.path == "/api" ? #"{"kind":"APIVersions","versions":["v1"]}"#
                : req.path == "/apis" ? #"{"kind":"APIGroupList","apiVersion":"v1","groups":[]}"# : nil
            let action: Action
            if let root { action = .respond(200, body: root) } else {
                lock.lock(); let index = _requests.count; _requests.append(req); lock.unlock()
                action = handler(req, index)
            }
            switch action {
            case .cut:
                Glibc.shutdown(c, Int32(SHUT_RDWR))
                return
            case .respond(let status, let headers, let body):
                var head = "HTTP/1.1 \(status) X\r\nContent-Length: \(body.utf8.count)\r\nContent-Type: application/json\r\n"
                for (k, v) in headers { head += "\(k): \(v)\r\n" }
                head += "\r\n"
                guard write(c, Array(head.utf8) + Array(body.utf8)) else { return }
            case .stream(let status, let lines, let pause, let thenCut):
                let head = "HTTP/1.1 \(status) X\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
                guard write(c, Array(head.utf8)) else { return }
                for l in lines {
                    let data = Array((l + "\n").utf8)
                    guard write(c, Array((String(data.count, radix: 16) + "\r\n").utf8) + data + Array("\r\n".utf8)) else { return }
                    if pause > 0 { usleep(UInt32(pause * 1_000_000)) }
                }
                if thenCut { Glibc.shutdown(c, Int32(SHUT_RDWR)); return }
                guard write(c, Array("0\r\n\r\n".utf8)) else { return }
            }
        }
    }

    private func write(_ c: Int32, _ bytes: [UInt8]) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { send(c, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            off += n
        }
        return true
    }

    private func readRequest(_ c: Int32, _ buf: inout [UInt8]) -> Request? {
        func fill() -> Bool {
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = recv(c, &chunk, chunk.count, 0)
            if n <= 0 { return false }
            buf += chunk[0..<n]
            return true
        }
        var headEnd: Int? = nil
        while headEnd == nil {
            if let r = find(buf, [13, 10, 13, 10]) { headEnd = r; break }
            if !fill() { return nil }
        }
        let head = String(decoding: buf[0..<headEnd!], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let first = lines.removeFirst().split(separator: " ")
        guard first.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for l in lines {
            guard let colon = l.firstIndex(of: ":") else { continue }
            headers[l[..<colon].lowercased()] = l[l.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        let bodyStart = headEnd! + 4
        while buf.count < bodyStart + length { if !fill() { return nil } }
        let body = Array(buf[bodyStart..<(bodyStart + length)])
        buf.removeFirst(bodyStart + length)
        return Request(method: String(first[0]), target: String(first[1]), headers: headers, body: body)
    }

    private func find(_ hay: [UInt8], _ needle: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] {
            if Array(hay[i..<(i + needle.count)]) == needle { return i }
        }
        return nil
    }
}
