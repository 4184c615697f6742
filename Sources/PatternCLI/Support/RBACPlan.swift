import PatternCore
import PatternCompile

/// The smallest RBAC that lets an identity apply and prune renders (what `pattern rbac` prints).
///
/// What the engine does, and what each needs:
/// - observe and wait list by owner label in every namespace; the controller watches the same
///   way: `get`, `list`, `watch` on each rendered resource, cluster-wide (a ClusterRole: label
///   selectors cannot be expressed in RBAC).
/// - server-side apply is a `patch`, and a `create` when the object does not exist yet; prune
///   is a `delete`: per namespace (a Role in each namespace of the render). Cluster-scoped
///   objects: `patch` and `delete` only for the names in the render (`resourceNames`; `create`
///   cannot be narrowed by name in Kubernetes).
/// - Roles and ClusterRoles in a render need `escalate` and bindings need `bind`, each only for
///   the role names the render holds or refers to — never on every role.
/// - inventory and ledger: ConfigMaps in the records namespace, and `get` on that Namespace.
public struct RBACPlan: Sendable {
    /// One rule of a Role or ClusterRole.
    public struct Rule: Sendable, Hashable {
        public var group: String
        public var resources: [String]
        public var verbs: [String]
        public var resourceNames: [String]
    }

    /// Resources without a plural in the built-in table nor a CRD in the render.
    public var guessed: [GroupKind] = []
    /// Cluster-wide read rules (ClusterRole `<name>-read`).
    public var read: [Rule] = []
    /// Cluster-scoped write rules (ClusterRole `<name>-cluster`).
    public var cluster: [Rule] = []
    /// Per-namespace write rules (Role `<name>` in each namespace).
    public var namespaced: [String: [Rule]] = [:]
    /// Where inventories and ledgers are recorded.
    public var recordNamespace: String

    static let read = ["get", "list", "watch"]
    static let write = ["create", "patch", "delete"]
    static let rbacGroup = "rbac.authorization.k8s.io"

    /// Plurals of built-in kinds (the REST resource names RBAC rules use).
    public static let plurals: [GroupKind: String] = {
        var t: [GroupKind: String] = [:]
        let core = ["Namespace": "namespaces", "ConfigMap": "configmaps", "Secret": "secrets", "Service": "services",
                    "ServiceAccount": "serviceaccounts", "Pod": "pods", "PersistentVolumeClaim": "persistentvolumeclaims",
                    "PersistentVolume": "persistentvolumes", "Endpoints": "endpoints", "LimitRange": "limitranges",
                    "ResourceQuota": "resourcequotas", "ReplicationController": "replicationcontrollers", "Event": "events"]
        for (k, v) in core { t[GroupKind(group: "", kind: k)] = v }
        let grouped: [(String, String, String)] = [
            ("apps", "Deployment", "deployments"), ("apps", "StatefulSet", "statefulsets"), ("apps", "DaemonSet", "daemonsets"),
            ("apps", "ReplicaSet", "replicasets"), ("batch", "Job", "jobs"), ("batch", "CronJob", "cronjobs"),
            ("autoscaling", "HorizontalPodAutoscaler", "horizontalpodautoscalers"),
            ("policy", "PodDisruptionBudget", "poddisruptionbudgets"),
            ("networking.k8s.io", "Ingress", "ingresses"), ("networking.k8s.io", "IngressClass", "ingressclasses"),
            ("networking.k8s.io", "NetworkPolicy", "networkpolicies"),
            (rbacGroup, "Role", "roles"), (rbacGroup, "RoleBinding", "rolebindings"),
            (rbacGroup, "ClusterRole", "clusterroles"), (rbacGroup, "ClusterRoleBinding", "clusterrolebindings"),
            ("apiextensions.k8s.io", "CustomResourceDefinition", "customresourcedefinitions"),
            ("apiregistration.k8s.io", "APIService", "apiservices"),
            ("admissionregistration.k8s.io", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations"),
            ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations"),
            ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy", "validatingadmissionpolicies"),
            ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding", "validatingadmissionpolicybindings"),
            ("storage.k8s.io", "StorageClass", "storageclasses"), ("storage.k8s.io", "CSIDriver", "csidrivers"),
            ("scheduling.k8s.io", "PriorityClass", "priorityclasses"), ("node.k8s.io", "RuntimeClass", "runtimeclasses"),
            ("coordination.k8s.io", "Lease", "leases"), ("discovery.k8s.io", "EndpointSlice", "endpointslices"),
            ("gateway.networking.k8s.io", "Gateway", "gateways"), ("gateway.networking.k8s.io", "GatewayClass", "gatewayclasses"),
            ("gateway.networking.k8s.io", "HTTPRoute", "httproutes"),
            ("monitoring.coreos.com", "ServiceMonitor", "servicemonitors"), ("monitoring.coreos.com", "PrometheusRule", "prometheusrules"),
        ]
        for (g, k, v) in grouped { t[GroupKind(group: g, kind: k)] = v }
        return t
    }()

    /// Plans the RBAC for `objects` (the renders of one or more sites) and records in `recordNamespace`.
    public init(objects: [Value], recordNamespace: String) {
        self.recordNamespace = recordNamespace
        // CRDs in the render name their resources and scope.
        var crdPlural: [GroupKind: String] = [:]
        var crdCluster: Set<GroupKind> = []
        for o in objects where o.kindName == "CustomResourceDefinition" {
            guard let g = o[path: ["spec", "group"]]?.string, let k = o[path: ["spec", "names", "kind"]]?.string,
                  let p = o[path: ["spec", "names", "plural"]]?.string else { continue }
            let gk = GroupKind(group: g, kind: k)
            crdPlural[gk] = p
            if o[path: ["spec", "scope"]]?.string == "Cluster" { crdCluster.insert(gk) }
        }
        var readByGroup: [String: Set<String>] = [:]
        var nsWrites: [String: [String: Set<String>]] = [:]          // namespace → group → resources
        var clusterCreate: [String: Set<String>] = [:]               // group → resources
        var clusterNames: [String: [String: Set<String>]] = [:]      // group → resource → names
        var escalate: [String: Set<String>] = [:]                    // "roles"/"clusterroles" → names (namespaced roles: by namespace below)
        var bind: [String: Set<String>] = [:]
        var nsEscalate: [String: Set<String>] = [:]                  // namespace → role names
        var nsBind: [String: [String: Set<String>]] = [:]            // namespace → resource → names
        var guessed: Set<GroupKind> = []

        for o in objects {
            guard let gvk = o.gvk, let name = o.metadataName else { continue }
            let gk = gvk.groupKind
            let resource: String
            if let p = RBACPlan.plurals[gk] ?? crdPlural[gk] { resource = p } else {
                resource = gk.kind.lowercased() + "s"
                guessed.insert(gk)
            }
            readByGroup[gk.group, default: []].insert(resource)
            let clusterScoped = KindTable.isClusterScoped(gk) || crdCluster.contains(gk)
            if clusterScoped {
                clusterCreate[gk.group, default: []].insert(resource)
                clusterNames[gk.group, default: [:]][resource, default: []].insert(name)
            } else {
                let ns = o.metadataNamespace ?? "default"
                nsWrites[ns, default: [:]][gk.group, default: []].insert(resource)
            }
            guard gk.group == RBACPlan.rbacGroup else { continue }
            switch gk.kind {
            case "ClusterRole": escalate["clusterroles", default: []].insert(name)
            case "Role": nsEscalate[o.metadataNamespace ?? "default", default: []].insert(name)
            case "ClusterRoleBinding", "RoleBinding":
                guard let ref = o[path: ["roleRef", "name"]]?.string else { break }
                let res = o[path: ["roleRef", "kind"]]?.string == "ClusterRole" ? "clusterroles" : "roles"
                if gk.kind == "ClusterRoleBinding" {
                    bind[res, default: []].insert(ref)
                } else {
                    // A RoleBinding is authorized in its namespace: bind (on the Role or the
                    // ClusterRole it refers to) granted by a Role in that namespace suffices.
                    nsBind[o.metadataNamespace ?? "default", default: [:]][res, default: []].insert(ref)
                }
            default: break
            }
        }

        func sorted(_ s: Set<String>) -> [String] { s.sorted() }
        read = readByGroup.keys.sorted().map { Rule(group: $0, resources: sorted(readByGroup[$0]!), verbs: RBACPlan.read, resourceNames: []) }
        var cluster: [Rule] = []
        for g in clusterCreate.keys.sorted() {
            cluster.append(Rule(group: g, resources: sorted(clusterCreate[g]!), verbs: ["create"], resourceNames: []))
            for (res, names) in clusterNames[g]!.sorted(by: { $0.key < $1.key }) {
                cluster.append(Rule(group: g, resources: [res], verbs: ["patch", "delete"], resourceNames: sorted(names)))
            }
        }
        for (res, names) in escalate.sorted(by: { $0.key < $1.key }) {
            cluster.append(Rule(group: RBACPlan.rbacGroup, resources: [res], verbs: ["escalate"], resourceNames: sorted(names)))
        }
        for (res, names) in bind.sorted(by: { $0.key < $1.key }) {
            cluster.append(Rule(group: RBACPlan.rbacGroup, resources: [res], verbs: ["bind"], resourceNames: sorted(names)))
        }
        self.cluster = cluster
        for (ns, groups) in nsWrites {
            var rules = groups.keys.sorted().map { Rule(group: $0, resources: sorted(groups[$0]!), verbs: RBACPlan.write, resourceNames: []) }
            if let names = nsEscalate[ns] { rules.append(Rule(group: RBACPlan.rbacGroup, resources: ["roles"], verbs: ["escalate"], resourceNames: sorted(names))) }
            for (res, names) in (nsBind[ns] ?? [:]).sorted(by: { $0.key < $1.key }) {
                rules.append(Rule(group: RBACPlan.rbacGroup, resources: [res], verbs: ["bind"], resourceNames: sorted(names)))
            }
            namespaced[ns] = rules
        }
        // The records: inventory and ledger ConfigMaps in their namespace, and `get` on that
        // Namespace (the engine checks it exists).
        namespaced[recordNamespace, default: []].append(Rule(group: "", resources: ["configmaps"], verbs: RBACPlan.read + RBACPlan.write, resourceNames: []))
        if !(clusterNames[""]?["namespaces"]?.contains(recordNamespace) ?? false) {
            self.cluster.append(Rule(group: "", resources: ["namespaces"], verbs: ["get"], resourceNames: [recordNamespace]))
        }
        self.guessed = guessed.sorted()
    }

    /// Rules of one group and verbs merged into one rule (resources united).
    static func merge(_ rules: [Rule]) -> [Rule] {
        var out: [Rule] = []
        for r in rules {
            if let i = out.firstIndex(where: { $0.group == r.group && $0.verbs == r.verbs && $0.resourceNames == r.resourceNames }) {
                out[i].resources = Array(Set(out[i].resources + r.resources)).sorted()
            } else { out.append(r) }
        }
        return out
    }

    /// The objects: ClusterRoles (read, cluster writes), a Role per namespace, and bindings of
    /// each to `subject` (`namespace/name` of a ServiceAccount).
    ///
    /// `clusterWide`: the namespaced write rules of every namespace but the records namespace go
    /// into one ClusterRole `<name>-namespaced` instead of a Role per namespace, for installs that
    /// come before the namespaces exist (a Role cannot be created in a missing namespace). It
    /// still grants no `bind`/`escalate` beyond the named roles, so a Role written through it
    /// cannot grant more than the identity holds (Kubernetes' escalation check).
    public func manifests(name: String, subject: (namespace: String, name: String), clusterWide: Bool = false) -> [Value] {
        let rbac = "rbac.authorization.k8s.io/v1"
        func rules(_ rs: [Rule]) -> Value {
            .array(rs.map { r in
                var v: Value = ["apiGroups": [.string(r.group)], "resources": .array(r.resources.map { .string($0) }),
                                "verbs": .array(r.verbs.map { .string($0) })]
                if !r.resourceNames.isEmpty { v["resourceNames"] = .array(r.resourceNames.map { .string($0) }) }
                return v
            })
        }
        let subjects: Value = [["kind": "ServiceAccount", "name": .string(subject.name), "namespace": .string(subject.namespace)]]
        var out: [Value] = []
        var perNamespace = namespaced
        var spread: [Rule] = []
        if clusterWide {
            for ns in namespaced.keys.sorted() where ns != recordNamespace {
                spread = RBACPlan.merge(spread + perNamespace.removeValue(forKey: ns)!)
            }
        }
        for (suffix, rs) in [("-read", read), ("-cluster", cluster), ("-namespaced", spread)] where !rs.isEmpty {
            let n = name + suffix
            out.append(["apiVersion": .string(rbac), "kind": "ClusterRole", "metadata": ["name": .string(n)], "rules": rules(rs)])
            out.append(["apiVersion": .string(rbac), "kind": "ClusterRoleBinding", "metadata": ["name": .string(n)],
                        "roleRef": ["apiGroup": .string("rbac.authorization.k8s.io"), "kind": "ClusterRole", "name": .string(n)], "subjects": subjects])
        }
        for ns in perNamespace.keys.sorted() {
            let meta: Value = ["name": .string(name), "namespace": .string(ns)]
            out.append(["apiVersion": .string(rbac), "kind": "Role", "metadata": meta, "rules": rules(RBACPlan.merge(perNamespace[ns]!))])
            out.append(["apiVersion": .string(rbac), "kind": "RoleBinding", "metadata": meta,
                        "roleRef": ["apiGroup": .string("rbac.authorization.k8s.io"), "kind": "Role", "name": .string(name)], "subjects": subjects])
        }
        return out
    }
}
