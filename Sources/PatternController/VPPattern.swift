import PatternCore
import KubeClient

/// The Validated Patterns operator's `Pattern` (`gitops.hybrid-cloud-patterns.io/v1alpha1`),
/// served on the PatternSync machinery: for each Pattern the controller keeps a PatternSync of
/// the same name and namespace (owned by the Pattern, so deleting the Pattern deletes it), and
/// mirrors that PatternSync's status back into the status fields the operator's users read
/// (`lastStep`, `lastError`, `conditions`). See Docs/validated-patterns.md for what is and is
/// not carried over.
public enum VPPattern {
    public static let group = "gitops.hybrid-cloud-patterns.io"
    public static let gvk = GroupVersionKind(group: group, version: "v1alpha1", kind: "Pattern")
    /// Label on the PatternSyncs made for a Pattern (value: the Pattern's name).
    public static let fromLabel = "pattern.dev/from-vp-pattern"
    public static let fieldManager = "pattern-controller"
    /// The operator re-reads git every 180 seconds.
    public static let interval = "3m"

    /// The PatternSync (an apply body) for `pattern`; a `SpecError` names the field to fix.
    ///
    /// `spec.gitSpec.targetRepo` → `source.git.url`, `targetRevision` → `ref`, `tokenSecret` (in
    /// the Pattern's namespace) → `credentialsSecretRef`; `spec.variant`/`clusterGroupName` →
    /// `site` (the hub site of the checkout); `gitOpsSpec.manualSync: true` → `suspend: true`;
    /// otherwise `driftPolicy: heal` (the operator's clustergroup Application self-heals) and
    /// `prune: false` (it does not prune).
    public static func patternSync(for pattern: Value) throws(SpecError) -> Value {
        guard let name = pattern.metadataName, let namespace = pattern.metadataNamespace else {
            throw SpecError("the Pattern has no name or namespace")
        }
        let spec = pattern["spec"] ?? .emptyObject
        guard let url = spec[path: ["gitSpec", "targetRepo"]]?.string, !url.isEmpty else {
            throw SpecError("spec.gitSpec.targetRepo is required: the URL of the pattern's git repository (your fork)")
        }
        let site = [spec["variant"]?.string, spec["clusterGroupName"]?.string].compactMap { $0 }.first { !$0.isEmpty }
        guard let site else {
            throw SpecError("spec.clusterGroupName is required: the clusterGroup this cluster renders (main.clusterGroupName of values-global.yaml)")
        }
        var git: Value = ["url": .string(url)]
        if let rev = spec[path: ["gitSpec", "targetRevision"]]?.string, !rev.isEmpty, rev != "HEAD" { git["ref"] = .string(rev) }
        if let secret = spec[path: ["gitSpec", "tokenSecret"]]?.string, !secret.isEmpty {
            let ns = spec[path: ["gitSpec", "tokenSecretNamespace"]]?.string ?? ""
            guard ns.isEmpty || ns == namespace else {
                throw SpecError("spec.gitSpec.tokenSecretNamespace '\(ns)' differs from the Pattern's namespace '\(namespace)'; the controller reads credentials only from the resource's own namespace: copy the Secret to '\(namespace)'")
            }
            git["credentialsSecretRef"] = ["name": .string(secret)]
        }
        let manual = spec[path: ["gitOpsSpec", "manualSync"]]?.bool == true
        var owner: Value = ["apiVersion": .string(gvk.apiVersion), "kind": .string(gvk.kind), "name": .string(name), "controller": true]
        if let uid = pattern[path: ["metadata", "uid"]]?.string { owner["uid"] = .string(uid) }
        return [
            "apiVersion": .string(PatternSyncSpec.gvk.apiVersion), "kind": .string(PatternSyncSpec.kind),
            "metadata": ["name": .string(name), "namespace": .string(namespace), "labels": [fromLabel: .string(name)],
                         "ownerReferences": [owner]],
            "spec": ["source": ["git": git], "site": .string(site), "interval": .string(interval),
                     "driftPolicy": .string(manual ? "report" : "heal"), "prune": false, "suspend": .bool(manual)],
        ]
    }

    /// The Pattern status for a PatternSync status: `lastStep` (the Ready message), `lastError`,
    /// and conditions in the operator's types — SourceReady → `GitInSync`/`GitOutOfSync`, Ready →
    /// `Synced` or `Degraded`, Drifted → `OutOfSync`, Reconciling → `Progressing` or `Suspended`.
    public static func patternStatus(from sync: Value, previous: Value) -> Value {
        var st = previous.object == nil ? Value.emptyObject : previous
        func cond(_ type: String) -> Value? { sync["conditions"]?.array?.first { $0["type"]?.string == type } }
        func isTrue(_ c: Value?) -> Bool { c?["status"]?.string == "True" }
        var out: [Value] = []
        func add(_ type: String, _ from: Value?) {
            guard let from else { return }
            let time = from["lastTransitionTime"] ?? .string(Timestamp.rfc3339())
            out.append(["type": .string(type), "status": "True", "lastUpdateTime": time, "lastTransitionTime": time,
                        "message": from["message"] ?? ""])
        }
        if let s = cond("SourceReady") { add(isTrue(s) ? "GitInSync" : "GitOutOfSync", s) }
        if let r = cond("Ready") { add(isTrue(r) ? "Synced" : "Degraded", r) }
        if let d = cond("Drifted"), isTrue(d) { add("OutOfSync", d) }
        if let p = cond("Reconciling") {
            if p["reason"]?.string == "Suspended" { add("Suspended", p) } else if isTrue(p) { add("Progressing", p) }
        }
        st["conditions"] = .array(out)
        if let m = cond("Ready")?["message"]?.string { st["lastStep"] = .string(m) }
        // A merge patch deletes with null: clear an old error explicitly.
        if let e = sync["lastError"]?.string { st["lastError"] = .string(e) } else if previous["lastError"] != nil { st["lastError"] = .null }
        return st
    }

    /// One pass: every Pattern gets its PatternSync (server-side apply; a Pattern that cannot
    /// be mapped gets `lastError` and a `Degraded` condition instead), and every such
    /// PatternSync's status is mirrored onto its Pattern (written only when it changed).
    public static func syncOnce(client: KubeClient, namespace: String?) async throws(KubeError) {
        let patterns = try await client.list(gvk, namespace: namespace).items
        var byKey: [String: Value] = [:]
        for p in patterns {
            byKey["\(p.metadataNamespace ?? "")/\(p.metadataName ?? "")"] = p
            let body: Value
            do { body = try patternSync(for: p) } catch {
                var st = p["status"] ?? .emptyObject
                guard st["lastError"]?.string != error.message else { continue }
                st["lastError"] = .string(error.message)
                st["conditions"] = [["type": "Degraded", "status": "True", "message": .string(error.message),
                                     "lastUpdateTime": .string(Timestamp.rfc3339()), "lastTransitionTime": .string(Timestamp.rfc3339())]]
                try await writeStatus(p, st, client: client)
                continue
            }
            _ = try await client.apply(body, fieldManager: fieldManager, force: true)
        }
        let syncs = try await client.list(PatternSyncSpec.gvk, namespace: namespace, labelSelector: fromLabel).items
        for s in syncs {
            guard let p = byKey["\(s.metadataNamespace ?? "")/\(s[path: ["metadata", "labels", fromLabel]]?.string ?? "")"],
                  let syncStatus = s["status"] else { continue }
            let previous = p["status"] ?? .emptyObject
            let st = patternStatus(from: syncStatus, previous: previous)
            if st != previous { try await writeStatus(p, st, client: client) }
        }
    }

    static func writeStatus(_ pattern: Value, _ status: Value, client: KubeClient) async throws(KubeError) {
        _ = try await client.patch(gvk, name: pattern.metadataName ?? "", namespace: pattern.metadataNamespace,
                                   patch: ["status": status], type: .merge, fieldManager: fieldManager, subresource: "status")
    }
}

extension PatternController {
    /// Serves Validated Patterns `Pattern` resources while this instance leads: a pass every
    /// 10 seconds (new Patterns get their PatternSync, statuses are mirrored); a cheap discovery
    /// check every minute while the Pattern CRD is not installed.
    func serveVPPatterns() async {
        var served = false
        while !Task.isCancelled && !isShuttingDown {
            let resources = try? await client.groupVersionResources(VPPattern.gvk.apiVersion, refresh: !served)
            served = resources?.contains { $0.kind == VPPattern.gvk.kind } ?? false
            if served {
                do { try await VPPattern.syncOnce(client: client, namespace: configuration.namespace) } catch {
                    logger.warning("cannot serve Validated Patterns Pattern resources", metadata: ["error": "\(error)"])
                }
            }
            await stopSignal.sleep(served ? 10 : 60)
        }
    }
}
