import PatternCore

/// One `nameReference` entry: objects of kind `target` are referred to by name from the
/// `referrers` field specs (Kustomize's `nameReference` transformer configuration).
struct NameBackReference: Sendable {
    var target: GvkSelector
    var referrers: [FieldSpec]
}

/// Kustomize's default transformer configuration (api/konfig/builtinpluginconsts), as data.
enum BuiltinConfig {
    /// Where a pod spec lives in each workload kind, for the ConfigMap/Secret reference lists.
    private static let podSpecKinds: [(kind: String, version: String, prefix: String)] = [
        ("Pod", "v1", "spec"),
        ("PodTemplate", "", "template/spec"),
        ("Deployment", "", "spec/template/spec"),
        ("ReplicaSet", "", "spec/template/spec"),
        ("DaemonSet", "", "spec/template/spec"),
        ("StatefulSet", "", "spec/template/spec"),
        ("Job", "", "spec/template/spec"),
        ("CronJob", "", "spec/jobTemplate/spec/template/spec"),
    ]

    private static func podRefs(_ suffixes: [String], cronJobSkips: Set<String> = []) -> [FieldSpec] {
        var out: [FieldSpec] = []
        for (kind, version, prefix) in podSpecKinds {
            for s in suffixes where !(kind == "CronJob" && cronJobSkips.contains(s)) {
                out.append(FieldSpec(gvk: GvkSelector(version: version, kind: kind), path: prefix + "/" + s))
            }
        }
        return out
    }

    private static func fs(_ kind: String, _ path: String, group: String = "", version: String = "") -> FieldSpec {
        FieldSpec(gvk: GvkSelector(group: group, version: version, kind: kind), path: path)
    }

    private static let workloadPrefixes: [(String, String, String)] = [
        ("Pod", "", "spec"),
        ("StatefulSet", "", "spec/template/spec"),
        ("Deployment", "", "spec/template/spec"),
        ("ReplicationController", "", "spec/template/spec"),
        ("CronJob", "", "spec/jobTemplate/spec/template/spec"),
        ("Job", "", "spec/template/spec"),
        ("DaemonSet", "", "spec/template/spec"),
    ]

    private static func workloadRefs(_ field: String) -> [FieldSpec] {
        workloadPrefixes.map { fs($0.0, $0.2 + "/" + field) }
    }

    static let nameReference: [NameBackReference] = {
        var out: [NameBackReference] = []
        for kind in ["Deployment", "ReplicationController", "ReplicaSet", "StatefulSet"] {
            out.append(NameBackReference(target: GvkSelector(kind: kind),
                                         referrers: [fs("HorizontalPodAutoscaler", "spec/scaleTargetRef/name")]))
        }
        out.append(NameBackReference(
            target: GvkSelector(version: "v1", kind: "ConfigMap"),
            referrers: podRefs([
                "volumes/configMap/name",
                "containers/env/valueFrom/configMapKeyRef/name",
                "initContainers/env/valueFrom/configMapKeyRef/name",
                "containers/envFrom/configMapRef/name",
                "initContainers/envFrom/configMapRef/name",
                "volumes/projected/sources/configMap/name",
            ]) + [
                fs("Node", "spec/configSource/configMap"),
                fs("Role", "rules/resourceNames"),
                fs("ClusterRole", "rules/resourceNames"),
                fs("Ingress", "metadata/annotations/nginx.ingress.kubernetes.io\\/fastcgi-params-configmap"),
            ]))
        out.append(NameBackReference(
            target: GvkSelector(version: "v1", kind: "Secret"),
            referrers: podRefs([
                "volumes/secret/secretName",
                "containers/env/valueFrom/secretKeyRef/name",
                "initContainers/env/valueFrom/secretKeyRef/name",
                "containers/envFrom/secretRef/name",
                "initContainers/envFrom/secretRef/name",
                "imagePullSecrets/name",
                "volumes/projected/sources/secret/name",
            ]) + [
                fs("Ingress", "spec/tls/secretName"),
                fs("Ingress", "metadata/annotations/ingress.kubernetes.io\\/auth-secret"),
                fs("Ingress", "metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret"),
                fs("Ingress", "metadata/annotations/nginx.ingress.kubernetes.io\\/auth-tls-secret"),
                fs("ServiceAccount", "imagePullSecrets/name"),
                fs("StorageClass", "parameters/secretName"),
                fs("StorageClass", "parameters/adminSecretName"),
                fs("StorageClass", "parameters/userSecretName"),
                fs("StorageClass", "parameters/secretRef"),
                fs("Role", "rules/resourceNames"),
                fs("ClusterRole", "rules/resourceNames"),
                fs("Service", "spec/template/spec/containers/env/valueFrom/secretKeyRef/name", group: "serving.knative.dev", version: "v1"),
                fs("PersistentVolume", "spec/azureFile/secretName"),
            ]))
        out.append(NameBackReference(target: GvkSelector(version: "v1", kind: "Service"), referrers: [
            fs("StatefulSet", "spec/serviceName", group: "apps"),
            fs("Ingress", "spec/rules/http/paths/backend/serviceName"),
            fs("Ingress", "spec/backend/serviceName"),
            fs("Ingress", "spec/rules/http/paths/backend/service/name"),
            fs("Ingress", "spec/defaultBackend/service/name"),
            fs("APIService", "spec/service/name", group: "apiregistration.k8s.io"),
            fs("ValidatingWebhookConfiguration", "webhooks/clientConfig/service", group: "admissionregistration.k8s.io"),
            fs("MutatingWebhookConfiguration", "webhooks/clientConfig/service", group: "admissionregistration.k8s.io"),
            fs("HTTPRoute", "spec/rules/backendRefs/name"),
        ]))
        out.append(NameBackReference(target: GvkSelector(group: "rbac.authorization.k8s.io", kind: "Role"), referrers: [
            fs("RoleBinding", "roleRef/name", group: "rbac.authorization.k8s.io"),
        ]))
        out.append(NameBackReference(target: GvkSelector(group: "rbac.authorization.k8s.io", kind: "ClusterRole"), referrers: [
            fs("RoleBinding", "roleRef/name", group: "rbac.authorization.k8s.io"),
            fs("ClusterRoleBinding", "roleRef/name", group: "rbac.authorization.k8s.io"),
        ]))
        out.append(NameBackReference(target: GvkSelector(version: "v1", kind: "ServiceAccount"), referrers: [
            fs("RoleBinding", "subjects", group: "rbac.authorization.k8s.io"),
            fs("ClusterRoleBinding", "subjects", group: "rbac.authorization.k8s.io"),
        ] + workloadRefs("serviceAccountName")))
        out.append(NameBackReference(target: GvkSelector(version: "v1", kind: "PersistentVolumeClaim"),
                                     referrers: workloadRefs("volumes/persistentVolumeClaim/claimName")))
        out.append(NameBackReference(target: GvkSelector(version: "v1", kind: "PersistentVolume"), referrers: [
            fs("PersistentVolumeClaim", "spec/volumeName"),
            fs("ClusterRole", "rules/resourceNames"),
        ]))
        out.append(NameBackReference(target: GvkSelector(group: "storage.k8s.io", version: "v1", kind: "StorageClass"), referrers: [
            fs("PersistentVolume", "spec/storageClassName"),
            fs("PersistentVolumeClaim", "spec/storageClassName"),
            fs("StatefulSet", "spec/volumeClaimTemplates/spec/storageClassName"),
        ]))
        out.append(NameBackReference(target: GvkSelector(group: "scheduling.k8s.io", version: "v1", kind: "PriorityClass"),
                                     referrers: workloadRefs("priorityClassName")))
        // Kustomize spells this group "networking.k8s.io/v1", so it never matches; kept as is.
        out.append(NameBackReference(target: GvkSelector(group: "networking.k8s.io/v1", version: "v1", kind: "IngressClass"),
                                     referrers: [fs("Ingress", "spec/ingressClassName")]))
        out.append(NameBackReference(target: GvkSelector(group: "admissionregistration.k8s.io", kind: "ValidatingAdmissionPolicy"),
                                     referrers: [fs("ValidatingAdmissionPolicyBinding", "spec/policyName", group: "admissionregistration.k8s.io")]))
        return out
    }()

    /// Where each workload keeps its pod template's metadata (Kustomize's `commonLabels` and
    /// `commonAnnotations` tables list the same places, in this order).
    private static let podTemplateMetadata: [(path: String, kind: String, group: String, version: String)] = [
        ("spec/template/metadata", "ReplicationController", "", "v1"),
        ("spec/template/metadata", "Deployment", "", ""),
        ("spec/template/metadata", "ReplicaSet", "", ""),
        ("spec/template/metadata", "DaemonSet", "", ""),
        ("spec/template/metadata", "StatefulSet", "apps", ""),
        ("spec/template/metadata", "Job", "batch", ""),
        ("spec/jobTemplate/metadata", "CronJob", "batch", ""),
        ("spec/jobTemplate/spec/template/metadata", "CronJob", "batch", ""),
    ]

    /// `metadata/<field>` and every pod template's `<field>` (labels or annotations), created
    /// when missing; for labels also StatefulSet `volumeClaimTemplates`, right after StatefulSet.
    private static func metadataAndTemplates(_ field: String) -> [FieldSpec] {
        var out = [spec("metadata/" + field, create: true)]
        for t in podTemplateMetadata {
            out.append(spec(t.path + "/" + field, kind: t.kind, group: t.group, version: t.version, create: true))
            if field == "labels" && t.kind == "StatefulSet" {
                out.append(spec("spec/volumeClaimTemplates[]/metadata/labels", kind: "StatefulSet", group: "apps", create: true))
            }
        }
        return out
    }

    /// `metadata/labels` plus pod-template labels (`labels[].includeTemplates`).
    static let templateLabels: [FieldSpec] = metadataAndTemplates("labels")

    /// `commonLabels` (and `labels[].includeSelectors`): selectors, metadata and templates.
    static let commonLabels: [FieldSpec] = {
        var out = [
            spec("spec/selector", kind: "Service", version: "v1", create: true),
            spec("spec/selector", kind: "ReplicationController", version: "v1", create: true),
            spec("spec/selector/matchLabels", kind: "Deployment", create: true),
            spec("spec/selector/matchLabels", kind: "ReplicaSet", create: true),
            spec("spec/selector/matchLabels", kind: "DaemonSet", create: true),
            spec("spec/selector/matchLabels", kind: "StatefulSet", group: "apps", create: true),
            spec("spec/volumeClaimTemplates[]/metadata/labels", kind: "StatefulSet", group: "apps", create: true),
            spec("spec/selector/matchLabels", kind: "Job", group: "batch", create: false),
            spec("spec/jobTemplate/spec/selector/matchLabels", kind: "CronJob", group: "batch", create: false),
            spec("spec/selector/matchLabels", kind: "PodDisruptionBudget", group: "policy", create: false),
            spec("spec/podSelector/matchLabels", kind: "NetworkPolicy", group: "networking.k8s.io", create: false),
            spec("spec/ingress/from/podSelector/matchLabels", kind: "NetworkPolicy", group: "networking.k8s.io", create: false),
            spec("spec/egress/to/podSelector/matchLabels", kind: "NetworkPolicy", group: "networking.k8s.io", create: false),
        ]
        let affinity = [
            "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
            "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
            "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
            "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
            "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
        ]
        for kind in ["Deployment", "StatefulSet"] {
            for p in affinity { out.append(FieldSpec(gvk: GvkSelector(group: "apps", kind: kind), path: p)) }
        }
        return merged(out, templateLabels)
    }()

    /// `commonAnnotations`: metadata and pod-template annotations.
    static let commonAnnotations: [FieldSpec] = metadataAndTemplates("annotations")

    /// `varReference`: fields where `$(VAR)` references of `vars` are replaced.
    static let varReference: [FieldSpec] = {
        var out: [FieldSpec] = []
        let pods: [(String, String)] = [
            ("CronJob", "spec/jobTemplate/spec/template/spec"), ("DaemonSet", "spec/template/spec"),
            ("Deployment", "spec/template/spec"), ("Job", "spec/template/spec"), ("Pod", "spec"),
            ("ReplicaSet", "spec/template/spec"), ("StatefulSet", "spec/template/spec"),
        ]
        for (kind, prefix) in pods {
            for c in ["containers", "initContainers"] {
                for f in ["args", "command", "env/value", "volumeMounts/mountPath"] {
                    out.append(FieldSpec(gvk: GvkSelector(kind: kind), path: "\(prefix)/\(c)/\(f)"))
                }
            }
            // Kustomize's table spells the CronJob path without the pod template's `spec`.
            let nfs = kind == "CronJob" ? "spec/jobTemplate/spec/template/volumes/nfs/server" : "\(prefix)/volumes/nfs/server"
            if kind != "StatefulSet" { out.append(FieldSpec(gvk: GvkSelector(kind: kind), path: nfs)) }
        }
        // Pod-template annotations: only Deployment's are in Kustomize's table.
        out.append(FieldSpec(gvk: GvkSelector(kind: "Deployment"), path: "spec/template/metadata/annotations"))
        for (kind, path) in [("Ingress", "spec/rules/host"), ("Ingress", "spec/tls/hosts"), ("Ingress", "spec/tls/secretName"),
                             ("Service", "spec/ports/port"), ("Service", "spec/ports/targetPort"),
                             ("StatefulSet", "spec/volumeClaimTemplates/spec/nfs/server"), ("PersistentVolume", "spec/nfs/server")] {
            out.append(FieldSpec(gvk: GvkSelector(kind: kind), path: path))
        }
        out.append(FieldSpec(path: "metadata/labels"))
        out.append(FieldSpec(path: "metadata/annotations"))
        return out
    }()

    /// `replicas`: where a replica count lives.
    static let replicas: [FieldSpec] = [
        spec("spec/replicas", kind: "Deployment", create: true),
        spec("spec/replicas", kind: "ReplicationController", create: true),
        spec("spec/replicas", kind: "ReplicaSet", create: true),
        spec("spec/replicas", kind: "StatefulSet", create: true),
    ]

    /// Kustomize's `FsSlice.MergeAll`: adds specs not already present (same gvk and path).
    static func merged(_ a: [FieldSpec], _ b: [FieldSpec]) -> [FieldSpec] {
        var out = a
        for s in b where !out.contains(where: { $0.gvk == s.gvk && $0.path == s.path }) { out.append(s) }
        return out
    }

    /// One spec of Kustomize's YAML tables (`- {path: …, create: …, group: …, version: …, kind: …}`).
    private static func spec(_ path: String, kind: String = "", group: String = "", version: String = "",
                             create: Bool) -> FieldSpec {
        FieldSpec(gvk: GvkSelector(group: group, version: version, kind: kind), path: path, create: create)
    }
}
