import PatternCore

/// Server defaulting, canonical quantities and validation for the modelled kinds.
///
/// Two phases, as in the real server:
/// - `decodeDefaults`: defaulting that happens when a request body is decoded, before field
///   management. For Update operations (create, PUT, non-apply PATCH) the writing manager owns
///   the defaulted fields; for Apply they are owned by nobody.
/// - `strategyFill`: values the registry strategy sets afterwards (allocated ClusterIPs,
///   namespace finalizers, generated Job selectors, Secret `stringData` folding). Never owned.
enum Defaults {
    static let podTemplateKinds: Set<String> = ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController", "PodTemplate"]

    static func decodeDefaults(_ obj: inout Value, group: String, kind: String) {
        canonicalizeQuantities(&obj)
        switch (group, kind) {
        case ("apps", "Deployment"):
            obj.withObject { o in
                o.modify("spec") { spec in
                    guard var s = spec else { return }
                    if s["replicas"] == nil { s["replicas"] = 1 }
                    podTemplateDefaults(&s)
                    var strategy = s["strategy"] ?? .emptyObject
                    if strategy["type"] == nil { strategy["type"] = "RollingUpdate" }
                    if strategy["type"]?.string == "RollingUpdate" {
                        var ru = strategy["rollingUpdate"] ?? .emptyObject
                        if ru["maxUnavailable"] == nil { ru["maxUnavailable"] = "25%" }
                        if ru["maxSurge"] == nil { ru["maxSurge"] = "25%" }
                        strategy["rollingUpdate"] = ru
                    }
                    s["strategy"] = strategy
                    if s["revisionHistoryLimit"] == nil { s["revisionHistoryLimit"] = 10 }
                    if s["progressDeadlineSeconds"] == nil { s["progressDeadlineSeconds"] = 600 }
                    spec = s
                }
            }
        case ("apps", "ReplicaSet"), ("", "ReplicationController"):
            obj.withObject { o in
                o.modify("spec") { spec in
                    guard var s = spec else { return }
                    if s["replicas"] == nil { s["replicas"] = 1 }
                    podTemplateDefaults(&s)
                    spec = s
                }
            }
        case ("apps", "StatefulSet"):
            obj.withObject { o in
                o.modify("spec") { spec in
                    guard var s = spec else { return }
                    if s["replicas"] == nil { s["replicas"] = 1 }
                    podTemplateDefaults(&s)
                    if s["podManagementPolicy"] == nil { s["podManagementPolicy"] = "OrderedReady" }
                    var us = s["updateStrategy"] ?? .emptyObject
                    if us["type"] == nil { us["type"] = "RollingUpdate" }
                    if us["type"]?.string == "RollingUpdate" {
                        var ru = us["rollingUpdate"] ?? .emptyObject
                        if ru["partition"] == nil { ru["partition"] = 0 }
                        us["rollingUpdate"] = ru
                    }
                    s["updateStrategy"] = us
                    if s["revisionHistoryLimit"] == nil { s["revisionHistoryLimit"] = 10 }
                    spec = s
                }
            }
        case ("apps", "DaemonSet"):
            obj.withObject { o in
                o.modify("spec") { spec in
                    guard var s = spec else { return }
                    podTemplateDefaults(&s)
                    var us = s["updateStrategy"] ?? .emptyObject
                    if us["type"] == nil { us["type"] = "RollingUpdate" }
                    if us["type"]?.string == "RollingUpdate" {
                        var ru = us["rollingUpdate"] ?? .emptyObject
                        if ru["maxUnavailable"] == nil { ru["maxUnavailable"] = 1 }
                        if ru["maxSurge"] == nil { ru["maxSurge"] = 0 }
                        us["rollingUpdate"] = ru
                    }
                    s["updateStrategy"] = us
                    if s["revisionHistoryLimit"] == nil { s["revisionHistoryLimit"] = 10 }
                    spec = s
                }
            }
        case ("batch", "Job"):
            obj.withObject { o in
                o.modify("spec") { spec in
                    guard var s = spec else { return }
                    jobSpecDefaults(&s)
                    spec = s
                }
            }
        case ("batch", "CronJob"):
            obj.withObject { o in
                o.modify("spec") { spec in
                    guard var s = spec else { return }
                    if s["concurrencyPolicy"] == nil { s["concurrencyPolicy"] = "Allow" }
                    if s["suspend"] == nil { s["suspend"] = false }
                    if s["successfulJobsHistoryLimit"] == nil { s["successfulJobsHistoryLimit"] = 3 }
                    if s["failedJobsHistoryLimit"] == nil { s["failedJobsHistoryLimit"] = 1 }
                    if var jt = s["jobTemplate"], var js = jt["spec"] {
                        jobSpecDefaults(&js)
                        jt["spec"] = js
                        s["jobTemplate"] = jt
                    }
                    spec = s
                }
            }
        case ("", "Pod"):
            obj.withObject { o in
                o.modify("spec") { spec in
                    guard var s = spec else { return }
                    podSpecDefaults(&s)
                    spec = s
                }
            }
        case ("", "PodTemplate"):
            obj.withObject { o in
                o.modify("template") { t in
                    guard var tv = t, var s = tv["spec"] else { return }
                    podSpecDefaults(&s)
                    tv["spec"] = s
                    t = tv
                }
            }
        case ("", "Service"):
            obj.withObject { o in
                o.modify("spec") { spec in
                    var s = spec ?? .emptyObject
                    if s["type"] == nil { s["type"] = "ClusterIP" }
                    if s["sessionAffinity"] == nil { s["sessionAffinity"] = "None" }
                    if var ports = s["ports"]?.array {
                        for i in ports.indices {
                            if ports[i]["protocol"] == nil { ports[i]["protocol"] = "TCP" }
                            if ports[i]["targetPort"] == nil, let p = ports[i]["port"] { ports[i]["targetPort"] = p }
                        }
                        s["ports"] = .array(ports)
                    }
                    spec = s
                }
            }
        case ("", "Namespace"):
            if let name = obj.metadataName {
                var labels = obj[path: ["metadata", "labels"]] ?? .emptyObject
                labels["kubernetes.io/metadata.name"] = .string(name)
                obj[path: ["metadata", "labels"]] = labels
            }
        case ("", "Secret"):
            if obj["type"] == nil { obj["type"] = "Opaque" }
        case ("", "PersistentVolumeClaim"):
            if obj["spec"] != nil, obj[path: ["spec", "volumeMode"]] == nil { obj[path: ["spec", "volumeMode"]] = "Filesystem" }
        case ("apiextensions.k8s.io", "CustomResourceDefinition"):
            if obj["spec"] != nil, obj[path: ["spec", "conversion"]] == nil { obj[path: ["spec", "conversion"]] = ["strategy": "None"] }
        default:
            break
        }
    }

    static func jobSpecDefaults(_ s: inout Value) {
        if s["parallelism"] == nil { s["parallelism"] = 1 }
        if s["completions"] == nil { s["completions"] = 1 }
        if s["backoffLimit"] == nil { s["backoffLimit"] = 6 }
        if s["completionMode"] == nil { s["completionMode"] = "NonIndexed" }
        if s["suspend"] == nil { s["suspend"] = false }
        podTemplateDefaults(&s)
    }

    static func podTemplateDefaults(_ spec: inout Value) {
        guard var t = spec["template"] else { return }
        if var ps = t["spec"] {
            podSpecDefaults(&ps)
            t["spec"] = ps
        }
        spec["template"] = t
    }

    static func podSpecDefaults(_ s: inout Value) {
        for list in ["initContainers", "containers"] {
            guard var cs = s[list]?.array else { continue }
            for i in cs.indices { containerDefaults(&cs[i]) }
            s[list] = .array(cs)
        }
        if s["restartPolicy"] == nil { s["restartPolicy"] = "Always" }
        if s["terminationGracePeriodSeconds"] == nil { s["terminationGracePeriodSeconds"] = 30 }
        if s["dnsPolicy"] == nil { s["dnsPolicy"] = "ClusterFirst" }
        if s["securityContext"] == nil { s["securityContext"] = .emptyObject }
        if s["schedulerName"] == nil { s["schedulerName"] = "default-scheduler" }
    }

    static func containerDefaults(_ c: inout Value) {
        if var ports = c["ports"]?.array {
            for i in ports.indices where ports[i]["protocol"] == nil { ports[i]["protocol"] = "TCP" }
            c["ports"] = .array(ports)
        }
        if c["resources"] == nil { c["resources"] = .emptyObject }
        if c["terminationMessagePath"] == nil { c["terminationMessagePath"] = "/dev/termination-log" }
        if c["terminationMessagePolicy"] == nil { c["terminationMessagePolicy"] = "File" }
        if c["imagePullPolicy"] == nil {
            let image = c["image"]?.string ?? ""
            let last = image.split(separator: "/").last.map(String.init) ?? image
            let latest = !last.contains(":") || last.hasSuffix(":latest")
            c["imagePullPolicy"] = .string(latest && !image.contains("@") ? "Always" : "IfNotPresent")
        }
    }

    /// Values the registry strategy sets after field management (never owned by a manager).
    static func strategyFill(_ obj: inout Value, old: Value?, group: String, kind: String, allocateIP: () -> String) {
        switch (group, kind) {
        case ("", "Namespace"):
            if old == nil {
                obj[path: ["spec", "finalizers"]] = ["kubernetes"]
                obj[path: ["status", "phase"]] = "Active"
            }
        case ("", "Service"):
            var s = obj["spec"] ?? .emptyObject
            if s["clusterIP"] == nil || s["clusterIP"]?.string == "" {
                let ip = old?[path: ["spec", "clusterIP"]]?.string ?? (s["type"]?.string == "ExternalName" ? nil : allocateIP())
                if let ip { s["clusterIP"] = .string(ip) }
            }
            if let ip = s["clusterIP"]?.string, s["clusterIPs"] == nil { s["clusterIPs"] = [.string(ip)] }
            if s["ipFamilies"] == nil, s["type"]?.string != "ExternalName" { s["ipFamilies"] = ["IPv4"] }
            if s["ipFamilyPolicy"] == nil, s["type"]?.string != "ExternalName" { s["ipFamilyPolicy"] = "SingleStack" }
            if s["internalTrafficPolicy"] == nil, s["type"]?.string != "ExternalName" { s["internalTrafficPolicy"] = "Cluster" }
            obj["spec"] = s
            if obj["status"] == nil { obj["status"] = ["loadBalancer": .emptyObject] }
        case ("", "Secret"):
            if let sd = obj["stringData"]?.object {
                var data = obj["data"] ?? .emptyObject
                for (k, v) in sd { data[k] = .string(Base64.encode(Array((v.scalarText ?? "").utf8))) }
                obj["data"] = data
                obj["stringData"] = nil
            }
        case ("", "PersistentVolumeClaim"):
            if old == nil, obj[path: ["status", "phase"]] == nil { obj[path: ["status", "phase"]] = "Pending" }
        case ("apiextensions.k8s.io", "CustomResourceDefinition"):
            if old == nil {
                let stored = (obj[path: ["spec", "versions"]]?.array ?? []).filter { $0["storage"]?.bool == true }.compactMap { $0["name"] }
                obj["status"] = ["conditions": .null, "acceptedNames": ["plural": "", "kind": ""], "storedVersions": .array(stored)]
            }
        case ("", "Pod"):
            if old == nil, obj[path: ["status", "phase"]] == nil {
                obj["status"] = ["phase": "Pending", "qosClass": "BestEffort"]
            }
        case ("batch", "Job"):
            if old == nil, let uid = obj[path: ["metadata", "uid"]]?.string, obj[path: ["spec", "selector"]] == nil,
               obj[path: ["spec", "manualSelector"]]?.bool != true {
                obj[path: ["spec", "selector"]] = ["matchLabels": ["controller-uid": .string(uid)]]
                var labels = obj[path: ["spec", "template", "metadata", "labels"]] ?? .emptyObject
                labels["controller-uid"] = .string(uid)
                if let n = obj.metadataName { labels["job-name"] = .string(n) }
                obj[path: ["spec", "template", "metadata", "labels"]] = labels
            }
        default:
            break
        }
        if old == nil, obj["status"] == nil, ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "HorizontalPodAutoscaler", "PodDisruptionBudget"].contains(kind) {
            obj["status"] = .emptyObject
        }
    }

    /// Adds what the typed Go objects print although nobody set it (`creationTimestamp: null`
    /// in pod templates).
    static func render(_ obj: inout Value, kind: String) {
        if podTemplateKinds.contains(kind) && kind != "PodTemplate", obj[path: ["spec", "template"]] != nil {
            if obj[path: ["spec", "template", "metadata"]] == nil { obj[path: ["spec", "template", "metadata"]] = .emptyObject }
            obj[path: ["spec", "template", "metadata"]]?.withObject { o in
                if !o.contains("creationTimestamp") {
                    var n = Object()
                    n.append("creationTimestamp", .null)
                    for (k, v) in o { n.append(k, v) }
                    o = n
                }
            }
        }
        if kind == "CronJob", obj[path: ["spec", "jobTemplate"]] != nil {
            if obj[path: ["spec", "jobTemplate", "metadata"]] == nil { obj[path: ["spec", "jobTemplate", "metadata"]] = ["creationTimestamp": .null] }
            if obj[path: ["spec", "jobTemplate", "spec", "template"]] != nil, obj[path: ["spec", "jobTemplate", "spec", "template", "metadata"]] == nil {
                obj[path: ["spec", "jobTemplate", "spec", "template", "metadata"]] = ["creationTimestamp": .null]
            }
        }
    }

    /// Drops what clients copy from typed objects but the server never stores.
    static func stripRenderOnly(_ obj: inout Value) {
        if obj[path: ["spec", "template", "metadata", "creationTimestamp"]]?.isNull == true {
            obj[path: ["spec", "template", "metadata"]]?.withObject { _ = $0.removeValue(forKey: "creationTimestamp") }
        }
        for p in [["spec", "jobTemplate", "metadata"], ["spec", "jobTemplate", "spec", "template", "metadata"]]
        where obj[path: p + ["creationTimestamp"]]?.isNull == true {
            obj[path: p]?.withObject { _ = $0.removeValue(forKey: "creationTimestamp") }
            if obj[path: p]?.object?.isEmpty == true { obj[path: p] = nil }
        }
        if obj[path: ["metadata", "creationTimestamp"]]?.isNull == true {
            obj["metadata"]?.withObject { _ = $0.removeValue(forKey: "creationTimestamp") }
        }
    }

    // MARK: Quantities

    static let quantityMapKeys: Set<String> = ["requests", "limits", "hard", "capacity", "allocatable", "overhead"]

    /// Rewrites every quantity under `requests`/`limits`/`hard`/… in canonical form
    /// (`0.1` → `100m`, `1024Mi` → `1Gi`), as the API server's Quantity type does.
    static func canonicalizeQuantities(_ v: inout Value, underQuantityMap: Bool = false) {
        switch v.kind {
        case .object:
            v.withObject { o in
                for k in o.keys {
                    o.modify(k) { child in
                        guard var c = child else { return }
                        if underQuantityMap, c.isScalar, !c.isNull {
                            if let q = Quantity(c.scalarText ?? "") { c = .string(q.canonical) }
                        } else {
                            canonicalizeQuantities(&c, underQuantityMap: quantityMapKeys.contains(k) && c.object != nil)
                        }
                        child = c
                    }
                }
            }
        case .array:
            v.withArray { a in for i in a.indices { canonicalizeQuantities(&a[i]) } }
        default: break
        }
    }

    // MARK: Validation

    static let subdomainMessage = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    static let labelMessage = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    static let dns1035Message = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"

    static func isLabel(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard !u.isEmpty, u.count <= 63 else { return false }
        func alnum(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 48 && c <= 57) }
        return alnum(u.first!) && alnum(u.last!) && u.allSatisfy { alnum($0) || $0 == UInt8(ascii: "-") }
    }

    /// `IsDNS1123Subdomain`'s regex and its 253-character limit. The dot-separated parts are
    /// not limited to 63 characters each (the regex does not limit them), so a ConfigMap may
    /// be named with 253 characters and no dot.
    static func isSubdomain(_ s: String) -> Bool {
        s.utf8.count <= 253 && subdomainShape(s)
    }

    static func subdomainShape(_ s: String) -> Bool {
        func alnum(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 48 && c <= 57) }
        return !s.isEmpty && s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { part in
            let u = Array(part.utf8)
            return !u.isEmpty && alnum(u.first!) && alnum(u.last!) && u.allSatisfy { alnum($0) || $0 == UInt8(ascii: "-") }
        }
    }

    static func isDNS1035(_ s: String) -> Bool {
        guard let f = s.utf8.first, f >= 97, f <= 122 else { return false }
        return isLabel(s)
    }

    struct Cause { var field: String; var message: String; var reason: String = "FieldValueInvalid" }

    /// Validation errors (422 Invalid causes) for an object about to be stored.
    static func validateName(_ name: String, info: ResourceInfo) -> [Cause] {
        var causes: [Cause] = []
        if name.isEmpty {
            causes.append(Cause(field: "metadata.name", message: "Required value: name or generateName is required", reason: "FieldValueRequired"))
        } else if info.group.isEmpty && (info.resource == "namespaces") {
            if !isLabel(name) { causes.append(Cause(field: "metadata.name", message: "Invalid value: \"\(name)\": \(labelMessage)")) }
        } else if info.group.isEmpty && info.resource == "services" {
            if !isDNS1035(name) { causes.append(Cause(field: "metadata.name", message: "Invalid value: \"\(name)\": \(dns1035Message)")) }
        } else if !info.group.hasPrefix("rbac.") && !isSubdomain(name) {
            causes.append(Cause(field: "metadata.name", message: "Invalid value: \"\(name)\": \(subdomainMessage)"))
        }
        return causes
    }

    /// Validation errors (422 Invalid causes) for an object about to be stored.
    static func validate(_ obj: Value, info: ResourceInfo) -> [Cause] {
        let name = obj.metadataName ?? ""
        var causes: [Cause] = []
        if !(name.isEmpty && obj[path: ["metadata", "generateName"]] != nil) { causes = validateName(name, info: info) }
        for (k, v) in obj.labels {
            if let s = v.string, s.utf8.count > 63 {
                causes.append(Cause(field: "metadata.labels", message: "Invalid value: \"\(s)\": must be no more than 63 characters"))
            }
            if k.isEmpty { causes.append(Cause(field: "metadata.labels", message: "Invalid value: \"\": name part must be non-empty")) }
        }
        switch (info.group, info.kind) {
        case ("apps", "Deployment"), ("apps", "StatefulSet"), ("apps", "DaemonSet"), ("apps", "ReplicaSet"):
            let sel = obj[path: ["spec", "selector"]]
            if sel == nil || sel!.isNull {
                causes.append(Cause(field: "spec.selector", message: "Required value", reason: "FieldValueRequired"))
            } else if let ml = sel?["matchLabels"]?.object {
                let tl = obj[path: ["spec", "template", "metadata", "labels"]]?.object ?? Object()
                if !ml.allSatisfy({ tl[$0.0] == $0.1 }) {
                    let m = "{" + tl.sortedByKey.map { "\"\($0.key)\":\"\($0.value.scalarText ?? "")\"" }.joined(separator: ", ") + "}"
                    causes.append(Cause(field: "spec.template.metadata.labels",
                                        message: "Invalid value: map[string]string\(m): `selector` does not match template `labels`"))
                }
            }
            causes += containerCauses(obj[path: ["spec", "template", "spec"]], prefix: "spec.template.spec")
        case ("", "Pod"):
            causes += containerCauses(obj["spec"], prefix: "spec")
        case ("apiextensions.k8s.io", "CustomResourceDefinition"):
            let plural = obj[path: ["spec", "names", "plural"]]?.string ?? ""
            let group = obj[path: ["spec", "group"]]?.string ?? ""
            if name != "\(plural).\(group)" {
                causes.append(Cause(field: "metadata.name", message: "Invalid value: \"\(name)\": must be spec.names.plural+\".\"+spec.group"))
            }
        default:
            break
        }
        return causes
    }

    /// Go's `%#v` of a LabelSelector, as immutability messages print it.
    static func goLabelSelector(_ v: Value?) -> String {
        let ml = v?["matchLabels"]?.object
        let labels = ml.map { "map[string]string{" + $0.sortedByKey.map { "\"\($0.key)\":\"\($0.value.scalarText ?? "")\"" }.joined(separator: ", ") + "}" }
            ?? "map[string]string(nil)"
        let exprs = v?["matchExpressions"]?.array
        let e = exprs.map { "[]v1.LabelSelectorRequirement{" + $0.map { r in
            "v1.LabelSelectorRequirement{Key:\"\(r["key"]?.string ?? "")\", Operator:\"\(r["operator"]?.string ?? "")\", Values:[]string{"
                + (r["values"]?.array ?? []).map { "\"\($0.scalarText ?? "")\"" }.joined(separator: ", ") + "}}"
        }.joined(separator: ", ") + "}" } ?? "[]v1.LabelSelectorRequirement(nil)"
        return "v1.LabelSelector{MatchLabels:\(labels), MatchExpressions:\(e)}"
    }

    /// Update-only validation: immutable fields of the modelled kinds (422 Invalid).
    static func validateUpdate(old: Value, new: Value, info: ResourceInfo) -> [Cause] {
        var causes: [Cause] = []
        switch (info.group, info.kind) {
        case ("apps", "Deployment"), ("apps", "ReplicaSet"), ("apps", "DaemonSet"):
            if old[path: ["spec", "selector"]] != new[path: ["spec", "selector"]] {
                causes.append(Cause(field: "spec.selector", message: "Invalid value: \(goLabelSelector(new[path: ["spec", "selector"]])): field is immutable"))
            }
        case ("apps", "StatefulSet"):
            var o = old["spec"] ?? .emptyObject, n = new["spec"] ?? .emptyObject
            for k in ["replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"] {
                o[k] = nil; n[k] = nil
            }
            if o != n {
                causes.append(Cause(field: "spec", message: "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden", reason: "FieldValueForbidden"))
            }
        case ("batch", "Job"):
            if old[path: ["spec", "selector"]] != new[path: ["spec", "selector"]] {
                causes.append(Cause(field: "spec.selector", message: "Invalid value: \(goLabelSelector(new[path: ["spec", "selector"]])): field is immutable"))
            }
            if old[path: ["spec", "template"]] != new[path: ["spec", "template"]] {
                causes.append(Cause(field: "spec.template", message: "Invalid value: core.PodTemplateSpec{…}: field is immutable"))
            }
            if old[path: ["spec", "completions"]] != new[path: ["spec", "completions"]] {
                causes.append(Cause(field: "spec.completions", message: "Invalid value: \(new[path: ["spec", "completions"]]?.scalarText ?? "nil"): field is immutable"))
            }
        case ("", "Service"):
            if let o = old[path: ["spec", "clusterIP"]]?.string, !o.isEmpty, let n = new[path: ["spec", "clusterIP"]]?.string, n != o {
                causes.append(Cause(field: "spec.clusterIP", message: "Invalid value: \"\(n)\": field is immutable"))
            }
        case ("", "ConfigMap"), ("", "Secret"):
            if old["immutable"]?.bool == true {
                for k in ["data", "binaryData"] where old[k] != new[k] {
                    causes.append(Cause(field: k, message: "Forbidden: field is immutable when `immutable` is set", reason: "FieldValueForbidden"))
                }
                if new["immutable"]?.bool != true {
                    causes.append(Cause(field: "immutable", message: "Forbidden: field is immutable when `immutable` is set", reason: "FieldValueForbidden"))
                }
            }
        case ("rbac.authorization.k8s.io", "RoleBinding"), ("rbac.authorization.k8s.io", "ClusterRoleBinding"):
            if let o = old["roleRef"], o != new["roleRef"] {
                let r = new["roleRef"]
                causes.append(Cause(field: "roleRef", message: "Invalid value: rbac.RoleRef{APIGroup:\"\(r?["apiGroup"]?.string ?? "")\", Kind:\"\(r?["kind"]?.string ?? "")\", Name:\"\(r?["name"]?.string ?? "")\"}: cannot change roleRef"))
            }
        case ("", "PersistentVolumeClaim"):
            var o = old["spec"] ?? .emptyObject, n = new["spec"] ?? .emptyObject
            o[path: ["resources", "requests", "storage"]] = nil; n[path: ["resources", "requests", "storage"]] = nil
            if o != n {
                causes.append(Cause(field: "spec", message: "Forbidden: spec is immutable after creation except resources.requests for bound claims", reason: "FieldValueForbidden"))
            }
        default:
            break
        }
        return causes
    }

    static func containerCauses(_ podSpec: Value?, prefix: String) -> [Cause] {
        guard let podSpec else { return [Cause(field: "\(prefix).containers", message: "Required value", reason: "FieldValueRequired")] }
        let cs = podSpec["containers"]?.array ?? []
        if cs.isEmpty { return [Cause(field: "\(prefix).containers", message: "Required value", reason: "FieldValueRequired")] }
        var out: [Cause] = []
        for (i, c) in cs.enumerated() {
            if (c["name"]?.string ?? "").isEmpty {
                out.append(Cause(field: "\(prefix).containers[\(i)].name", message: "Required value", reason: "FieldValueRequired"))
            }
            if (c["image"]?.string ?? "").isEmpty {
                out.append(Cause(field: "\(prefix).containers[\(i)].image", message: "Required value", reason: "FieldValueRequired"))
            }
        }
        return out
    }
}

/// A Kubernetes resource quantity, enough to print the canonical form.
struct Quantity {
    /// value = digits × 10^scale
    var digits: Int
    var scale: Int
    var binary: Bool

    init?(_ text: String) {
        var s = Substring(text.trimmingSpaces)
        guard !s.isEmpty else { return nil }
        var negative = false
        if s.first == "+" || s.first == "-" { negative = s.first == "-"; s = s.dropFirst() }
        var intPart = "", frac = ""
        var seenDot = false
        while let c = s.first, c.isASCII, c.isNumber || c == "." {
            if c == "." { if seenDot { return nil }; seenDot = true } else if seenDot { frac.append(c) } else { intPart.append(c) }
            s = s.dropFirst()
        }
        guard !(intPart.isEmpty && frac.isEmpty) else { return nil }
        let suffix = String(s)
        var exp10 = 0, pow1024 = 0
        binary = false
        switch suffix {
        case "": break
        case "n": exp10 = -9
        case "u": exp10 = -6
        case "m": exp10 = -3
        case "k": exp10 = 3
        case "M": exp10 = 6
        case "G": exp10 = 9
        case "T": exp10 = 12
        case "P": exp10 = 15
        case "E": exp10 = 18
        case "Ki": pow1024 = 1; binary = true
        case "Mi": pow1024 = 2; binary = true
        case "Gi": pow1024 = 3; binary = true
        case "Ti": pow1024 = 4; binary = true
        case "Pi": pow1024 = 5; binary = true
        case "Ei": pow1024 = 6; binary = true
        default:
            if (suffix.first == "e" || suffix.first == "E"), let e = Int(suffix.dropFirst()) { exp10 = e } else { return nil }
        }
        guard let d = Int(intPart + frac) else { return nil }
        var digits = d
        var scale = exp10 - frac.count
        for _ in 0..<pow1024 {
            let (m, o) = digits.multipliedReportingOverflow(by: 1024)
            if o { return nil }
            digits = m
        }
        if negative { digits = -digits }
        while digits != 0 && digits % 10 == 0 { digits /= 10; scale += 1 }
        if digits == 0 { scale = 0 }
        // Outside what a Quantity can express exactly: leave the text alone.
        guard scale >= -9, scale <= 36 else { return nil }
        self.digits = digits
        self.scale = scale
    }

    var canonical: String {
        if digits == 0 { return "0" }
        if binary, scale >= 0 {
            var value = digits
            var ok = true
            for _ in 0..<scale {
                let (m, o) = value.multipliedReportingOverflow(by: 10)
                if o { ok = false; break }
                value = m
            }
            if ok && abs(value) >= 1024 {
                let suffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
                var k = 0
                while k < 6 && value % 1024 == 0 && abs(value) >= 1024 { value /= 1024; k += 1 }
                return "\(value)\(suffixes[k])"
            }
        }
        var e = scale >= 0 ? (scale / 3) * 3 : -(((-scale) + 2) / 3) * 3
        if e > 18 { e = 18 }
        if e < -9 { e = -9 }
        var mantissa = digits
        for _ in 0..<max(0, scale - e) {
            let (m, o) = mantissa.multipliedReportingOverflow(by: 10)
            if o { return "\(digits)e\(scale)" }
            mantissa = m
        }
        let suffix: String
        switch e {
        case -9: suffix = "n"
        case -6: suffix = "u"
        case -3: suffix = "m"
        case 0: suffix = ""
        case 3: suffix = "k"
        case 6: suffix = "M"
        case 9: suffix = "G"
        case 12: suffix = "T"
        case 15: suffix = "P"
        default: suffix = "E"
        }
        return "\(mantissa)\(suffix)"
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
