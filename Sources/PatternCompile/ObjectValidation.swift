import PatternCore

/// Sanity checks on rendered objects: apiVersion/kind present, valid names, namespaced vs
/// cluster-scoped kinds, and no object identity produced twice.
public enum ObjectValidation {
    static let dnsLabelNameKinds: Set<String> = ["Namespace", "Service"]
    static let pathSegmentNameGroups: Set<String> = ["rbac.authorization.k8s.io"]
    static let namespacedBuiltins: Set<String> = [
        "ConfigMap", "Secret", "Service", "ServiceAccount", "Pod", "PersistentVolumeClaim", "Endpoints", "Event",
        "LimitRange", "ResourceQuota", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob",
        "Role", "RoleBinding", "Ingress", "NetworkPolicy", "PodDisruptionBudget", "HorizontalPodAutoscaler", "Lease",
    ]

    public static func check(_ objects: [RenderedObject]) -> [Diagnostic] {
        var out: [Diagnostic] = []
        // Scopes declared by CRDs in the same render.
        var crdScopes: [GroupKind: Bool] = [:]  // true = namespaced
        for o in objects where o.key.kind == "CustomResourceDefinition" {
            if let g = o.object[path: ["spec", "group"]]?.string, let k = o.object[path: ["spec", "names", "kind"]]?.string {
                crdScopes[GroupKind(group: g, kind: k)] = o.object[path: ["spec", "scope"]]?.string != "Cluster"
            }
        }
        // Each object alone on all cores; then identities across objects, in render order.
        let scopes = crdScopes
        let checked = ParallelMap.map(objects) { o in checkOne(o, crdScopes: scopes) }
        var seen: [ObjectKey: Int] = [:]
        seen.reserveCapacity(objects.count)
        for (i, o) in objects.enumerated() {
            out += checked[i].diagnostics
            guard checked[i].complete else { continue }
            if let p = seen[o.key] {
                let prev = objects[p]
                out.append(.error("\(o.key) is defined twice (components '\(prev.component)' and '\(o.component)')",
                                  at: SourceLocation(file: o.file, mark: o.object.mark),
                                  fix: "remove one definition, or patch the existing object instead of redefining it",
                                  related: [SourceLocation(file: prev.file, mark: prev.object.mark)]))
            } else {
                seen[o.key] = i
            }
        }
        return out
    }

    /// The checks of one object; `complete` is false when a missing or invalid identity
    /// stopped them (the object then takes no part in the duplicate check).
    static func checkOne(_ o: RenderedObject, crdScopes: [GroupKind: Bool]) -> (diagnostics: [Diagnostic], complete: Bool) {
        var out: [Diagnostic] = []
        let v = o.object
        let at = SourceLocation(file: o.file, mark: v.mark)
        guard let apiVersion = v.apiVersion, !apiVersion.isEmpty else {
            out.append(.error("object has no apiVersion", at: at, fix: "add e.g. 'apiVersion: v1'")); return (out, false)
        }
        guard let kind = v.kindName, !kind.isEmpty else {
            out.append(.error("object has no kind", at: at, fix: "add e.g. 'kind: ConfigMap'")); return (out, false)
        }
        guard let name = v.metadataName, !name.isEmpty else {
            out.append(.error("\(kind) has no metadata.name", at: at, fix: "add metadata.name")); return (out, false)
        }
        let nameAt = SourceLocation(file: o.file, mark: v[path: ["metadata", "name"]]?.mark ?? v.mark)
        let gvk = GroupVersionKind(apiVersion: apiVersion, kind: kind)
        // Kind, group and version become file and URL path segments: refuse anything the
        // API server would refuse (CRD names.kind: a DNS-1035 label in mixed case).
        if !isKindName(kind) {
            out.append(.error("kind '\(kind)' is not a valid Kubernetes kind", at: SourceLocation(file: o.file, mark: v["kind"]?.mark ?? v.mark),
                              fix: "use letters, digits and '-', starting with a letter (e.g. ConfigMap)"))
            return (out, false)
        }
        if !isAPIVersion(apiVersion) {
            out.append(.error("apiVersion '\(apiVersion)' is not <group>/<version> or <version>",
                              at: SourceLocation(file: o.file, mark: v["apiVersion"]?.mark ?? v.mark),
                              fix: "use e.g. 'v1' or 'apps/v1'; the group is a DNS subdomain, the version a lowercase label"))
            return (out, false)
        }
        if dnsLabelNameKinds.contains(kind) && gvk.group.isEmpty {
            if !isDNSLabel(name) {
                out.append(.error("\(kind) name '\(name)' is not a valid DNS-1123 label", at: nameAt,
                                  fix: "use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"))
            }
        } else if pathSegmentNameGroups.contains(gvk.group) {
            if name.contains("/") || name.contains("%") || name == "." || name == ".." {
                out.append(.error("\(kind) name '\(name)' may not contain '/' or '%'", at: nameAt, fix: "rename the object"))
            }
        } else if !isDNSSubdomain(name) {
            out.append(.error("\(kind) name '\(name)' is not a valid DNS-1123 subdomain", at: nameAt,
                              fix: "use lowercase letters, digits, '-' and '.', at most 253 characters"))
        }
        let ns = v.metadataNamespace ?? ""
        if !ns.isEmpty && !isDNSLabel(ns) {
            out.append(.error("namespace '\(ns)' is not a valid DNS-1123 label", at: SourceLocation(file: o.file, mark: v[path: ["metadata", "namespace"]]?.mark ?? v.mark)))
        }
        let gk = gvk.groupKind
        let clusterScoped = KindTable.isClusterScoped(gk) || crdScopes[gk] == false
        let namespaced = (gvk.group.isEmpty || ["apps", "batch", "networking.k8s.io", "policy", "autoscaling", "coordination.k8s.io"].contains(gvk.group)
                          || gvk.group == "rbac.authorization.k8s.io") && namespacedBuiltins.contains(kind) || crdScopes[gk] == true
        if clusterScoped && !ns.isEmpty {
            out.append(.error("\(kind) \(name) is cluster-scoped but sets namespace '\(ns)'",
                              at: SourceLocation(file: o.file, mark: v[path: ["metadata", "namespace"]]?.mark ?? v.mark),
                              fix: "remove metadata.namespace"))
        }
        if namespaced && ns.isEmpty {
            out.append(.error("\(kind) \(name) is namespaced but has no namespace", at: at,
                              fix: "set metadata.namespace, or 'namespace:' in the component's kustomization.yaml"))
        }
        if let data = v["data"], kind == "Secret" && gvk.group.isEmpty, let o2 = data.object {
            for (k, val) in o2 where !(val.string.map(isBase64) ?? false) {
                // Never print the value.
                out.append(.error("Secret \(name) data key '\(k)' is not valid base64", at: SourceLocation(file: o.file, mark: val.mark),
                                  fix: "base64-encode it, or move it to stringData"))
            }
        }
        return (out, true)
    }

    static let dependsOnAnnotation = "config.kubernetes.io/depends-on"

    /// `config.kubernetes.io/depends-on` checked at compile time: malformed references and
    /// cycles among rendered objects are errors at the annotation's file:line:column (apply
    /// would refuse them later without a location). References to objects outside the render
    /// are left to apply (they may exist in the cluster).
    public static func checkDependsOn(_ objects: [RenderedObject]) -> [Diagnostic] {
        var out: [Diagnostic] = []
        // Which objects carry the annotation, on all cores; most renders have none, and then
        // there is nothing to index.
        let carriers = ParallelMap.map(objects) { $0.object.annotations[dependsOnAnnotation] != nil }
        guard carriers.contains(true) else { return [] }
        var index: [ObjectKey: Int] = [:]
        index.reserveCapacity(objects.count)
        for (i, o) in objects.enumerated() where index[o.key] == nil { index[o.key] = i }
        var edges: [[Int]] = Array(repeating: [], count: objects.count)
        var annotated: [Int] = []
        for (i, o) in objects.enumerated() where carriers[i] {
            guard let a = o.object.annotations[dependsOnAnnotation] else { continue }
            let at = SourceLocation(file: o.file, mark: a.mark.isKnown ? a.mark : o.object.mark)
            guard let text = a.string else {
                out.append(.error("\(dependsOnAnnotation) must be a string", at: at)); continue
            }
            annotated.append(i)
            for raw in text.split(separator: ",") {
                let ref = raw.split(separator: " ", omittingEmptySubsequences: true).joined()
                if ref.isEmpty { continue }
                let parts = ref.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
                let key: ObjectKey
                if parts.count == 5 && parts[1] == "namespaces" && !parts[2].isEmpty && !parts[3].isEmpty && !parts[4].isEmpty {
                    key = ObjectKey(group: parts[0], kind: parts[3], namespace: parts[2], name: parts[4])
                } else if parts.count == 3 && !parts[1].isEmpty && !parts[2].isEmpty {
                    key = ObjectKey(group: parts[0], kind: parts[1], namespace: "", name: parts[2])
                } else {
                    out.append(.error("invalid \(dependsOnAnnotation) reference \"\(ref)\"", at: at,
                                      fix: "write <group>/namespaces/<namespace>/<kind>/<name> or <group>/<kind>/<name> (core group empty, e.g. /namespaces/app/ConfigMap/cfg)"))
                    continue
                }
                if let j = index[key] { edges[i].append(j) }
            }
        }
        // Iterative depth-first search (no recursion: renders can hold many objects).
        var state = [UInt8](repeating: 0, count: objects.count)  // 1 on the stack, 2 done
        for start in annotated where state[start] == 0 {
            var stack: [(node: Int, next: Int)] = [(start, 0)]
            state[start] = 1
            while let top = stack.last {
                if top.next < edges[top.node].count {
                    stack[stack.count - 1].next += 1
                    let n = edges[top.node][top.next]
                    if state[n] == 1 {
                        let from = stack.firstIndex { $0.node == n } ?? 0
                        let cycle = stack[from...].map { objects[$0.node].key.description } + [objects[n].key.description]
                        let o = objects[n]
                        let mark = o.object.annotations[dependsOnAnnotation]?.mark ?? o.object.mark
                        out.append(.error("\(dependsOnAnnotation) annotations form a cycle: \(cycle.joined(separator: " → "))",
                                          at: SourceLocation(file: o.file, mark: mark.isKnown ? mark : o.object.mark),
                                          fix: "remove one of the depends-on references; objects in a cycle could never be applied"))
                        return out
                    }
                    if state[n] == 0 { state[n] = 1; stack.append((n, 0)) }
                } else {
                    state[top.node] = 2
                    stack.removeLast()
                }
            }
        }
        return out
    }

    /// A Kubernetes kind: a DNS-1035 label in mixed case (letters, digits, '-'; starts with a
    /// letter, ends with a letter or digit; at most 63 characters).
    public static func isKindName(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { u in
            guard let first = u.first, let last = u.last, u.count <= 63 else { return false }
            @inline(__always) func letter(_ c: UInt8) -> Bool { (c &- 65) < 26 || (c &- 97) < 26 }
            @inline(__always) func digit(_ c: UInt8) -> Bool { (c &- 48) < 10 }
            guard letter(first), letter(last) || digit(last) else { return false }
            for c in u where !letter(c) && !digit(c) && c != UInt8(ascii: "-") { return false }
            return true
        }
    }

    /// `<version>` or `<group>/<version>`: group a DNS-1123 subdomain, version a DNS-1123 label.
    public static func isAPIVersion(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { u in
            guard let slash = u.firstIndex(of: UInt8(ascii: "/")) else { return DNSName.isLabel(u[...]) }
            let version = u[(slash + 1)...]
            guard !version.contains(UInt8(ascii: "/")) else { return false }
            return DNSName.isSubdomain(u[..<slash]) && DNSName.isLabel(version)
        }
    }

    static func isBase64(_ s: String) -> Bool {
        var n = 0
        var pad = 0
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "+"), UInt8(ascii: "/"):
                if pad > 0 { return false }
                n += 1
            case UInt8(ascii: "="): pad += 1; n += 1
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"): continue
            default: return false
            }
        }
        return n % 4 == 0 && pad <= 2
    }
}

/// Sorts objects into apply order: kind rank (CRDs, namespaces, … webhooks last), then
/// namespace, name and group, so the order never depends on file layout.
public enum ApplyOrder {
    public static func sorted(_ objects: [RenderedObject]) -> [RenderedObject] {
        // Each kind's rank looked up once per object (on all cores), not twice per comparison.
        let ranks = ParallelMap.map(objects) { KindTable.applyRank($0.key.kind) }
        let order = objects.indices.sorted { i, j in
            let a = objects[i].key, b = objects[j].key
            if ranks[i] != ranks[j] { return ranks[i] < ranks[j] }
            if a.kind != b.kind { return a.kind < b.kind }
            return (a.namespace, a.name, a.group) < (b.namespace, b.name, b.group)
        }
        return order.map { objects[$0] }
    }
}

/// Adds ownership labels and provenance annotations and computes the rendered revision.
enum Provenancing {
    /// Returns the revision: `sha256:` over each object's content digest (`ObjectDigest`: its
    /// JSON with sorted keys, bookkeeping annotations left out), which stays with the object for
    /// the applied hash. Per-object work runs on all cores.
    static func label(_ objects: inout [RenderedObject], pattern: String, site: String, provenance: Provenance) -> String {
        // In place: the objects are held only by `objects`, so labelling copies no tree.
        let digests = ParallelMap.update(&objects) { o -> ObjectDigest in
            setLabels(&o.object, component: o.component, pattern: pattern, site: site, provenance: provenance)
            return o.digestContent()
        }
        var hasher = SHA256()
        for digest in digests { hasher.update(digest.bytes) }
        let revision = "sha256:" + hasher.finalize().hexString
        _ = ParallelMap.update(&objects) { o in o.setBookkeepingAnnotation(PatternLabels.revision, revision) }
        return revision
    }

    /// Ownership labels and provenance annotations, in one in-place pass.
    static func setLabels(_ v: inout Value, component: String, pattern: String, site: String, provenance: Provenance) {
        v.withObject { o in
            o.modify("metadata") { m in
                if m == nil { m = .emptyObject }
                m!.withObject { mo in
                    mo.modify("labels") { l in
                        if l == nil || l!.object == nil { l = .emptyObject }
                        l!.withObject { lo in
                            lo.set(PatternLabels.managedBy, .string(PatternLabels.managedByValue))
                            lo.set(PatternLabels.pattern, .string(pattern))
                            lo.set(PatternLabels.site, .string(site))
                            lo.set(PatternLabels.component, .string(component))
                        }
                    }
                    if let commit = provenance.commit {
                        mo.modify("annotations") { a in
                            if a == nil || a!.object == nil { a = .emptyObject }
                            a!.withObject { ao in
                                ao.set(PatternLabels.source, .string(provenance.source))
                                ao.set(PatternLabels.sourceCommit, .string(commit))
                            }
                        }
                    }
                }
            }
        }
    }
}
