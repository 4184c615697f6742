import PatternCore

/// A failed request as the API server reports it: a `meta.v1.Status` body with code, reason,
/// message and details.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var code: Int
    public var reason: String
    public var message: String
    public var details: Value?
    /// Seconds for a `Retry-After` header (429/503).
    public var retryAfter: Int?

    public init(code: Int, reason: String, message: String, details: Value? = nil, retryAfter: Int? = nil) {
        self.code = code; self.reason = reason; self.message = message; self.details = details; self.retryAfter = retryAfter
    }

    public var description: String { "\(code) \(reason): \(message)" }

    /// The `Status` object.
    public var status: Value {
        var o = Object()
        o.append("kind", "Status")
        o.append("apiVersion", "v1")
        o.append("metadata", .emptyObject)
        o.append("status", "Failure")
        if !message.isEmpty { o.append("message", .string(message)) }
        if !reason.isEmpty { o.append("reason", .string(reason)) }
        if let details { o.append("details", details) }
        o.append("code", .int(code))
        return .object(o)
    }

    static func details(name: String?, group: String, kind: String, uid: String? = nil, causes: [Value]? = nil, retryAfter: Int? = nil) -> Value {
        var d = Object()
        if let name, !name.isEmpty { d.append("name", .string(name)) }
        if !group.isEmpty { d.append("group", .string(group)) }
        if !kind.isEmpty { d.append("kind", .string(kind)) }
        if let uid { d.append("uid", .string(uid)) }
        if let causes { d.append("causes", .array(causes)) }
        if let retryAfter { d.append("retryAfterSeconds", .int(retryAfter)) }
        return .object(d)
    }

    public static func notFound(_ info: ResourceInfo, _ name: String) -> APIError {
        APIError(code: 404, reason: "NotFound", message: "\(info.qualifiedResource) \"\(name)\" not found",
                 details: details(name: name, group: info.group, kind: info.resource))
    }

    public static func namespaceNotFound(_ ns: String) -> APIError {
        APIError(code: 404, reason: "NotFound", message: "namespaces \"\(ns)\" not found",
                 details: details(name: ns, group: "", kind: "namespaces"))
    }

    public static func resourceNotFound() -> APIError {
        APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource", details: .emptyObject)
    }

    public static func alreadyExists(_ info: ResourceInfo, _ name: String) -> APIError {
        APIError(code: 409, reason: "AlreadyExists", message: "\(info.qualifiedResource) \"\(name)\" already exists",
                 details: details(name: name, group: info.group, kind: info.resource))
    }

    public static func conflict(_ info: ResourceInfo, _ name: String) -> APIError {
        APIError(code: 409, reason: "Conflict",
                 message: "Operation cannot be fulfilled on \(info.qualifiedResource) \"\(name)\": the object has been modified; please apply your changes to the latest version and try again",
                 details: details(name: name, group: info.group, kind: info.resource))
    }

    public static func conflictPrecondition(_ info: ResourceInfo, _ name: String, _ what: String) -> APIError {
        APIError(code: 409, reason: "Conflict",
                 message: "Operation cannot be fulfilled on \(info.qualifiedResource) \"\(name)\": \(what)",
                 details: details(name: name, group: info.group, kind: info.resource))
    }

    static func invalid(_ info: ResourceInfo, _ name: String, _ causes: [Defaults.Cause]) -> APIError {
        let texts = causes.map { "\($0.field): \($0.message)" }
        let summary = texts.count == 1 ? texts[0] : "[" + texts.joined(separator: ", ") + "]"
        let cs: [Value] = causes.map { ["reason": .string($0.reason), "message": .string($0.message), "field": .string($0.field)] }
        return APIError(code: 422, reason: "Invalid", message: "\(info.qualifiedKind) \"\(name)\" is invalid: \(summary)",
                        details: details(name: name, group: info.group, kind: info.kind, causes: cs))
    }

    public static func badRequest(_ message: String) -> APIError {
        APIError(code: 400, reason: "BadRequest", message: message)
    }

    public static func internalError(_ message: String) -> APIError {
        APIError(code: 500, reason: "InternalError", message: "Internal error occurred: \(message)",
                 details: ["causes": [["message": .string(message)]]])
    }

    public static func methodNotAllowed() -> APIError {
        APIError(code: 405, reason: "MethodNotAllowed", message: "the server does not allow this method on the requested resource", details: .emptyObject)
    }

    public static func unsupportedMediaType(_ contentType: String, custom: Bool) -> APIError {
        let accepted = custom
            ? "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
            : "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml"
        return APIError(code: 415, reason: "UnsupportedMediaType",
                         message: "the body of the request was in an unknown format - accepted media types include: \(accepted)")
    }

    public static func unauthorized() -> APIError {
        APIError(code: 401, reason: "Unauthorized", message: "Unauthorized")
    }

    public static func forbidden(user: String, verb: String, info: ResourceInfo?, resource: String, name: String?, namespace: String?) -> APIError {
        let group = info?.group ?? ""
        let qualified = group.isEmpty ? resource : "\(resource).\(group)"
        let subject = name.map { "\(qualified) \"\($0)\"" } ?? qualified
        let scope = namespace.map { "in the namespace \"\($0)\"" } ?? "at the cluster scope"
        return APIError(code: 403, reason: "Forbidden",
                        message: "\(subject) is forbidden: User \"\(user)\" cannot \(verb) resource \"\(resource)\" in API group \"\(group)\" \(scope)",
                        details: details(name: name, group: group, kind: resource))
    }

    public static func tooManyRequests(retryAfter: Int) -> APIError {
        APIError(code: 429, reason: "TooManyRequests", message: "Too many requests, please try again later.",
                 details: details(name: nil, group: "", kind: "", retryAfter: retryAfter), retryAfter: retryAfter)
    }

    public static func serviceUnavailable(retryAfter: Int? = nil) -> APIError {
        APIError(code: 503, reason: "ServiceUnavailable", message: "The service is unavailable, please try again later.",
                 details: retryAfter.map { details(name: nil, group: "", kind: "", retryAfter: $0) }, retryAfter: retryAfter)
    }

    public static func expired(_ message: String) -> APIError {
        APIError(code: 410, reason: "Expired", message: message)
    }

    static func applyConflict(_ conflicts: [(manager: ManagedFieldsEntry, path: [String])]) -> APIError {
        let causes: [Value] = conflicts.map {
            ["reason": "FieldManagerConflict", "message": .string("conflict with \($0.manager.conflictName)"), "field": .string(FieldSet.describe($0.path))]
        }
        let message: String
        if conflicts.count == 1 {
            message = "Apply failed with 1 conflict: conflict with \(conflicts[0].manager.conflictName): \(FieldSet.describe(conflicts[0].path))"
        } else {
            var byManager: [String: [String]] = [:]
            for c in conflicts { byManager[c.manager.conflictName, default: []].append(FieldSet.describe(c.path)) }
            var lines: [String] = []
            for m in byManager.keys.sorted() {
                lines.append("conflicts with \(m):")
                for p in byManager[m]! { lines.append("- \(p)") }
            }
            message = "Apply failed with \(conflicts.count) conflicts: " + lines.joined(separator: "\n")
        }
        return APIError(code: 409, reason: "Conflict", message: message, details: ["causes": .array(causes)])
    }
}
