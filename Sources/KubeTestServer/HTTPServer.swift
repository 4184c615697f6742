import Foundation
import PatternCore
import CTestTLS
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A small HTTP/1.1 server on POSIX sockets: one thread per connection, keep-alive,
/// `Content-Length` and chunked bodies, `Expect: 100-continue`, optional TLS (OpenSSL through
/// `CTestTLS`). Test support only: simple, blocking, loopback. Public for tests that need a
/// plain HTTP server of their own (chart repositories, registries): `init(handler:)`,
/// `start(port: 0)`, `port`, `stop()`, and `ResponseWriter.send`.
public final class HTTPServer: @unchecked Sendable {
    public typealias Handler = @Sendable (HTTPRequest, ResponseWriter) -> Void

    private let lock = Lock()
    private var listenFD: Int32 = -1
    private var connections: [Int32: Connection] = [:]
    public private(set) var port: Int = 0
    private var running = false
    private let handler: Handler
    private let tls: TLSContext?

    init(tls: TLSContext?, handler: @escaping Handler) {
        self.tls = tls
        self.handler = handler
    }

    /// A plain-HTTP server calling `handler` for every request.
    public convenience init(handler: @escaping Handler) { self.init(tls: nil, handler: handler) }

    /// Binds 127.0.0.1:`port` (0 = ephemeral) and starts accepting.
    public func start(host: String = "127.0.0.1", port requested: Int) throws {
        guard (0...65535).contains(requested) else { throw ServerError.socket("port \(requested) is out of range 0…65535") }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServerError.socket("socket(): \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(requested).bigEndian)
        inet_pton(AF_INET, host, &addr.sin_addr)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let msg = String(cString: strerror(errno))
            close(fd)
            throw ServerError.socket("bind \(host):\(requested): \(msg)")
        }
        guard listen(fd, 128) == 0 else { close(fd); throw ServerError.socket("listen: \(String(cString: strerror(errno)))") }
        var bound = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        lock.withLock {
            listenFD = fd
            port = Int(UInt16(bigEndian: bound.sin_port))
            running = true
        }
        let t = Thread { [self] in acceptLoop(fd) }
        t.name = "test-apiserver-accept"
        t.start()
    }

    /// Stops accepting and closes every open connection (watch streams end abruptly).
    public func stop() {
        let (fd, conns) = lock.withLock {
            running = false
            let fd = listenFD
            listenFD = -1
            return (fd, Array(connections.values))
        }
        // Only shut down: the accept thread closes the descriptor when it leaves accept(),
        // so the number cannot be reused under its feet (it would accept another server's
        // connections).
        if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) }
        for c in conns { c.abort() }
    }

    var openConnectionCount: Int { lock.withLock { connections.count } }

    private func acceptLoop(_ fd: Int32) {
        defer { close(fd) }
        while true {
            let cfd = accept(fd, nil, nil)
            if cfd < 0 {
                if errno == EINTR { continue }
                return
            }
            let ok = lock.withLock { running && listenFD == fd }
            if !ok { close(cfd); return }
            var one: Int32 = 1
            setsockopt(cfd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            var nosig: Int32 = 1
            _ = nosig  // Linux: MSG_NOSIGNAL on send instead
            nosig = 0
            let conn = Connection(fd: cfd)
            lock.withLock { connections[cfd] = conn }
            let t = Thread { [self] in
                serve(conn)
                lock.withLock { connections[cfd] = nil }
                conn.close()
            }
            t.name = "test-apiserver-conn"
            t.stackSize = 1 << 20
            t.start()
        }
    }

    private func serve(_ conn: Connection) {
        var peer: TLSPeer? = nil
        if let tls {
            guard let p = conn.startTLS(tls) else { return }
            peer = p
        }
        while conn.isOpen {
            guard var req = conn.readRequest() else { return }
            req.tlsPeer = peer
            let w = ResponseWriter(conn: conn, method: req.method)
            if req.header("expect")?.lowercased() == "100-continue" {
                // Already answered before the body was read (see readRequest).
            }
            handler(req, w)
            if !w.finished { w.send(status: 500, body: Array("handler did not respond".utf8)) }
            if w.closeAfter || req.header("connection")?.lowercased() == "close" { return }
        }
    }
}

enum ServerError: Error, CustomStringConvertible {
    case socket(String)
    case tls(String)
    var description: String {
        switch self {
        case .socket(let s): return "socket error: \(s)"
        case .tls(let s): return "TLS error: \(s)"
        }
    }
}

/// Subject of a verified client certificate.
struct TLSPeer: Sendable {
    var commonName: String
    var organizations: [String]
}

/// An OpenSSL server context built from PEM text.
final class TLSContext: @unchecked Sendable {
    let ctx: UnsafeMutableRawPointer

    init(certPEM: String, keyPEM: String, clientCAPEM: String?, requireClientCert: Bool) throws {
        var err = [CChar](repeating: 0, count: 512)
        guard let c = ctt_ctx_new(certPEM, keyPEM, clientCAPEM, requireClientCert ? 1 : 0, &err, err.count) else {
            throw ServerError.tls(String(cString: err))
        }
        ctx = c
    }
    deinit { ctt_ctx_free(ctx) }
}

/// One accepted socket, plain or TLS.
final class Connection: @unchecked Sendable {
    let fd: Int32
    private var ssl: UnsafeMutableRawPointer? = nil
    private var buffer: [UInt8] = []
    private let lock = Lock()
    private var closed = false
    /// Set (under `lock`) when `fd` is closed: its number is no longer ours.
    private var descriptorClosed = false

    init(fd: Int32) { self.fd = fd }

    var isOpen: Bool { lock.withLock { !closed } }

    func startTLS(_ tls: TLSContext) -> TLSPeer? {
        var err = [CChar](repeating: 0, count: 512)
        guard let s = ctt_accept(tls.ctx, fd, &err, err.count) else { return nil }
        ssl = s
        var cn = [CChar](repeating: 0, count: 256)
        var orgs = [CChar](repeating: 0, count: 1024)
        if ctt_peer_subject(s, &cn, cn.count, &orgs, orgs.count) == 1 {
            let o = String(cString: orgs)
            return TLSPeer(commonName: String(cString: cn), organizations: o.isEmpty ? [] : o.split(separator: "\n").map(String.init))
        }
        return TLSPeer(commonName: "", organizations: [])
    }

    /// Shuts the socket down from another thread (stop/restart, cut connections). Under the
    /// lock that `close` takes too: once the serving thread has closed the descriptor, its
    /// number may already belong to another socket of the process (a client connection, another
    /// server's), which must never be shut down from here.
    func abort() {
        lock.withLock {
            guard !closed else { return }
            closed = true
            if !descriptorClosed { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    func close() {
        lock.withLock { closed = true }
        if let s = ssl { ctt_close(s); ssl = nil }
        lock.withLock {
            descriptorClosed = true
            Glibc.close(fd)
        }
    }

    /// True when the peer has closed its side (checked without consuming data).
    func peerClosed() -> Bool {
        // 0x2000 is POLLRDHUP (Linux), which Glibc does not export to Swift.
        var p = pollfd(fd: fd, events: Int16(POLLIN) | 0x2000, revents: 0)
        guard poll(&p, 1, 0) > 0 else { return false }
        if p.revents & (Int16(POLLHUP) | Int16(POLLERR) | 0x2000) != 0 { return true }
        var b: UInt8 = 0
        let n = recv(fd, &b, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT))
        return n == 0
    }

    private func readSome() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let n: Int
        if let s = ssl {
            n = Int(chunk.withUnsafeMutableBytes { ctt_read(s, $0.baseAddress, Int32($0.count)) })
        } else {
            n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        }
        if n <= 0 { return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        if bytes.isEmpty { return true }
        if let s = ssl {
            return bytes.withUnsafeBytes { ctt_write(s, $0.baseAddress, Int32($0.count)) } == Int32(bytes.count)
        }
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { if errno == EINTR { continue }; return false }
            off += n
        }
        return true
    }

    private func findHeaderEnd() -> Int? {
        if buffer.count < 4 { return nil }
        for i in 0...(buffer.count - 4) where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
            return i
        }
        return nil
    }

    private func readLine() -> String? {
        while true {
            if let i = buffer.firstIndex(of: 10) {
                var line = Array(buffer[0..<i])
                if line.last == 13 { line.removeLast() }
                buffer.removeFirst(i + 1)
                return String(decoding: line, as: UTF8.self)
            }
            if !readSome() { return nil }
        }
    }

    private func readExactly(_ n: Int) -> [UInt8]? {
        while buffer.count < n { if !readSome() { return nil } }
        let out = Array(buffer[0..<n])
        buffer.removeFirst(n)
        return out
    }

    /// Reads one request (nil when the peer closed or sent garbage).
    func readRequest() -> HTTPRequest? {
        var end: Int? = findHeaderEnd()
        while end == nil {
            if buffer.count > 1 << 20 { return nil }
            if !readSome() { return nil }
            end = findHeaderEnd()
        }
        let head = String(decoding: buffer[0..<end!], as: UTF8.self)
        buffer.removeFirst(end! + 4)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        guard !lines.isEmpty else { return nil }
        let requestLine = lines.removeFirst().split(separator: " ").map(String.init)
        guard requestLine.count >= 2 else { return nil }
        var headers: [(String, String)] = []
        for l in lines {
            guard let c = l.firstIndex(of: ":") else { continue }
            let name = l[..<c].trimmingCharacters(in: .whitespaces).lowercased()
            let value = l[l.index(after: c)...].trimmingCharacters(in: .whitespaces)
            headers.append((name, value))
        }
        var req = HTTPRequest(method: requestLine[0], target: requestLine[1], headers: headers, body: [])
        if req.header("expect")?.lowercased() == "100-continue" {
            write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
        }
        if req.header("transfer-encoding")?.lowercased().contains("chunked") == true {
            var body: [UInt8] = []
            while true {
                guard let sizeLine = readLine() else { return nil }
                let sizeText = sizeLine.split(separator: ";").first.map(String.init) ?? "0"
                guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { return nil }
                if size == 0 {
                    while let l = readLine(), !l.isEmpty {}
                    break
                }
                guard let data = readExactly(size) else { return nil }
                body.append(contentsOf: data)
                _ = readLine()
            }
            req.body = body
        } else if let cl = req.header("content-length"), let n = Int(cl), n > 0 {
            guard let data = readExactly(n) else { return nil }
            req.body = data
        }
        return req
    }
}

/// An incoming request: method, target split into path and query, headers, body.
public struct HTTPRequest: Sendable {
    public var method: String
    public var target: String
    public var path: String
    public var query: [String: String]
    public var headers: [(String, String)]
    public var body: [UInt8]
    var tlsPeer: TLSPeer? = nil

    init(method: String, target: String, headers: [(String, String)], body: [UInt8]) {
        self.method = method.uppercased()
        self.target = target
        self.headers = headers
        self.body = body
        if let q = target.firstIndex(of: "?") {
            path = HTTPRequest.percentDecode(String(target[..<q]))
            query = HTTPRequest.parseQuery(String(target[target.index(after: q)...]))
        } else {
            path = HTTPRequest.percentDecode(target)
            query = [:]
        }
    }

    public func header(_ name: String) -> String? {
        let n = name.lowercased()
        return headers.first { $0.0 == n }?.1
    }

    static func parseQuery(_ q: String) -> [String: String] {
        var out: [String: String] = [:]
        for part in q.split(separator: "&") {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let k = percentDecode(String(kv[0]), plusIsSpace: true)
            let v = kv.count > 1 ? percentDecode(String(kv[1]), plusIsSpace: true) : ""
            out[k] = v
        }
        return out
    }

    static func percentDecode(_ s: String, plusIsSpace: Bool = false) -> String {
        var out: [UInt8] = []
        let u = Array(s.utf8)
        var i = 0
        while i < u.count {
            let c = u[i]
            if c == UInt8(ascii: "%"), i + 2 < u.count, let h = UInt8(String(decoding: u[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) {
                out.append(h); i += 3
            } else if c == UInt8(ascii: "+") && plusIsSpace {
                out.append(32); i += 1
            } else {
                out.append(c); i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Writes one response: a whole body, or a chunked stream (watch).
public final class ResponseWriter: @unchecked Sendable {
    let conn: Connection
    let method: String
    private(set) var finished = false
    var closeAfter = false
    private var chunked = false
    /// Called once with the status right before the first byte of the response is written.
    var onBeforeSend: ((Int) -> Void)?

    private func notify(_ status: Int) {
        if let f = onBeforeSend { onBeforeSend = nil; f(status) }
    }

    init(conn: Connection, method: String) {
        self.conn = conn
        self.method = method
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 406: return "Not Acceptable"
        case 409: return "Conflict"
        case 410: return "Gone"
        case 415: return "Unsupported Media Type"
        case 422: return "Unprocessable Entity"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default: return "Status"
        }
    }

    private func head(_ status: Int, _ headers: [(String, String)]) -> [UInt8] {
        var s = "HTTP/1.1 \(status) \(ResponseWriter.reason(status))\r\n"
        s += "Date: \(Clock.httpDate())\r\n"
        s += "Audit-Id: \(UUID().uuidString.lowercased())\r\n"
        s += "Cache-Control: no-cache, private\r\n"
        for (k, v) in headers { s += "\(k): \(v)\r\n" }
        return Array(s.utf8)
    }

    /// A complete response with `Content-Length`. `cutAfter` writes only that many body bytes
    /// and then closes the connection (fault injection).
    public func send(status: Int, contentType: String = "application/json", headers extra: [(String, String)] = [], body: [UInt8], cutAfter: Int? = nil) {
        finished = true
        notify(status)
        var h = [("Content-Type", contentType)] + extra
        h.append(("Content-Length", String(body.count)))
        var out = head(status, h)
        out.append(contentsOf: "\r\n".utf8)
        if method != "HEAD" {
            if let cut = cutAfter {
                out.append(contentsOf: body.prefix(max(0, min(cut, body.count))))
                conn.write(out)
                closeAfter = true
                conn.abort()
                return
            }
            out.append(contentsOf: body)
        }
        if !conn.write(out) { closeAfter = true }
    }

    /// Starts a chunked response (the body follows as `writeChunk` calls).
    func startChunked(status: Int, contentType: String = "application/json") -> Bool {
        finished = true
        notify(status)
        chunked = true
        var out = head(status, [("Content-Type", contentType), ("Transfer-Encoding", "chunked")])
        out.append(contentsOf: "\r\n".utf8)
        return conn.write(out)
    }

    func writeChunk(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty else { return true }
        var out = Array(String(bytes.count, radix: 16).utf8)
        out.append(contentsOf: "\r\n".utf8)
        out.append(contentsOf: bytes)
        out.append(contentsOf: "\r\n".utf8)
        return conn.write(out)
    }

    func endChunked() {
        if !conn.write(Array("0\r\n\r\n".utf8)) { closeAfter = true }
    }

    /// Ends the stream without the terminating chunk and closes the connection.
    func cut() {
        notify(0)
        closeAfter = true
        conn.abort()
    }
}

/// Time helpers: RFC 3339 seconds (`2026-11-21T19:29:34Z`) and HTTP dates.
enum Clock {
    static func rfc3339(_ date: Date = Date()) -> String {
        var t = time_t(date.timeIntervalSince1970)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        return "\(pad(Int(tmv.tm_year) + 1900, 4))-\(pad(Int(tmv.tm_mon) + 1))-\(pad(Int(tmv.tm_mday)))T\(pad(Int(tmv.tm_hour))):\(pad(Int(tmv.tm_min))):\(pad(Int(tmv.tm_sec)))Z"
    }

    static func httpDate(_ date: Date = Date()) -> String {
        var t = time_t(date.timeIntervalSince1970)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return "\(days[Int(tmv.tm_wday)]), \(pad(Int(tmv.tm_mday))) \(months[Int(tmv.tm_mon)]) \(pad(Int(tmv.tm_year) + 1900, 4)) \(pad(Int(tmv.tm_hour))):\(pad(Int(tmv.tm_min))):\(pad(Int(tmv.tm_sec))) GMT"
    }

    static func pad(_ n: Int, _ width: Int = 2) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
