import PatternCore

/// One served resource type: what discovery lists and what the store keys objects by.
public struct ResourceInfo: Sendable, Hashable {
    public var group: String
    public var version: String
    /// Plural, lower-case resource name (`deployments`).
    public var resource: String
    public var kind: String
    public var singular: String
    public var namespaced: Bool
    public var shortNames: [String]
    public var categories: [String]
    public var verbs: [String]
    /// Subresources served: `status`, `scale`.
    public var subresources: [String]
    /// Whether `metadata.generation` is kept (bumped on changes outside metadata and status).
    public var hasGeneration: Bool
    /// True for resources defined by a CustomResourceDefinition.
    public var isCustom: Bool

    public init(group: String, version: String, resource: String, kind: String, singular: String = "",
                namespaced: Bool, shortNames: [String] = [], categories: [String] = [], verbs: [String] = ResourceInfo.standardVerbs,
                subresources: [String] = [], hasGeneration: Bool = false, isCustom: Bool = false) {
        self.group = group; self.version = version; self.resource = resource; self.kind = kind
        self.singular = singular; self.namespaced = namespaced; self.shortNames = shortNames
        self.categories = categories; self.verbs = verbs; self.subresources = subresources
        self.hasGeneration = hasGeneration; self.isCustom = isCustom
    }

    public static let standardVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
    public static let customVerbs = ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"]

    public var groupResource: GroupResource { GroupResource(group: group, resource: resource) }
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    public var gvk: GroupVersionKind { GroupVersionKind(group: group, version: version, kind: kind) }
    /// `deployments.apps` / `configmaps`: how Status messages name the resource.
    public var qualifiedResource: String { group.isEmpty ? resource : "\(resource).\(group)" }
    /// `Deployment.apps` / `ConfigMap`: how Invalid messages name the kind.
    public var qualifiedKind: String { group.isEmpty ? kind : "\(kind).\(group)" }
    public var hasStatus: Bool { subresources.contains("status") }

    /// base64(sha256("group/version/Kind")[:8]), as the real server computes it.
    var storageVersionHash: String {
        var h = SHA256()
        // The storage version, which is not always the served one (CRDs are stored as v1beta1 here).
        let storage = BuiltinResources.storageVersions["\(group)/\(resource)"] ?? "\(group)/\(version)"
        h.update("\(storage)/\(kind)")
        return Base64.encode(Array(h.finalize().prefix(8)))
    }

    func discoveryEntries() -> [Value] {
        var main: Object = [
            "name": .string(resource), "singularName": .string(singular), "namespaced": .bool(namespaced),
            "kind": .string(kind), "verbs": .array(verbs.map { .string($0) }),
        ]
        if !shortNames.isEmpty { main["shortNames"] = .array(shortNames.map { .string($0) }) }
        if !categories.isEmpty { main["categories"] = .array(categories.map { .string($0) }) }
        main["storageVersionHash"] = .string(storageVersionHash)
        var out: [Value] = [.object(main)]
        for sub in subresources {
            switch sub {
            case "scale":
                out.append(["name": .string("\(resource)/scale"), "singularName": "", "namespaced": .bool(namespaced),
                            "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]])
            case "finalize":
                out.append(["name": .string("\(resource)/finalize"), "singularName": "", "namespaced": .bool(namespaced),
                            "kind": .string(kind), "verbs": ["update"]])
            default:
                out.append(["name": .string("\(resource)/\(sub)"), "singularName": "", "namespaced": .bool(namespaced),
                            "kind": .string(kind), "verbs": ["get", "patch", "update"]])
            }
        }
        return out
    }
}

/// Group and plural resource: how the store keys object collections.
public struct GroupResource: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var resource: String
    public init(group: String, resource: String) { self.group = group; self.resource = resource }
    public var description: String { group.isEmpty ? resource : "\(resource).\(group)" }
}

/// The built-in resources served from the start.
enum BuiltinResources {
    static func r(_ g: String, _ v: String, _ res: String, _ kind: String, ns: Bool, short: [String] = [], cat: [String] = [],
                  sub: [String] = [], gen: Bool = false, verbs: [String] = ResourceInfo.standardVerbs) -> ResourceInfo {
        ResourceInfo(group: g, version: v, resource: res, kind: kind, namespaced: ns, shortNames: short, categories: cat,
                     verbs: verbs, subresources: sub, hasGeneration: gen)
    }

    static let all: [ResourceInfo] = [
        r("", "v1", "configmaps", "ConfigMap", ns: true, short: ["cm"]),
        r("", "v1", "endpoints", "Endpoints", ns: true, short: ["ep"]),
        r("", "v1", "events", "Event", ns: true, short: ["ev"]),
        r("", "v1", "limitranges", "LimitRange", ns: true, short: ["limits"]),
        r("", "v1", "namespaces", "Namespace", ns: false, short: ["ns"], sub: ["finalize", "status"],
          verbs: ["create", "delete", "get", "list", "patch", "update", "watch"]),
        r("", "v1", "nodes", "Node", ns: false, short: ["no"], sub: ["status"]),
        r("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", ns: true, short: ["pvc"], sub: ["status"]),
        r("", "v1", "persistentvolumes", "PersistentVolume", ns: false, short: ["pv"], sub: ["status"]),
        r("", "v1", "pods", "Pod", ns: true, short: ["po"], cat: ["all"], sub: ["status"]),
        r("", "v1", "podtemplates", "PodTemplate", ns: true),
        r("", "v1", "replicationcontrollers", "ReplicationController", ns: true, short: ["rc"], cat: ["all"], sub: ["scale", "status"], gen: true),
        r("", "v1", "resourcequotas", "ResourceQuota", ns: true, short: ["quota"], sub: ["status"]),
        r("", "v1", "secrets", "Secret", ns: true),
        r("", "v1", "serviceaccounts", "ServiceAccount", ns: true, short: ["sa"]),
        r("", "v1", "services", "Service", ns: true, short: ["svc"], cat: ["all"], sub: ["status"]),
        r("apps", "v1", "controllerrevisions", "ControllerRevision", ns: true),
        r("apps", "v1", "daemonsets", "DaemonSet", ns: true, short: ["ds"], cat: ["all"], sub: ["status"], gen: true),
        r("apps", "v1", "deployments", "Deployment", ns: true, short: ["deploy"], cat: ["all"], sub: ["scale", "status"], gen: true),
        r("apps", "v1", "replicasets", "ReplicaSet", ns: true, short: ["rs"], cat: ["all"], sub: ["scale", "status"], gen: true),
        r("apps", "v1", "statefulsets", "StatefulSet", ns: true, short: ["sts"], cat: ["all"], sub: ["scale", "status"], gen: true),
        r("batch", "v1", "cronjobs", "CronJob", ns: true, short: ["cj"], cat: ["all"], sub: ["status"], gen: true),
        r("batch", "v1", "jobs", "Job", ns: true, cat: ["all"], sub: ["status"], gen: true),
        r("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", ns: false),
        r("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", ns: false),
        r("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", ns: true),
        r("rbac.authorization.k8s.io", "v1", "roles", "Role", ns: true),
        r("networking.k8s.io", "v1", "ingressclasses", "IngressClass", ns: false),
        r("networking.k8s.io", "v1", "ingresses", "Ingress", ns: true, short: ["ing"], sub: ["status"], gen: true),
        r("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", ns: true, short: ["netpol"], gen: true),
        r("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", ns: false, short: ["crd", "crds"],
          cat: ["api-extensions"], sub: ["status"], gen: true),
        r("coordination.k8s.io", "v1", "leases", "Lease", ns: true),
        r("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", ns: true, short: ["pdb"], sub: ["status"], gen: true),
        r("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", ns: true, short: ["hpa"], cat: ["all"], sub: ["status"], gen: true),
        r("autoscaling", "v1", "horizontalpodautoscalers", "HorizontalPodAutoscaler", ns: true, short: ["hpa"], cat: ["all"], sub: ["status"], gen: true),
        r("storage.k8s.io", "v1", "storageclasses", "StorageClass", ns: false, short: ["sc"]),
        r("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", ns: false, short: ["pc"], gen: true),
        r("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "MutatingWebhookConfiguration", ns: false, cat: ["api-extensions"], gen: true),
        r("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", "ValidatingWebhookConfiguration", ns: false, cat: ["api-extensions"], gen: true),
        r("events.k8s.io", "v1", "events", "Event", ns: true, short: ["ev"]),
        // Virtual (create-only, never stored) review resources.
        r("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", ns: false, verbs: ["create"]),
        r("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", ns: false, verbs: ["create"]),
        r("authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", ns: false, verbs: ["create"]),
    ]

    static let reviewKinds: Set<String> = ["SelfSubjectReview", "SelfSubjectAccessReview", "SubjectAccessReview"]

    /// Storage group/version where it differs from the served version (Kubernetes 1.23).
    static let storageVersions: [String: String] = [
        "apiextensions.k8s.io/customresourcedefinitions": "apiextensions.k8s.io/v1beta1",
        "autoscaling/horizontalpodautoscalers": "autoscaling/v1",
        "events.k8s.io/events": "/v1",
        "policy/poddisruptionbudgets": "policy/v1beta1",
        "batch/cronjobs": "batch/v1beta1",
        "networking.k8s.io/ingresses": "networking.k8s.io/v1beta1",
        "admissionregistration.k8s.io/mutatingwebhookconfigurations": "admissionregistration.k8s.io/v1beta1",
        "admissionregistration.k8s.io/validatingwebhookconfigurations": "admissionregistration.k8s.io/v1beta1",
        "storage.k8s.io/storageclasses": "storage.k8s.io/v1beta1",
        "scheduling.k8s.io/priorityclasses": "scheduling.k8s.io/v1beta1",
        "networking.k8s.io/ingressclasses": "networking.k8s.io/v1beta1",
    ]

    /// Preferred version first for each group (discovery order of `/apis`).
    static let groupOrder: [String] = [
        "apps", "events.k8s.io", "autoscaling", "batch", "networking.k8s.io", "policy", "rbac.authorization.k8s.io",
        "storage.k8s.io", "admissionregistration.k8s.io", "apiextensions.k8s.io", "scheduling.k8s.io", "coordination.k8s.io",
        "authentication.k8s.io", "authorization.k8s.io",
    ]
}

