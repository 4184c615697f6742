import PatternCore

/// How server-side apply merges a list (structured-merge-diff's `listType`).
public enum ListType: Sendable, Hashable {
    /// An associative list: items are matched by key fields. `defaults` fill key fields the
    /// API server defaults (a container port without `protocol` is keyed with `TCP`).
    case map(keys: [String], defaults: [String: Value])
    /// A set of scalars (`metadata.finalizers`): items are matched by value.
    case set
    /// Replaced as a whole.
    case atomic
}

/// The small table of built-in list semantics, in the spirit of structured-merge-diff's
/// schema for Kubernetes types. Anything not listed is atomic (as for custom resources
/// without `x-kubernetes-list-type`).
public enum MergeSchema {
    static let podContainerLists: Set<String> = ["containers", "initContainers", "ephemeralContainers"]
    static let tcp: [String: Value] = ["protocol": "TCP"]

    /// List type for a list stored at `path` (field names from the object root, list steps
    /// left out: `["spec", "template", "spec", "containers", "ports"]`) in an object of `kind`.
    public static func listType(path: [String], kind: String) -> ListType {
        guard let field = path.last else { return .atomic }
        let parent = path.count >= 2 ? path[path.count - 2] : ""
        switch field {
        case "containers", "initContainers", "ephemeralContainers", "env", "volumes", "imagePullSecrets",
             "resourceClaims", "schedulingGates":
            return .map(keys: ["name"], defaults: [:])
        case "ports":
            if podContainerLists.contains(parent) { return .map(keys: ["containerPort", "protocol"], defaults: tcp) }
            if kind == "Service" && path == ["spec", "ports"] { return .map(keys: ["port", "protocol"], defaults: tcp) }
            return .atomic
        case "volumeMounts": return .map(keys: ["mountPath"], defaults: [:])
        case "volumeDevices": return .map(keys: ["devicePath"], defaults: [:])
        case "hostAliases": return .map(keys: ["ip"], defaults: [:])
        case "conditions": return .map(keys: ["type"], defaults: [:])
        case "topologySpreadConstraints": return .map(keys: ["topologyKey", "whenUnsatisfiable"], defaults: [:])
        case "ownerReferences" where path == ["metadata", "ownerReferences"]: return .map(keys: ["uid"], defaults: [:])
        case "finalizers" where path == ["metadata", "finalizers"]: return .set
        case "webhooks" where kind.hasSuffix("WebhookConfiguration"): return .map(keys: ["name"], defaults: [:])
        default: return .atomic
        }
    }

    /// The path element addressing `item` in a list of type `type`, or nil when the item cannot
    /// be keyed (a key field missing without a default): such lists are compared atomically.
    public static func element(for item: Value, in type: ListType, index: Int) -> PathElement? {
        switch type {
        case .map(let keys, let defaults):
            var fields: [PathElement.KeyField] = []
            fields.reserveCapacity(keys.count)
            for k in keys {
                if let v = item[k], !v.isNull { fields.append(.init(k, v)) }
                else if let d = defaults[k] { fields.append(.init(k, d)) }
                else { return nil }
            }
            // Most lists have one key field; two are swapped into order without a sort.
            switch fields.count {
            case 0, 1: return .key(fields)
            case 2: return .key(fields[1].name < fields[0].name ? [fields[1], fields[0]] : fields)
            default: return .key(fields.sorted { $0.name < $1.name })
            }
        case .set:
            return item.isScalar ? .value(item) : nil
        case .atomic:
            return .index(index)
        }
    }

    /// Maps replaced as a whole by apply (`+structType=atomic` LabelSelector, `+mapType=atomic`
    /// Service selector and Pod nodeSelector): owned as one leaf, compared strictly.
    public static let atomicMapFields: Set<String> = [
        "selector", "podSelector", "namespaceSelector", "labelSelector", "nodeSelector",
    ]

    public static func isAtomicMap(_ path: [String]) -> Bool {
        guard let last = path.last, atomicMapFields.contains(last) else { return false }
        // `spec.selector` of a CRD-based object may be anything; still treated as atomic, as
        // LabelSelector is by convention.
        return true
    }

    /// Metadata fields set by the server: never compared, never shown.
    public static let serverMetadata: Set<String> = [
        "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink",
        "deletionTimestamp", "deletionGracePeriodSeconds",
    ]

    /// Fields that identify the object rather than describe it (not compared).
    static let identityMetadata: Set<String> = ["name", "namespace", "generateName"]

    /// True for paths never compared: `status`, server-set metadata, identity, `apiVersion`/`kind`.
    public static func isIgnored(_ fields: [String]) -> Bool {
        guard let first = fields.first else { return false }
        if fields.count == 1 && (first == "status" || first == "apiVersion" || first == "kind") { return true }
        if first == "metadata" && fields.count == 2 {
            return serverMetadata.contains(fields[1]) || identityMetadata.contains(fields[1])
        }
        return false
    }

    /// Field names under which strings and numbers are Kubernetes quantities.
    static let quantityParents: Set<String> = [
        "resources", "limits", "requests", "hard", "used", "capacity", "allocatable", "overhead",
        "default", "defaultRequest", "max", "min", "maxLimitRequestRatio",
    ]
    static let quantityFields: Set<String> = ["sizeLimit", "storage", "ephemeral-storage"]

    /// True when a scalar at this path (field names) is a quantity (`resources.limits.cpu`,
    /// ResourceQuota `spec.hard`, LimitRange limits, `emptyDir.sizeLimit`, PVC storage).
    public static func isQuantityPath(_ fields: [String]) -> Bool {
        guard let last = fields.last else { return false }
        if quantityFields.contains(last) { return true }
        return fields.dropLast().contains { quantityParents.contains($0) }
    }
}
