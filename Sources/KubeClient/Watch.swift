import FoundationEssentials
import PatternCore

/// One event of a watch.
public struct WatchEvent: Sendable {
    public enum EventType: String, Sendable {
        case added = "ADDED", modified = "MODIFIED", deleted = "DELETED", bookmark = "BOOKMARK"
    }
    public var type: EventType
    /// The object (for bookmarks: only `apiVersion`, `kind` and `metadata.resourceVersion`).
    public var object: Value
    public init(type: EventType, object: Value) { self.type = type; self.object = object }
    public var resourceVersion: String? { object[path: ["metadata", "resourceVersion"]]?.string }
}

/// What `watchWithRelist` delivers: a full list (first, and again after every 410 Gone), then
/// the events after it.
public enum InformerEvent: Sendable {
    /// The complete current state; replace any cache with it.
    case listed(ObjectList)
    case event(WatchEvent)
}

extension KubeClient {
    /// Watches a collection from `resourceVersion` (nil: the server's "any" — the current state
    /// as ADDED events first). Events arrive in order; the stream ends when the server closes
    /// the watch (`timeoutSeconds`), and throws `KubeError` on failure — `.gone` when the
    /// resourceVersion is too old (HTTP 410 or an ERROR event with a 410 Status), in which case
    /// the caller must relist. Starting the watch is retried like any idempotent GET.
    ///
    /// The stream buffers without bound; consume it promptly. Cancelling the consuming task or
    /// dropping the stream closes the connection.
    public func watch(_ gvk: GroupVersionKind, namespace: String? = nil, labelSelector: String? = nil,
                      fieldSelector: String? = nil, resourceVersion: String? = nil, allowBookmarks: Bool = true,
                      timeoutSeconds: Int? = nil) -> AsyncThrowingStream<WatchEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<WatchEvent, any Error>.makeStream()
        let task = Task {
            do {
                let r = try await self.resource(for: gvk)
                var q: [(String, String)] = [("watch", "1")]
                if let resourceVersion, !resourceVersion.isEmpty { q.append(("resourceVersion", resourceVersion)) }
                if allowBookmarks { q.append(("allowWatchBookmarks", "true")) }
                if let labelSelector, !labelSelector.isEmpty { q.append(("labelSelector", labelSelector)) }
                if let fieldSelector, !fieldSelector.isEmpty { q.append(("fieldSelector", fieldSelector)) }
                if let timeoutSeconds { q.append(("timeoutSeconds", String(timeoutSeconds))) }
                try await self.runWatch(url: self.url(r.path(namespace: namespace), q), continuation)
                continuation.finish()
            } catch is CancellationError {
                continuation.finish()
            } catch let e as KubeError {
                if case .cancelled = e { continuation.finish() } else { continuation.finish(throwing: e) }
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private func runWatch(url: String, _ out: AsyncThrowingStream<WatchEvent, any Error>.Continuation) async throws(KubeError) {
        var attempt = 0
        var refresh = false
        var refreshedOnce = false
        while true {
            attempt += 1
            let creds = try await authenticator.credentials(refresh: refresh)
            refresh = false
            let req = httpRequest("GET", url, body: nil, contentType: nil, credentials: creds, timeout: nil)
            var status = 0
            var retryAfter: String?
            var errorBody: [UInt8] = []
            var line: [UInt8] = []
            var delivered = false
            do {
                for try await ev in loop.stream(req) {
                    switch ev {
                    case .head(let s, let headers):
                        status = s
                        retryAfter = headers.last(where: { $0.name == "retry-after" })?.value
                    case .data(let bytes):
                        if status != 200 { errorBody += bytes; continue }
                        for b in bytes {
                            if b == 10 {
                                if !line.isEmpty {
                                    out.yield(try Self.decodeWatchLine(line))
                                    delivered = true
                                    line.removeAll(keepingCapacity: true)
                                }
                            } else {
                                line.append(b)
                                if line.count > config.maxResponseBytes {
                                    throw KubeError.decoding("a watch event exceeds \(config.maxResponseBytes) bytes")
                                }
                            }
                        }
                    }
                }
            } catch let f as TransportFailure {
                if !delivered && !f.isPermanent && attempt < config.retry.maxAttempts {
                    try await sleep(config.retry.delay(afterFailure: attempt))
                    continue
                }
                throw .transport(f.publicError)
            } catch let e as KubeError {
                throw e
            } catch {
                throw .cancelled
            }
            if status == 200 {
                if !line.isEmpty { out.yield(try Self.decodeWatchLine(line)) }
                return
            }
            let err = Self.error(status: status, body: errorBody, retryAfter: retryAfter)
            let wait = retryAfter.flatMap { Double($0.trimming(.whitespacesAndNewlines)) } ?? config.retry.delay(afterFailure: attempt)
            switch status {
            case 401 where authenticator.canRefresh && !refreshedOnce:
                refreshedOnce = true; refresh = true; attempt -= 1; continue
            case 429, 502, 503, 504:
                if attempt < config.retry.maxAttempts && wait <= config.retry.maxRetryAfter {
                    try await sleep(wait)
                    continue
                }
            default: break
            }
            throw err
        }
    }

    static func decodeWatchLine(_ line: [UInt8]) throws(KubeError) -> WatchEvent {
        let v = try parseJSON(line)
        guard let t = v["type"]?.string, let object = v["object"] else {
            throw .decoding("watch event without type or object")
        }
        if t == "ERROR" { throw KubeError.fromWatchError(object) }
        guard let type = WatchEvent.EventType(rawValue: t) else { throw .decoding("unknown watch event type \(t)") }
        return WatchEvent(type: type, object: object)
    }

    /// An informer-style watch: LIST (all pages), deliver `.listed`, WATCH from the list's
    /// resourceVersion with bookmarks, and keep going: a watch that ends normally is reopened
    /// from the last resourceVersion seen (bookmarks included); a 410 Gone (HTTP or ERROR event)
    /// relists and delivers `.listed` again; connection failures, 429 and 5xx back off and
    /// reconnect. Authorization and configuration errors end the stream.
    public func watchWithRelist(_ gvk: GroupVersionKind, namespace: String? = nil, labelSelector: String? = nil,
                                fieldSelector: String? = nil, timeoutSeconds: Int = 300) -> AsyncThrowingStream<InformerEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<InformerEvent, any Error>.makeStream()
        let task = Task {
            var failures = 0
            do {
                relist: while !Task.isCancelled {
                    let list: ObjectList
                    do {
                        list = try await self.list(gvk, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector)
                    } catch let error as KubeError {
                        guard Self.isTransient(error), !Task.isCancelled else { throw error }
                        failures += 1
                        try await self.sleep(self.config.retry.delay(afterFailure: min(failures, 8)))
                        continue relist
                    }
                    continuation.yield(.listed(list))
                    var rv = list.resourceVersion
                    while !Task.isCancelled {
                        let started = monotonicNow()
                        var got = false
                        do {
                            for try await e in self.watch(gvk, namespace: namespace, labelSelector: labelSelector,
                                                          fieldSelector: fieldSelector, resourceVersion: rv,
                                                          allowBookmarks: true, timeoutSeconds: timeoutSeconds) {
                                got = true
                                failures = 0
                                if let v = e.resourceVersion, !v.isEmpty { rv = v }
                                continuation.yield(.event(e))
                            }
                            // Normal end: reopen from rv; avoid a hot loop when the server closes at once.
                            if !got && monotonicNow() - started < 1 {
                                failures += 1
                                try await self.sleep(self.config.retry.delay(afterFailure: min(failures, 8)))
                            }
                        } catch let e as KubeError {
                            if e.isGone { continue relist }
                            guard Self.isTransient(e) else { throw e }
                            failures += 1
                            try await self.sleep(self.config.retry.delay(afterFailure: min(failures, 8)))
                        }
                    }
                }
                continuation.finish()
            } catch let e as KubeError {
                if case .cancelled = e { continuation.finish() } else { continuation.finish(throwing: e) }
            } catch {
                continuation.finish()
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    static func isTransient(_ e: KubeError) -> Bool {
        switch e {
        case .transport(let t): return t.kind != .tls
        case .tooManyRequests, .serverError, .timeout: return true
        default: return false
        }
    }
}
