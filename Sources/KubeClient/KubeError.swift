import FoundationEssentials
import PatternCore

/// A `metav1.Status` as the API server returns it in error bodies and ERROR watch events.
public struct Status: Sendable, Hashable {
    /// One entry of `details.causes`.
    public struct Cause: Sendable, Hashable {
        public var reason: String
        public var message: String
        public var field: String
        public init(reason: String, message: String, field: String) {
            self.reason = reason; self.message = message; self.field = field
        }
    }

    public var code: Int
    /// `NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, `Forbidden`, `Expired`, … (may be empty).
    public var reason: String
    public var message: String
    public var name: String
    public var group: String
    /// `details.kind`: a resource (`configmaps`) or a kind (`ConfigMap`), as the server wrote it.
    public var kind: String
    public var causes: [Cause]
    /// `details.retryAfterSeconds`.
    public var retryAfterSeconds: Int?

    public init(code: Int, reason: String = "", message: String = "", name: String = "", group: String = "",
                kind: String = "", causes: [Cause] = [], retryAfterSeconds: Int? = nil) {
        self.code = code; self.reason = reason; self.message = message; self.name = name
        self.group = group; self.kind = kind; self.causes = causes; self.retryAfterSeconds = retryAfterSeconds
    }

    /// Decodes a Status object; nil when `value` is not one.
    public init?(_ value: Value, httpStatus: Int? = nil) {
        guard value.kindName == "Status" || value["status"]?.string == "Failure" else { return nil }
        let details = value["details"]
        code = value["code"]?.int ?? httpStatus ?? 0
        reason = value["reason"]?.string ?? ""
        message = value["message"]?.string ?? ""
        name = details?["name"]?.string ?? ""
        group = details?["group"]?.string ?? ""
        kind = details?["kind"]?.string ?? ""
        retryAfterSeconds = details?["retryAfterSeconds"]?.int
        causes = (details?["causes"]?.array ?? []).map {
            Cause(reason: $0["reason"]?.string ?? "", message: $0["message"]?.string ?? "", field: $0["field"]?.string ?? "")
        }
    }
}

/// A field another manager owns, from an apply conflict (`details.causes` with reason
/// `FieldManagerConflict`).
public struct FieldConflict: Sendable, Hashable, CustomStringConvertible {
    /// The manager owning the field (`kubectl-edit`).
    public var manager: String
    /// The field path as the server wrote it (`.data.a`, `.spec.replicas`).
    public var field: String
    /// The cause's message (`conflict with "kubectl-edit" using v1`).
    public var message: String
    public var description: String { "\(field) (owned by \(manager))" }

    /// Parses conflicts from a Status' causes. Manager names are the first quoted word of the
    /// message, which is how the server words it (`conflict with "x" using v1`, `conflict with
    /// "x" with subresource "scale" using apps/v1`).
    public static func parse(_ causes: [Status.Cause]) -> [FieldConflict] {
        causes.filter { $0.reason == "FieldManagerConflict" }.map { c in
            var manager = ""
            if let q1 = c.message.firstIndex(of: "\"") {
                let rest = c.message[c.message.index(after: q1)...]
                if let q2 = rest.firstIndex(of: "\"") { manager = String(rest[..<q2]) }
            }
            return FieldConflict(manager: manager, field: c.field, message: c.message)
        }
    }
}

/// Everything the Kubernetes client can fail with, decoded so a caller can act on it.
///
/// Messages never contain bearer tokens, client keys or request headers.
public enum KubeError: Error, Sendable, CustomStringConvertible {
    /// 404: the object (or its namespace, or the API) does not exist.
    case notFound(Status)
    /// 409 AlreadyExists from a create.
    case alreadyExists(Status)
    /// 409 Conflict: an apply conflict with other managers (`conflicts` non-empty), or a stale
    /// resourceVersion on update (`conflicts` empty).
    case conflict(Status, conflicts: [FieldConflict])
    /// 422 Invalid (or 400 BadRequest) with the field causes.
    case invalid(Status, causes: [Status.Cause])
    /// 403: the credentials are not allowed to do this.
    case forbidden(Status)
    /// 401: the credentials were rejected (or are missing).
    case unauthorized(Status)
    /// 429: throttled; retry after the given seconds when the server said so.
    case tooManyRequests(Status, retryAfter: Double?)
    /// 410 Gone / `Expired`: a watch or list continue token is too old; relist.
    case gone(Status)
    /// 5xx other than timeouts.
    case serverError(Status)
    /// 504 or a `Timeout` Status, or a client-side timeout.
    case timeout(String)
    /// Another HTTP error (405, 415, …).
    case http(Status)
    /// Could not talk to the server: connection refused, DNS, connection cut, TLS.
    case transport(TransportError)
    /// The kubeconfig (or in-cluster setup, or an exec plugin) is unusable.
    case configuration(String)
    /// The kind is not served by the cluster (discovery does not know it).
    case unknownKind(GroupVersionKind)
    /// A response the client could not understand.
    case decoding(String)
    case cancelled

    /// The server's Status, for the cases that carry one.
    public var status: Status? {
        switch self {
        case .notFound(let s), .alreadyExists(let s), .conflict(let s, _), .invalid(let s, _), .forbidden(let s),
             .unauthorized(let s), .tooManyRequests(let s, _), .gone(let s), .serverError(let s), .http(let s):
            return s
        default: return nil
        }
    }

    /// HTTP status code when the server answered.
    public var code: Int? { status?.code }

    public var isNotFound: Bool { if case .notFound = self { return true } else { return false } }
    public var isConflict: Bool { if case .conflict = self { return true } else { return false } }
    public var isGone: Bool { if case .gone = self { return true } else { return false } }

    /// Maps an HTTP error response to a case. `body` is parsed when it is a Status.
    public static func from(httpStatus: Int, body: Value?, retryAfterHeader: String? = nil, fallbackMessage: String = "") -> KubeError {
        var status = body.flatMap { Status($0, httpStatus: httpStatus) }
            ?? Status(code: httpStatus, message: fallbackMessage.isEmpty ? "the server answered HTTP \(httpStatus)" : fallbackMessage)
        if status.code == 0 { status.code = httpStatus }
        switch (httpStatus, status.reason) {
        case (404, _): return .notFound(status)
        case (409, "AlreadyExists"): return .alreadyExists(status)
        case (409, _): return .conflict(status, conflicts: FieldConflict.parse(status.causes))
        case (422, _), (400, "Invalid"): return .invalid(status, causes: status.causes)
        case (400, _): return .invalid(status, causes: status.causes)
        case (403, _): return .forbidden(status)
        case (401, _): return .unauthorized(status)
        case (410, _): return .gone(status)
        case (429, _):
            let header = retryAfterHeader.flatMap { Double($0.trimming(.whitespacesAndNewlines)) }
            return .tooManyRequests(status, retryAfter: header ?? status.retryAfterSeconds.map(Double.init))
        case (504, _), (_, "Timeout"):
            return .timeout(status.message.isEmpty ? "the server timed out" : status.message)
        case (500..., _): return .serverError(status)
        default: return .http(status)
        }
    }

    /// A Status carried by an ERROR watch event.
    static func fromWatchError(_ object: Value) -> KubeError {
        let code = object["code"]?.int ?? 500
        if code == 410 || object["reason"]?.string == "Expired" || object["reason"]?.string == "Gone" {
            return .gone(Status(object, httpStatus: 410) ?? Status(code: 410, reason: "Expired"))
        }
        return from(httpStatus: code, body: object)
    }

    public var description: String {
        switch self {
        case .notFound(let s): return "not found: \(s.message)"
        case .alreadyExists(let s): return "already exists: \(s.message)"
        case .conflict(let s, let conflicts):
            if conflicts.isEmpty { return "conflict: \(s.message)" }
            let managers = Set(conflicts.map(\.manager)).sorted().joined(separator: ", ")
            return "apply conflict with \(managers) on \(conflicts.map(\.field).joined(separator: ", ")): \(s.message)"
                + " (fix: force the apply to take ownership, or stop managing these fields)"
        case .invalid(let s, let causes):
            var m = "invalid: \(s.message)"
            if !causes.isEmpty && !s.message.contains(causes[0].field) {
                m += " (" + causes.map { "\($0.field): \($0.message)" }.joined(separator: "; ") + ")"
            }
            return m
        case .forbidden(let s): return "forbidden: \(s.message) (fix: grant the credentials RBAC for this, or use another context)"
        case .unauthorized(let s):
            return "unauthorized: \(s.message.isEmpty ? "the server rejected the credentials" : s.message) (fix: refresh the credentials in the kubeconfig)"
        case .tooManyRequests(let s, let after):
            return "too many requests: \(s.message)" + (after.map { " (retry after \(Int($0))s)" } ?? "")
        case .gone(let s): return "gone: \(s.message) (the resourceVersion is too old; relist)"
        case .serverError(let s): return "server error (HTTP \(s.code)): \(s.message)"
        case .timeout(let m): return "timeout: \(m)"
        case .http(let s): return "HTTP \(s.code): \(s.message)"
        case .transport(let t): return t.description
        case .configuration(let m): return "configuration: \(m)"
        case .unknownKind(let gvk): return "the server does not serve \(gvk.kind) in \(gvk.apiVersion) (is the CRD installed and established?)"
        case .decoding(let m): return "cannot decode the server's answer: \(m)"
        case .cancelled: return "cancelled"
        }
    }
}

/// A failure to talk to the server at all.
public struct TransportError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// DNS lookup failed.
        case resolve
        /// TCP connect failed (refused, unreachable, connect timeout); the request was not sent.
        case connect
        /// TLS handshake or certificate verification failed.
        case tls
        /// The request or response timed out.
        case timeout
        /// The connection was cut after the request may have been sent.
        case connectionLost
        case other
    }
    public var kind: Kind
    /// e.g. "cannot connect to https://127.0.0.1:6443: connection refused".
    public var message: String
    public var description: String { message }
    public init(kind: Kind, message: String) { self.kind = kind; self.message = message }
}

extension TransportFailure {
    var publicError: TransportError {
        let k: TransportError.Kind
        switch phase {
        case .resolve: k = .resolve
        case .connect: k = .connect
        case .tls: k = .tls
        case .timeout: k = .timeout
        case .io: k = .connectionLost
        case .other, .unavailable: k = .other
        }
        return TransportError(kind: k, message: message)
    }
}
