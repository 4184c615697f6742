import CCurl
import PatternCore

/// Blocking HTTP(S) GETs for chart repositories and OCI registries, on libcurl's easy
/// interface through the `CCurl` shim. (KubeClient's `CurlTransport` is an async multi-handle
/// loop built for the Kubernetes API; sources resolve synchronously like libgit2, so they use
/// curl's blocking call, with the same TLS rules.) TLS verification is always on; `caBundle`
/// adds trust, the connect and low-speed deadlines are `NetworkDeadlines`, redirects stay on
/// http(s) (at most 5; or none with `followRedirects: false`, for callers that must decide per
/// hop whether credentials go along, as OCI blob downloads do), and a body larger than
/// `maxBytes` is cut off with an error.
enum HTTPFetch {
    struct Response {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]
        /// The URL after redirects.
        var url: String
        func header(_ name: String) -> String? {
            let n = name.lowercased()
            return headers.last { $0.0.lowercased() == n }?.1
        }
    }

    /// Accumulates the body (bounded) and the headers of the last response.
    final class Sink {
        var body: [UInt8] = []
        var headers: [(String, String)] = []
        let maxBytes: Int
        var tooLarge = false
        init(maxBytes: Int) { self.maxBytes = maxBytes }
    }

    static func get(_ url: String, headers: [String] = [], basicAuth: (String, String)? = nil, caBundle: String?,
                    deadlines: NetworkDeadlines, maxBytes: Int, redactor: Redactor, followRedirects: Bool = true) throws(SourceError) -> Response {
        let rc = ccurl_global_init_once()
        if let why = ccurl_load_error() { throw SourceError(.io, String(cString: why)) }
        guard rc == CURLE_OK, let h = curl_easy_init() else {
            throw SourceError(.io, "libcurl failed to initialise (code \(rc.rawValue))", fix: "reinstall libcurl4")
        }
        defer { curl_easy_cleanup(h) }
        if let caBundle { try Network.checkCABundle(caBundle) }
        _ = ccurl_easy_setopt_str(h, CURLOPT_URL, url)
        _ = ccurl_easy_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_easy_setopt_str(h, CURLOPT_PROTOCOLS_STR, "http,https")
        _ = ccurl_easy_setopt_str(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        _ = ccurl_easy_setopt_long(h, CURLOPT_FOLLOWLOCATION, followRedirects ? 1 : 0)
        _ = ccurl_easy_setopt_long(h, CURLOPT_MAXREDIRS, 5)
        _ = ccurl_easy_setopt_long(h, CURLOPT_SSL_VERIFYPEER, 1)
        _ = ccurl_easy_setopt_long(h, CURLOPT_SSL_VERIFYHOST, 2)
        if let caBundle { _ = ccurl_easy_setopt_str(h, CURLOPT_CAINFO, caBundle) }
        _ = ccurl_easy_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Int(deadlines.connectTimeout * 1000))
        _ = ccurl_easy_setopt_long(h, CURLOPT_LOW_SPEED_TIME, max(1, Int(deadlines.lowSpeedTime.rounded(.up))))
        _ = ccurl_easy_setopt_long(h, CURLOPT_LOW_SPEED_LIMIT, max(1, deadlines.lowSpeedLimit))
        _ = ccurl_easy_setopt_str(h, CURLOPT_ACCEPT_ENCODING, "")
        _ = ccurl_easy_setopt_str(h, CURLOPT_USERAGENT, "pattern")
        if let (user, password) = basicAuth {
            _ = ccurl_easy_setopt_long(h, CURLOPT_HTTPAUTH, 1)  // CURLAUTH_BASIC (a macro Swift cannot import)
            _ = ccurl_easy_setopt_str(h, CURLOPT_USERNAME, user)
            _ = ccurl_easy_setopt_str(h, CURLOPT_PASSWORD, password)
        }
        var list: UnsafeMutablePointer<curl_slist>? = nil
        for line in headers { list = curl_slist_append(list, line) }
        defer { curl_slist_free_all(list) }
        if list != nil { _ = ccurl_easy_setopt_ptr(h, CURLOPT_HTTPHEADER, list) }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let sink = Sink(maxBytes: maxBytes)
        let ctx = Unmanaged.passUnretained(sink).toOpaque()
        _ = ccurl_easy_setopt_write_cb(h, { ptr, size, n, ud in
            let sink = Unmanaged<HTTPFetch.Sink>.fromOpaque(ud!).takeUnretainedValue()
            let count = size * n
            if sink.body.count + count > sink.maxBytes { sink.tooLarge = true; return 0 }
            if let ptr { sink.body.append(contentsOf: UnsafeRawBufferPointer(start: ptr, count: count)) }
            return count
        })
        _ = ccurl_easy_setopt_ptr(h, CURLOPT_WRITEDATA, ctx)
        _ = ccurl_easy_setopt_header_cb(h, { ptr, size, n, ud in
            let sink = Unmanaged<HTTPFetch.Sink>.fromOpaque(ud!).takeUnretainedValue()
            let count = size * n
            guard let ptr else { return count }
            let line = String(decoding: UnsafeRawBufferPointer(start: ptr, count: count), as: UTF8.self)
            if line.hasPrefix("HTTP/") { sink.headers = [] }
            if let colon = line.firstIndex(of: ":") {
                sink.headers.append((String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingSpaces()))
            }
            return count
        })
        _ = ccurl_easy_setopt_ptr(h, CURLOPT_HEADERDATA, ctx)
        let code = errorBuffer.withUnsafeMutableBufferPointer { buf -> CURLcode in
            _ = ccurl_easy_setopt_ptr(h, CURLOPT_ERRORBUFFER, buf.baseAddress)
            return curl_easy_perform(h)
        }
        _ = ccurl_easy_setopt_ptr(h, CURLOPT_ERRORBUFFER, nil)
        if sink.tooLarge {
            throw SourceError(.invalidSource, redactor("\(Redactor.redactURLs(in: url)) is larger than the limit of \(maxBytes) bytes"),
                              fix: "check the URL; a chart archive or index this large is not expected")
        }
        guard code == CURLE_OK else {
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let why = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            throw SourceError(.unreachable, redactor("cannot fetch \(Redactor.redactURLs(in: url)): \(why)"))
        }
        var status = 0
        _ = ccurl_easy_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        var effective: UnsafePointer<CChar>? = nil
        _ = ccurl_easy_getinfo_str(h, CURLINFO_EFFECTIVE_URL, &effective)
        return Response(status: status, headers: sink.headers, body: sink.body, url: effective.map { String(cString: $0) } ?? url)
    }
}
