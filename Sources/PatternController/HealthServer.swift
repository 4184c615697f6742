import PatternCore
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A tiny HTTP/1.1 server on POSIX sockets for `/healthz`, `/readyz` and `/metrics`: an accept
/// thread hands each connection to a Dispatch worker, so a slow client (2 s read timeout) never
/// holds up a probe; at most `maxConnections` are served at once (more get 503 at once). One
/// request per connection, `Connection: close`. Enough for kubelet probes and Prometheus.
public final class HealthServer: Sendable {
    /// Status, content type and body of a response.
    public typealias Response = (status: Int, contentType: String, body: String)
    public typealias Handler = @Sendable (_ path: String) -> Response

    /// Connections served at the same time; more are answered 503 and closed.
    public static let maxConnections = 32

    private let fd: Int32
    public let port: Int
    public let host: String
    private let handler: Handler
    private struct State: Sendable {
        var stopped = false
        var active = 0
        var thread: pthread_t?
    }
    private let state = Mutex(State())
    private let workers = DispatchQueue(label: "pattern.health-server", attributes: .concurrent)

    /// Binds `address` (`host:port`; an empty host is every interface, port 0 picks a free
    /// one) and starts serving. `flag` names the option the address came from, for errors.
    public init(address: String, flag: String = "--metrics-addr", handler: @escaping Handler) throws(SpecError) {
        var host = "0.0.0.0"
        var portString = address
        if let colon = address.lastIndex(of: ":") {
            host = String(address[..<colon])
            portString = String(address[address.index(after: colon)...])
            if host.isEmpty { host = "0.0.0.0" }
        }
        guard let p = Int(portString), (0...65535).contains(p) else { throw SpecError("\(flag) '\(address)' is not host:port") }
        #if canImport(Glibc)
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let s = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard s >= 0 else { throw SpecError("cannot create a socket: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(p).bigEndian)
        guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &addr.sin_addr) == 1 else {
            close(s); throw SpecError("\(flag): '\(host)' is not an IPv4 address")
        }
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0, listen(s, 16) == 0 else {
            let e = errno
            close(s)
            throw SpecError("cannot listen on \(address): \(String(cString: strerror(e)))")
        }
        var bound = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) } }
        self.fd = s
        self.port = Int(UInt16(bigEndian: bound.sin_port))
        self.host = host
        self.handler = handler
        let box = Unmanaged.passRetained(self)
        var t = pthread_t()
        pthread_create(&t, nil, { arg in
            let server = Unmanaged<HealthServer>.fromOpaque(arg!).takeRetainedValue()
            server.serve()
            return nil
        }, box.toOpaque())
        state.withLock { $0.thread = t }
    }

    /// Stops accepting and waits for the accept thread (connections in flight finish).
    public func stop() {
        let (already, thread) = state.withLock { s -> (Bool, pthread_t?) in
            defer { s.stopped = true }
            return (s.stopped, s.thread)
        }
        if already { return }
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        if let thread { pthread_join(thread, nil) }
    }

    /// Connections being served now.
    public var activeConnections: Int { state.withLock { $0.active } }

    private func serve() {
        while true {
            let c = accept(fd, nil, nil)
            if c < 0 {
                if errno == EINTR { continue }
                if state.withLock({ $0.stopped }) { return }
                if errno == EBADF || errno == EINVAL { return }
                continue
            }
            let admitted = state.withLock { s -> Bool in
                guard s.active < HealthServer.maxConnections else { return false }
                s.active += 1
                return true
            }
            guard admitted else {
                HealthServer.send(c, (503, "text/plain; charset=utf-8", "too many connections\n"))
                close(c)
                continue
            }
            workers.async {
                self.handle(c)
                close(c)
                self.state.withLock { $0.active -= 1 }
            }
        }
    }

    private func handle(_ c: Int32) {
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var buf = [UInt8](repeating: 0, count: 4096)
        var req: [UInt8] = []
        while req.count < 16384 {
            let n = read(c, &buf, buf.count)
            if n <= 0 { break }
            req += buf[0..<n]
            if req.count >= 4, req.suffix(4) == [13, 10, 13, 10] { break }
            if let s = String(validating: req, as: UTF8.self), s.contains("\r\n\r\n") || s.contains("\n\n") { break }
        }
        let line = String(decoding: req.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        let parts = line.split(separator: " ")
        var status = 400, type = "text/plain; charset=utf-8", body = "bad request\n"
        if parts.count >= 2 {
            let method = parts[0]
            var path = String(parts[1])
            if let q = path.firstIndex(of: "?") { path = String(path[..<q]) }
            if method == "GET" || method == "HEAD" {
                (status, type, body) = handler(path)
                if method == "HEAD" { body = "" }
            } else {
                status = 405; body = "method not allowed\n"
            }
        }
        HealthServer.send(c, (status, type, body))
    }

    private static func send(_ c: Int32, _ response: Response) {
        let (status, type, body) = response
        let reason = [200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error", 503: "Service Unavailable"][status] ?? "Status"
        let bytes = Array(body.utf8)
        var head = "HTTP/1.1 \(status) \(reason)\r\nContent-Type: \(type)\r\nContent-Length: \(bytes.count)\r\nConnection: close\r\n\r\n"
        var out = Array(head.utf8) + bytes
        head = ""
        var off = 0
        while off < out.count {
            let n = out[off...].withUnsafeBytes { Glibc.send(c, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            off += n
        }
        out.removeAll()
    }
}
