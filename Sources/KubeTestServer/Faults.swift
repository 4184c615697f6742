import Foundation
import PatternCore

/// One request as the server saw it.
public struct LoggedRequest: Sendable {
    public var method: String
    public var path: String
    public var query: [String: String]
    public var contentType: String
    public var userAgent: String
    public var time: Date
    /// get, list, watch, create, update, patch, apply, delete, deletecollection; "" for discovery.
    public var verb: String = ""
    public var group: String = ""
    public var resource: String = ""
    public var namespace: String? = nil
    public var name: String? = nil
    public var subresource: String = ""
    public var user: String = ""
    /// HTTP status answered (0 when the connection was dropped).
    public var status: Int = 0
    public var duration: Double = 0

    public var isWrite: Bool { ["create", "update", "patch", "apply", "delete", "deletecollection"].contains(verb) }
    public var isDryRun: Bool { query["dryRun"] == "All" }
}

/// Every request served, for assertions like "one LIST per kind" or "zero writes".
public final class RequestLog: @unchecked Sendable {
    private let lock = Lock()
    private var items: [LoggedRequest] = []

    public var entries: [LoggedRequest] { lock.withLock { items } }

    func append(_ e: LoggedRequest) { lock.withLock { items.append(e) } }

    public func reset() { lock.withLock { items.removeAll() } }

    /// Requests with this verb (and resource, when given).
    public func count(verb: String, resource: String? = nil, group: String? = nil) -> Int {
        entries.filter { $0.verb == verb && (resource == nil || $0.resource == resource) && (group == nil || $0.group == group) }.count
    }

    /// Writes that were not dry-run.
    public var writes: [LoggedRequest] { entries.filter { $0.isWrite && !$0.isDryRun } }

    /// Count per "METHOD path" (query excluded).
    public var countsByMethodAndPath: [String: Int] {
        var out: [String: Int] = [:]
        for e in entries { out["\(e.method) \(e.path)", default: 0] += 1 }
        return out
    }
}

/// What to do to a request that matches a fault rule.
public enum FaultAction: Sendable {
    /// Answer with this Status (e.g. `.tooManyRequests(retryAfter: 1)`, `.internalError("boom")`).
    case error(APIError)
    /// Wait, then serve normally.
    case delay(Double)
    /// Serve, but write the headers and only this many body bytes, then close the connection.
    case cutConnection(afterBytes: Int)
    /// Close the connection without answering.
    case dropConnection
    /// Answer a watch with 200 and its headers, then send nothing at all, not even at its
    /// `timeoutSeconds`, until the client goes away: a watch whose events are lost (a dead
    /// connection without a reset, a proxy holding the stream).
    case silentWatch

    public static func tooManyRequests(retryAfter: Int = 1) -> FaultAction { .error(.tooManyRequests(retryAfter: retryAfter)) }
    public static func internalError(_ message: String = "injected fault") -> FaultAction { .error(.internalError(message)) }
    public static func serviceUnavailable(retryAfter: Int? = nil) -> FaultAction { .error(.serviceUnavailable(retryAfter: retryAfter)) }
}

/// A rule: which requests (method, path, verb, or any predicate), which of them (the Nth,
/// or the next `times`), and the action.
public struct FaultRule: Sendable {
    public var method: String?
    /// Matches when the request path contains this text.
    public var pathContains: String?
    public var verb: String?
    public var predicate: (@Sendable (LoggedRequest) -> Bool)?
    /// Fire only on the Nth matching request (1-based); nil fires from the first.
    public var nth: Int?
    /// How many times to fire (nil: every match from `nth` on).
    public var times: Int?
    public var action: FaultAction

    public init(method: String? = nil, pathContains: String? = nil, verb: String? = nil, nth: Int? = nil, times: Int? = 1,
                predicate: (@Sendable (LoggedRequest) -> Bool)? = nil, action: FaultAction) {
        self.method = method; self.pathContains = pathContains; self.verb = verb; self.nth = nth; self.times = times
        self.predicate = predicate; self.action = action
    }
}

/// Fault injection: rules are checked in order for every request (discovery included).
public final class FaultInjector: @unchecked Sendable {
    private let lock = Lock()
    private var rules: [(id: Int, rule: FaultRule, seen: Int, fired: Int)] = []
    private var nextID = 0
    private var requestCount = 0

    /// Adds a rule; returns an id for `remove`.
    @discardableResult
    public func add(_ rule: FaultRule) -> Int {
        lock.withLock {
            nextID += 1
            rules.append((nextID, rule, 0, 0))
            return nextID
        }
    }

    /// Fails the Nth request from now (1 = the next one), whatever it is.
    @discardableResult
    public func failRequest(_ n: Int, with action: FaultAction) -> Int {
        add(FaultRule(nth: n, times: 1, action: action))
    }

    public func remove(_ id: Int) { lock.withLock { rules.removeAll { $0.id == id } } }
    public func removeAll() { lock.withLock { rules.removeAll() } }

    /// How many times rule `id` has fired.
    public func fired(_ id: Int) -> Int { lock.withLock { rules.first { $0.id == id }?.fired ?? 0 } }

    func match(_ req: HTTPRequest, entry: LoggedRequest) -> FaultAction? {
        lock.withLock { matchLocked(req, entry: entry) }
    }

    /// `match` with the lock held.
    private func matchLocked(_ req: HTTPRequest, entry: LoggedRequest) -> FaultAction? {
        requestCount += 1
        for i in rules.indices {
            let r = rules[i].rule
            if let m = r.method, m.uppercased() != req.method { continue }
            if let p = r.pathContains, !req.target.contains(p) { continue }
            if let v = r.verb, v != entry.verb { continue }
            if let pred = r.predicate, !pred(entry) { continue }
            rules[i].seen += 1
            if let n = r.nth, rules[i].seen < n { continue }
            if let t = r.times, rules[i].fired >= t { continue }
            rules[i].fired += 1
            return r.action
        }
        return nil
    }
}
