import CCurl
import FoundationEssentials
import PatternCore
#if canImport(Glibc)
import Glibc
#endif

// The libcurl transport: one curl multi handle driven by one dedicated thread ("event loop").
//
// * Blocking never reaches Swift's cooperative pool: async callers submit a `Transfer` and
//   suspend on a continuation; the loop thread runs `curl_multi_perform`/`curl_multi_poll`.
// * Easy handles are created per transfer and touched only by the loop thread after
//   submission; connections are reused through the connection cache of the request's
//   `ConnectionPool` (one per client: keep-alive for HTTP/1.1, multiplexed streams for HTTP/2
//   with CURLOPT_PIPEWAIT).
// * Watches are transfers whose body is delivered in chunks to an AsyncThrowingStream.

/// TLS material and policy for one cluster. Byte arrays are PEM; handed to libcurl as blobs
/// (copied), never written to temporary files.
struct TLSOptions: Sendable, Hashable {
    var caPEM: [UInt8]? = nil
    var insecureSkipVerify = false
    var clientCertPEM: [UInt8]? = nil
    var clientKeyPEM: [UInt8]? = nil
}

/// A request as the transport sees it.
struct HTTPRequest: Sendable {
    var method: String
    var url: String
    /// `Name: value` lines. May contain credentials: never log them.
    var headers: [String] = []
    var body: [UInt8]? = nil
    var tls = TLSOptions()
    /// CURLOPT_CONNECT_TO entry (`host:port:connect-host:connect-port`) for tls-server-name.
    var connectTo: String? = nil
    var connectTimeout: Double = 10
    /// Whole-transfer timeout in seconds; nil for none (watches).
    var timeout: Double? = 30
    /// False for requests that must not be replayed. libcurl silently resends a request whose
    /// reused keep-alive connection died before any answer byte — even a POST the server may
    /// have processed — so non-idempotent requests get a fresh connection (CURLOPT_FRESH_CONNECT).
    var idempotent = true
    /// Buffered responses larger than this abort the transfer (a misbehaving server or proxy
    /// cannot exhaust memory). Streams are limited per line by their consumer.
    var maxResponseBytes = 512 << 20
    /// The connection cache this request takes a connection from and returns it to (its
    /// client's); nil uses the loop's own cache.
    var pool: ConnectionPool? = nil
}

/// One client's connection cache: a libcurl share handle that shares only connections
/// (`CURL_LOCK_DATA_CONNECT`), like client-go's transport per cluster. libcurl bounds a cache
/// by closing its least recently used idle connection when it holds more than
/// `CurlLoop.maxIdleConnections`; with one cache for the whole process, other clients'
/// traffic (a fleet or hub talking to many clusters, parallel tests) pushed a client's idle
/// connection out between two of its requests. Per client, only the client's own traffic
/// can. Used only on the loop thread (no lock callbacks needed); closed with its connections
/// on the loop thread when the last request holding it is done and its client is gone.
final class ConnectionPool: @unchecked Sendable {
    /// The loop tests give the pool (nil: the loop of the first transfer, `CurlLoop.shared`
    /// for a client's requests).
    private let assignedLoop: CurlLoop?
    // Loop-thread only: the share handle is made by the first transfer that uses the pool, so
    // making a client loads no libcurl (a command renders while the first request loads it).
    private var handle: UnsafeMutableRawPointer?
    /// The loop that made (or tried to make) the share handle; nil until the first transfer.
    private var owner: CurlLoop?

    init(loop: CurlLoop? = nil) { assignedLoop = loop }

    /// The share handle, made on first use by `loop`'s thread (nil when libcurl refuses one:
    /// the transfer then runs on the loop's own connection cache).
    fileprivate func share(on loop: CurlLoop) -> UnsafeMutableRawPointer? {
        precondition(assignedLoop == nil || assignedLoop === loop, "a connection pool is used by one transfer loop")
        if let owner {
            precondition(owner === loop, "a connection pool is used by one transfer loop")
            return handle
        }
        owner = loop
        let s = curl_share_init()
        if let s, ccurl_share_setopt_long(s, CURLSHOPT_SHARE, Int(CURL_LOCK_DATA_CONNECT.rawValue)) != CURLSHE_OK {
            curl_share_cleanup(s)
        } else {
            handle = s
        }
        return handle
    }

    deinit { if let handle, let owner { owner.closePool(handle) } }
}

struct HTTPResponse: Sendable {
    var status: Int
    /// Header names lowercased.
    var headers: [(name: String, value: String)]
    var body: [UInt8]
    /// "1.1" or "2".
    var httpVersion: String
    /// New connections libcurl opened for this transfer (0 when an existing one was reused).
    var newConnections: Int

    func header(_ name: String) -> String? {
        let n = name.lowercased()
        return headers.last(where: { $0.name == n })?.value
    }
}

/// A libcurl failure, already turned into words. Never contains request headers.
struct TransportFailure: Error, Sendable {
    /// `unavailable`: libcurl itself cannot be loaded; retrying cannot help.
    enum Phase: Sendable { case resolve, connect, tls, timeout, io, other, unavailable }
    var phase: Phase
    var curlCode: Int
    var message: String
    /// True when the request may have reached the server (connection cut mid-request).
    var mayHaveBeenSent: Bool
    /// TLS and a missing libcurl fail the same way on every attempt: never retried.
    var isPermanent: Bool { phase == .tls || phase == .unavailable }
}

/// Events of a streamed response.
enum StreamEvent: Sendable {
    case head(status: Int, headers: [(name: String, value: String)])
    case data([UInt8])
}

final class Transfer: @unchecked Sendable {
    enum Sink {
        case buffer(CheckedContinuation<HTTPResponse, any Error>)
        case stream(AsyncThrowingStream<StreamEvent, any Error>.Continuation)
    }

    let id: Int
    let request: HTTPRequest
    var sink: Sink
    // Loop-thread state.
    var easy: UnsafeMutableRawPointer?
    var headerList: UnsafeMutablePointer<curl_slist>?
    let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    var headers: [(name: String, value: String)] = []
    var body: [UInt8] = []
    var headSent = false
    var tooLarge = false

    init(id: Int, request: HTTPRequest, sink: Sink) {
        self.id = id
        self.request = request
        self.sink = sink
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit { errorBuffer.deallocate() }

    var responseCode: Int {
        guard let easy else { return 0 }
        var code: Int = 0
        _ = ccurl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    func receiveHeader(_ line: String) {
        let trimmed = line.trimming(.whitespacesAndNewlines)
        if trimmed.hasPrefix("HTTP/") { headers.removeAll(); return }
        guard let colon = trimmed.firstIndex(of: ":") else { return }
        let name = trimmed[..<colon].lowercased()
        let value = trimmed[trimmed.index(after: colon)...].trimming(.whitespacesAndNewlines)
        headers.append((name: name, value: value))
    }

    /// The most a body's announced `Content-Length` reserves before its bytes arrive.
    static let maxReservedBytes = 64 << 20

    /// False aborts the transfer.
    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        switch sink {
        case .buffer:
            if body.count + bytes.count > request.maxResponseBytes { tooLarge = true; return false }
            // A body of announced length (a LIST page runs to megabytes) is stored once at its
            // size, not grown by doubling: every regrowth is a fresh allocation whose pages
            // fault in, and a copy of all that came before. What a server announces reserves
            // at most `Transfer.maxReservedBytes`; a longer body grows from there.
            if body.isEmpty, let announced = headers.last(where: { $0.name == "content-length" }).flatMap({ Int($0.value) }),
               announced > bytes.count, announced <= request.maxResponseBytes {
                body.reserveCapacity(min(announced, Transfer.maxReservedBytes))
            }
            body.append(contentsOf: bytes)
        case .stream(let c):
            if !headSent {
                headSent = true
                let status = responseCode
                c.yield(.head(status: status, headers: headers))
            }
            c.yield(.data(Array(bytes)))
        }
        return true
    }
}

private let writeCallback: ccurl_data_cb = { ptr, size, nmemb, userdata in
    let n = size * nmemb
    guard let userdata, let ptr else { return n }
    let t = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    return t.receiveBody(UnsafeRawBufferPointer(start: ptr, count: n)) ? n : 0
}

private let headerCallback: ccurl_data_cb = { ptr, size, nmemb, userdata in
    let n = size * nmemb
    guard let userdata, let ptr else { return n }
    let t = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    let line = String(decoding: UnsafeRawBufferPointer(start: ptr, count: n), as: UTF8.self)
    t.receiveHeader(line)
    return n
}

/// The process-wide curl event loop. `Sendable`: all mutable state is behind `lock` or owned by
/// the loop thread.
final class CurlLoop: @unchecked Sendable {
    static let shared = CurlLoop()
    /// Idle connections kept for reuse, over all servers of the process.
    static let maxIdleConnections = 512

    private let lock = Lock()
    private var toAdd: [Transfer] = []
    private var toCancel: [Int] = []
    /// Share handles of pools that are gone, closed on the loop thread.
    private var toClose: [UnsafeMutableRawPointer] = []
    private var nextID = 1
    private enum State { case allocated, cancelledEarly, submitted }
    private var states: [Int: State] = [:]
    /// Nil when libcurl could not be loaded or initialised; `unavailable` then says why.
    private let multi: UnsafeMutableRawPointer?
    /// Set when libcurl cannot be used (not installed, unloadable, global init failed): every
    /// request fails with it instead of the process crashing.
    let unavailable: TransportFailure?
    // Loop-thread only.
    private var active: [Int: Transfer] = [:]
    private var byHandle: [UnsafeMutableRawPointer: Int] = [:]

    private convenience init() { self.init(maxIdleConnections: CurlLoop.maxIdleConnections) }

    /// A loop of its own (tests use a small cache to make eviction observable); `shared` is
    /// the one every client uses.
    init(maxIdleConnections: Int) {
        let rc = ccurl_global_init_once()
        let handle = rc == CURLE_OK ? curl_multi_init() : nil
        guard let handle else {
            let why = ccurl_load_error().map { String(cString: $0) }
                ?? "libcurl failed to initialise (curl_global_init: \(rc.rawValue)); fix: reinstall libcurl4"
            multi = nil
            unavailable = TransportFailure(phase: .unavailable, curlCode: Int(rc.rawValue), message: why, mayHaveBeenSent: false)
            return
        }
        multi = handle
        unavailable = nil
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))
        // The cap applies to each cache: a client's ConnectionPool (see there), or the multi
        // handle's own for requests without one. Idle connections age out after libcurl's
        // CURLOPT_MAXAGE_CONN (118 s).
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, maxIdleConnections)
        LoopThread.start("libcurl transfer loop") { [self] in self.run() }
    }

    /// Sends a request and collects the whole response.
    func perform(_ request: HTTPRequest) async throws -> HTTPResponse {
        if let unavailable { throw unavailable }
        let id = allocateID()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<HTTPResponse, any Error>) in
                submit(Transfer(id: id, request: request, sink: .buffer(c)))
            }
        } onCancel: {
            self.cancel(id)
        }
    }

    /// Sends a request and streams the response: `.head` first, then `.data` chunks. Ending
    /// the consumer (dropping the iterator or cancelling its task) aborts the transfer.
    func stream(_ request: HTTPRequest) -> AsyncThrowingStream<StreamEvent, any Error> {
        let id = allocateID()
        let (stream, continuation) = AsyncThrowingStream<StreamEvent, any Error>.makeStream()
        if let unavailable {
            continuation.finish(throwing: unavailable)
            return stream
        }
        continuation.onTermination = { [self] _ in self.cancel(id) }
        submit(Transfer(id: id, request: request, sink: .stream(continuation)))
        return stream
    }

    private func allocateID() -> Int {
        lock.withLock {
            nextID += 1
            states[nextID] = .allocated
            return nextID
        }
    }

    private func submit(_ t: Transfer) {
        let cancelled = lock.withLock {
            if states[t.id] == .cancelledEarly {
                states[t.id] = nil
                return true
            }
            states[t.id] = .submitted
            toAdd.append(t)
            return false
        }
        if cancelled {
            switch t.sink {
            case .buffer(let c): c.resume(throwing: CancellationError())
            case .stream(let c): c.finish(throwing: CancellationError())
            }
            return
        }
        curl_multi_wakeup(multi)
    }

    /// Cancels a transfer: before submission (marks it), while running (the loop aborts it) or
    /// after it finished (no effect).
    private func cancel(_ id: Int) {
        let wake = lock.withLock {
            switch states[id] {
            case .allocated?: states[id] = .cancelledEarly; return false
            case .submitted?: toCancel.append(id); return true
            default: return false
            }
        }
        if wake { curl_multi_wakeup(multi) }
    }

    private func forget(_ id: Int) {
        lock.withLock { states[id] = nil }
    }

    /// Closes a pool's share handle (and its connections) on the loop thread, after every
    /// transfer that used it is done (each transfer's request holds its pool).
    fileprivate func closePool(_ share: UnsafeMutableRawPointer) {
        guard let multi else { curl_share_cleanup(share); return }
        lock.withLock { toClose.append(share) }
        curl_multi_wakeup(multi)
    }

    // MARK: Loop thread

    private func run() {
        var running: Int32 = 0
        while true {
            let (adds, cancels, closes) = lock.withLock {
                let taken = (toAdd, toCancel, toClose)
                toAdd.removeAll(); toCancel.removeAll(); toClose.removeAll()
                return taken
            }
            for share in closes { curl_share_cleanup(share) }

            for t in adds { start(t) }
            for id in cancels {
                if let t = active[id] { finish(t, code: CURLE_ABORTED_BY_CALLBACK, cancelled: true) }
            }

            curl_multi_perform(multi, &running)
            var left: Int32 = 0
            while let msg = curl_multi_info_read(multi, &left) {
                guard ccurl_msg_is_done(msg) != 0, let easy = ccurl_msg_easy(msg),
                      let id = byHandle[easy], let t = active[id] else { continue }
                finish(t, code: ccurl_msg_result(msg), cancelled: false)
            }
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
    }

    private func start(_ t: Transfer) {
        guard let easy = curl_easy_init() else {
            forget(t.id)
            fail(t, TransportFailure(phase: .other, curlCode: -1, message: "cannot create a libcurl handle", mayHaveBeenSent: false))
            return
        }
        t.easy = easy
        let r = t.request
        _ = ccurl_easy_setopt_str(easy, CURLOPT_URL, r.url)
        if let share = r.pool?.share(on: self) { _ = ccurl_easy_setopt_ptr(easy, CURLOPT_SHARE, share) }
        _ = ccurl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_easy_setopt_long(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS)
        _ = ccurl_easy_setopt_long(easy, CURLOPT_PIPEWAIT, 1)
        _ = ccurl_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1)
        _ = ccurl_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Int(r.connectTimeout * 1000))
        if let timeout = r.timeout { _ = ccurl_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, Int(timeout * 1000)) }
        _ = ccurl_easy_setopt_str(easy, CURLOPT_ACCEPT_ENCODING, "")
        _ = ccurl_easy_setopt_ptr(easy, CURLOPT_ERRORBUFFER, t.errorBuffer)
        _ = ccurl_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0)
        if !r.idempotent { _ = ccurl_easy_setopt_long(easy, CURLOPT_FRESH_CONNECT, 1) }
        if let connectTo = r.connectTo {
            t.headerList = nil
            var list: UnsafeMutablePointer<curl_slist>? = nil
            list = curl_slist_append(list, connectTo)
            connectToLists[t.id] = list
            _ = ccurl_easy_setopt_ptr(easy, CURLOPT_CONNECT_TO, list)
        }

        // TLS
        if r.tls.insecureSkipVerify {
            _ = ccurl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 0)
            _ = ccurl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 0)
        } else {
            _ = ccurl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1)
            _ = ccurl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2)
            if let ca = r.tls.caPEM {
                _ = ca.withUnsafeBytes { ccurl_easy_setopt_blob(easy, CURLOPT_CAINFO_BLOB, $0.baseAddress, $0.count) }
            }
        }
        if let cert = r.tls.clientCertPEM, let key = r.tls.clientKeyPEM {
            _ = ccurl_easy_setopt_str(easy, CURLOPT_SSLCERTTYPE, "PEM")
            _ = cert.withUnsafeBytes { ccurl_easy_setopt_blob(easy, CURLOPT_SSLCERT_BLOB, $0.baseAddress, $0.count) }
            _ = ccurl_easy_setopt_str(easy, CURLOPT_SSLKEYTYPE, "PEM")
            _ = key.withUnsafeBytes { ccurl_easy_setopt_blob(easy, CURLOPT_SSLKEY_BLOB, $0.baseAddress, $0.count) }
        }

        // Method, headers, body
        var list: UnsafeMutablePointer<curl_slist>? = nil
        for h in r.headers { list = curl_slist_append(list, h) }
        list = curl_slist_append(list, "Expect:")
        t.headerList = list
        _ = ccurl_easy_setopt_ptr(easy, CURLOPT_HTTPHEADER, list)
        if r.method == "GET" && r.body == nil {
            _ = ccurl_easy_setopt_long(easy, CURLOPT_HTTPGET, 1)
        } else {
            _ = ccurl_easy_setopt_str(easy, CURLOPT_CUSTOMREQUEST, r.method)
            if let body = r.body {
                _ = ccurl_easy_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
                _ = body.withUnsafeBytes { ccurl_easy_setopt_ptr(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!)) }
            }
        }

        let ctx = Unmanaged.passUnretained(t).toOpaque()
        _ = ccurl_easy_setopt_write_cb(easy, writeCallback)
        _ = ccurl_easy_setopt_ptr(easy, CURLOPT_WRITEDATA, ctx)
        _ = ccurl_easy_setopt_header_cb(easy, headerCallback)
        _ = ccurl_easy_setopt_ptr(easy, CURLOPT_HEADERDATA, ctx)

        active[t.id] = t
        byHandle[easy] = t.id
        curl_multi_add_handle(multi, easy)
    }

    private var connectToLists: [Int: UnsafeMutablePointer<curl_slist>?] = [:]

    private func finish(_ t: Transfer, code: CURLcode, cancelled: Bool) {
        guard let easy = t.easy else { return }
        let status = t.responseCode
        var version: Int = 0
        _ = ccurl_easy_getinfo_long(easy, CURLINFO_HTTP_VERSION, &version)
        var connects: Int = 0
        _ = ccurl_easy_getinfo_long(easy, CURLINFO_NUM_CONNECTS, &connects)
        var osErrno: Int = 0
        _ = ccurl_easy_getinfo_long(easy, CURLINFO_OS_ERRNO, &osErrno)
        var requestSize: Int = 0
        _ = ccurl_easy_getinfo_long(easy, CURLINFO_REQUEST_SIZE, &requestSize)
        let detail = String(cString: t.errorBuffer)

        curl_multi_remove_handle(multi, easy)
        curl_easy_cleanup(easy)
        t.easy = nil
        byHandle[easy] = nil
        active[t.id] = nil
        if let l = t.headerList { curl_slist_free_all(l); t.headerList = nil }
        if let l = connectToLists.removeValue(forKey: t.id) { curl_slist_free_all(l) }
        forget(t.id)

        if cancelled {
            switch t.sink {
            case .buffer(let c): c.resume(throwing: CancellationError())
            case .stream(let c): c.finish(throwing: CancellationError())
            }
            return
        }
        if t.tooLarge {
            fail(t, TransportFailure(phase: .other, curlCode: Int(code.rawValue),
                                     message: "the response from \(Self.serverBase(t.request.url)) exceeds \(t.request.maxResponseBytes) bytes",
                                     mayHaveBeenSent: true))
            return
        }
        if code != CURLE_OK {
            fail(t, Self.describe(code: code, detail: detail, osErrno: osErrno, url: t.request.url,
                                  requestSent: requestSize > 0 || status != 0))
            return
        }
        let httpVersion = version == CURL_HTTP_VERSION_2_0 ? "2" : "1.1"
        switch t.sink {
        case .buffer(let c):
            c.resume(returning: HTTPResponse(status: status, headers: t.headers, body: t.body,
                                             httpVersion: httpVersion, newConnections: connects))
        case .stream(let c):
            if !t.headSent { c.yield(.head(status: status, headers: t.headers)) }
            c.finish()
        }
    }

    private func fail(_ t: Transfer, _ f: TransportFailure) {
        switch t.sink {
        case .buffer(let c): c.resume(throwing: f)
        case .stream(let c): c.finish(throwing: f)
        }
    }

    /// Words for a libcurl error code. The URL is the server's (no credentials in it).
    static func describe(code: CURLcode, detail: String, osErrno: Int, url: String, requestSent: Bool) -> TransportFailure {
        let base = serverBase(url)
        let reason = osErrno != 0 ? String(cString: strerror(Int32(osErrno))).lowercased() : detail
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return TransportFailure(phase: .resolve, curlCode: Int(code.rawValue),
                                    message: "cannot resolve the host of \(base): \(detail)", mayHaveBeenSent: false)
        case CURLE_COULDNT_CONNECT:
            return TransportFailure(phase: .connect, curlCode: Int(code.rawValue),
                                    message: "cannot connect to \(base): \(reason)", mayHaveBeenSent: false)
        case CURLE_OPERATION_TIMEDOUT:
            return TransportFailure(phase: .timeout, curlCode: Int(code.rawValue),
                                    message: "request to \(base) timed out: \(detail)", mayHaveBeenSent: requestSent)
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CONNECT_ERROR,
             CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
             CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_SHUTDOWN_FAILED,
             CURLE_SSL_CLIENTCERT:
            let what = (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE)
                ? "TLS verification failed" : "TLS handshake with \(base) failed"
            return TransportFailure(phase: .tls, curlCode: Int(code.rawValue),
                                    message: "\(what): \(detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail)",
                                    mayHaveBeenSent: false)
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM:
            return TransportFailure(phase: .io, curlCode: Int(code.rawValue),
                                    message: "connection to \(base) was cut: \(detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail)",
                                    mayHaveBeenSent: true)
        default:
            return TransportFailure(phase: .other, curlCode: Int(code.rawValue),
                                    message: "request to \(base) failed: \(detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail)",
                                    mayHaveBeenSent: requestSent)
        }
    }

    /// `https://host:port` of a URL (no path, no query).
    static func serverBase(_ url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        let hostEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        return String(url[..<schemeEnd.upperBound]) + rest[..<hostEnd]
    }
}

/// A detached POSIX thread for the transfer loop (FoundationEssentials has no `Thread`, and the
/// loop needs nothing from one).
enum LoopThread {
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// Runs `body` on a new detached thread (`what` names it in the error if none can start).
    static func start(_ what: String, _ body: @escaping @Sendable () -> Void) {
        let arg = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            let body = Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue()
            body.run()
            return nil
        }, arg)
        guard rc == 0 else {
            Unmanaged<Body>.fromOpaque(arg).release()
            fatalError("cannot start the \(what) thread: pthread_create returned \(rc)")
        }
        pthread_detach(thread)
    }
}
